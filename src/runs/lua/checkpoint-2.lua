--[[
  Takes, renews or gives back the lease of the process a run depends on (an export's reader),
  and saves that process's checkpoint in the run hash, only while it holds the lease: a reader
  that lost its lease (it stalled past the lease and another took over) can save nothing.

  Input:
    KEYS[1] run hash
    KEYS[2] lease key
    ARGV[1] holder (host:pid:random)
    ARGV[2] lease, ms; 0 gives the lease back (when held by ARGV[1])
    ARGV[3..n] field, value pairs saved in the run hash (none: only the lease)

  Output:
    1 when the lease is (or was, for 0) the holder's and the fields were saved, else 0
]]
local current = redis.call('GET', KEYS[2])
if current and current ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then
  if current then redis.call('DEL', KEYS[2]) end
else
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
end
if #ARGV > 2 then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
return 1
