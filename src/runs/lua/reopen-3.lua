--[[
  Reopens a failed run for resume: back to running, and every item that failed for good is
  open again (its title or page will be retried), so the run cannot complete before the
  retries land.

  Input:
    KEYS[1] run hash
    KEYS[2] failed bitmap
    KEYS[3] pages hash

  Output:
    {titles, pages} reopened; {-1, 0} when the run is not failed
]]
if redis.call('HGET', KEYS[1], 'state') ~= 'failed' then return {-1, 0} end
local titles = tonumber(redis.call('HGET', KEYS[1], 'failed') or '0')
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'failed', 0)
local pages = 0
local all = redis.call('HGETALL', KEYS[3])
for i = 1, #all, 2 do
  if all[i + 1] == '2' then
    redis.call('HSET', KEYS[3], all[i], '0')
    pages = pages + 1
  end
end
if pages > 0 then
  redis.call('HINCRBY', KEYS[1], 'pagesDone', -pages)
  redis.call('HINCRBY', KEYS[1], 'pagesFailed', -pages)
end
redis.call('HSET', KEYS[1], 'state', 'running')
redis.call('HDEL', KEYS[1], 'error', 'finishedAt')
return {titles, pages}
