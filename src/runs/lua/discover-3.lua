--[[
  Sets the discovered bits of ids (after their details jobs were enqueued), counting new ones,
  in the run and for the window whose page listed them (an id counts for the first window that
  discovers it, once).

  Input:
    KEYS[1] run hash
    KEYS[2] discovered bitmap
    KEYS[3] firstseen hash (window key -> ids first discovered by its pages)
    ARGV[1] window key ('' for none: a find lookup)
    ARGV[2..n] TMDB ids

  Output:
    the number of ids newly discovered
]]
local n = 0
for i = 2, #ARGV do
  if redis.call('SETBIT', KEYS[2], ARGV[i], 1) == 0 then n = n + 1 end
end
if n > 0 then
  redis.call('HINCRBY', KEYS[1], 'discovered', n)
  if ARGV[1] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[1], n) end
end
return n
