--[[
  Records a terminal outcome other than fetched (not found, or failed for good), once; an id
  already fetched or not found keeps that outcome.

  Input:
    KEYS[1] run hash
    KEYS[2] fetched bitmap
    KEYS[3] notfound bitmap
    KEYS[4] the outcome's bitmap (notfound or failed)
    ARGV[1] TMDB id
    ARGV[2] the outcome's counter in the run hash (notFound or failed)

  Output:
    1 when the run is complete and still running, else 0
]]
--- @include "complete.lua"
if redis.call('GETBIT', KEYS[2], ARGV[1]) == 0 and redis.call('GETBIT', KEYS[3], ARGV[1]) == 0 then
  if redis.call('SETBIT', KEYS[4], ARGV[1], 1) == 0 then redis.call('HINCRBY', KEYS[1], ARGV[2], 1) end
end
return complete(KEYS[1])
