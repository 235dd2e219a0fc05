--[[
  Marks planned items (discover pages, find lookups, files, copies, guards) of a run, once each.

  Input:
    KEYS[1] run hash
    KEYS[2] pages hash (plan key -> 0 planned / 1 done / 2 failed)
    ARGV[1..n] plan keys

  Output:
    the number of plan keys that were new (pagesPlanned grows by as much)
]]
local n = 0
for i = 1, #ARGV do
  if redis.call('HSETNX', KEYS[2], ARGV[i], '0') == 1 then n = n + 1 end
end
if n > 0 then redis.call('HINCRBY', KEYS[1], 'pagesPlanned', n) end
return n
