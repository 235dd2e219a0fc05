--[[
  Marks a planned item done or failed, once; a later success turns a failed item done. When a
  page of a leaf window turns done, the results it returned are added to the window's count
  (once per page, so a re-delivered job never double-counts).

  Input:
    KEYS[1] run hash
    KEYS[2] pages hash
    KEYS[3] returned hash (leaf window key -> results its done pages returned)
    ARGV[1] plan key
    ARGV[2] outcome: 1 done, 2 failed
    ARGV[3] the leaf window key the page belongs to ('' for none: a split window, a find, a file)
    ARGV[4] results the page returned

  Output:
    1 when the run is complete and still running (also on a re-delivered job, so the final
    write job is enqueued even if the process that completed the run died first), else 0
]]
--- @include "complete.lua"
local v = redis.call('HGET', KEYS[2], ARGV[1])
local turnedDone = false
if v == '0' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'pagesDone', 1)
  if ARGV[2] == '2' then redis.call('HINCRBY', KEYS[1], 'pagesFailed', 1) else turnedDone = true end
elseif v == '2' and ARGV[2] == '1' then
  redis.call('HSET', KEYS[2], ARGV[1], '1')
  redis.call('HINCRBY', KEYS[1], 'pagesFailed', -1)
  turnedDone = true
end
if turnedDone and ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[3], tonumber(ARGV[4])) end
return complete(KEYS[1])
