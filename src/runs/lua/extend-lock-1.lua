--[[
  Extends a lock taken with SET NX PX, only if this holder still has it (its token).

  Input:
    KEYS[1] lock key
    ARGV[1] the holder's token
    ARGV[2] new lifetime, ms

  Output:
    1 when extended, 0 when the lock had lapsed or another holder has it
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
