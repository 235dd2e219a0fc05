-- COMPLETE_FIELDS: the run hash fields completeOf reads, in its argument order.
local COMPLETE_FIELDS = {'state', 'pagesPlanned', 'pagesDone', 'discovered', 'fetched', 'notFound', 'failed'}
-- completeOf(state, planned, done, discovered, fetched, notFound, failed): 1 when the run is
-- running, every planned page is done and every discovered id is terminal (fetched, not found or
-- failed); else 0. Counts are numbers or nil (0).
local function completeOf(state, planned, done, discovered, fetched, notFound, failed)
  if state ~= 'running' then return 0 end
  planned = tonumber(planned or '0')
  if planned == 0 or planned ~= tonumber(done or '0') then return 0 end
  if tonumber(discovered or '0') ~= tonumber(fetched or '0') + tonumber(notFound or '0') + tonumber(failed or '0') then return 0 end
  return 1
end
-- complete(runKey): completeOf the run's hash as it is now.
local function complete(runKey)
  return completeOf(unpack(redis.call('HMGET', runKey, unpack(COMPLETE_FIELDS))))
end
