-- complete(runKey): 1 when the run is running, every planned page is done and every
-- discovered id is terminal (fetched, not found or failed); else 0.
local function complete(runKey)
  local h = redis.call('HMGET', runKey, 'state', 'pagesPlanned', 'pagesDone', 'discovered', 'fetched', 'notFound', 'failed')
  if h[1] ~= 'running' then return 0 end
  local planned = tonumber(h[2] or '0')
  if planned == 0 or planned ~= tonumber(h[3] or '0') then return 0 end
  if tonumber(h[4] or '0') ~= tonumber(h[5] or '0') + tonumber(h[6] or '0') + tonumber(h[7] or '0') then return 0 end
  return 1
end
