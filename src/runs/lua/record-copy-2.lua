--[[
  Records what a copy job did with a source object, once per source key, keeping the
  copies.<status> counters in step: a re-delivered job never double-counts, and a later
  "skipped" (a replayed event) never hides that the run copied the object. The ledger lists at
  most ARGV[4] objects (a watch run copies without end); past that, outcomes are only counted
  (copies.unlisted counts them).

  Input:
    KEYS[1] run hash
    KEYS[2] copies hash (source key -> record JSON)
    ARGV[1] source key
    ARGV[2] record JSON
    ARGV[3] status: copied, skipped or failed
    ARGV[4] most objects listed

  Output:
    1 when recorded, 0 when an earlier "copied" was kept, 2 when counted but not listed
]]
local old = redis.call('HGET', KEYS[2], ARGV[1])
local before = false
if old then before = cjson.decode(old).status end
if before == 'copied' and ARGV[3] == 'skipped' then return 0 end
if not old and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[4]) then
  redis.call('HINCRBY', KEYS[1], 'copies.' .. ARGV[3], 1)
  redis.call('HINCRBY', KEYS[1], 'copies.unlisted', 1)
  return 2
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if before == ARGV[3] then return 1 end
if before then redis.call('HINCRBY', KEYS[1], 'copies.' .. before, -1) end
redis.call('HINCRBY', KEYS[1], 'copies.' .. ARGV[3], 1)
return 1
