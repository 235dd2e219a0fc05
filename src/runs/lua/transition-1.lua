--[[
  Compare-and-set of a run's state. Completed and failed runs never change; a cancelled run
  only stays cancelled. A change is published on the run's state channel (keys.ts), so a
  process waiting for the run hears it at once.

  Input:
    KEYS[1] run hash
    ARGV[1] from state, or '*' for any
    ARGV[2] to state
    ARGV[3] error ('' keeps the current one)
    ARGV[4] finishedAt ('' keeps the current one)
    ARGV[5] the run's state channel (PUBLISH of the new state)

  Output:
    1 when the state changed, else 0
]]
local s = redis.call('HGET', KEYS[1], 'state')
if not s then return 0 end
if ARGV[1] ~= '*' and s ~= ARGV[1] then return 0 end
if s == 'completed' or s == 'failed' then return 0 end
if s == 'cancelled' and ARGV[2] ~= 'cancelled' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'finishedAt', ARGV[4]) end
redis.call('PUBLISH', ARGV[5], ARGV[2])
return 1
