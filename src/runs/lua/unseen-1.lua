--[[
  Filters ids down to those the run has not discovered yet (read only).

  Input:
    KEYS[1] discovered bitmap
    ARGV[1..n] TMDB ids

  Output:
    the ids whose discovered bit is 0, in input order
]]
local out = {}
for i = 1, #ARGV do
  if redis.call('GETBIT', KEYS[1], ARGV[i]) == 0 then out[#out + 1] = ARGV[i] end
end
return out
