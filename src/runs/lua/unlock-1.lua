--[[
  Releases a lock taken with SET NX PX, only if this holder still has it (its token).

  Input:
    KEYS[1] lock key
    ARGV[1] the holder's token

  Output:
    1 when released, 0 when the lock had lapsed or another holder has it
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
