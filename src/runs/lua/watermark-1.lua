--[[
  Moves a kind's changes watermark forward, never back.

  Input:
    KEYS[1] watermark key
    ARGV[1] day, YYYY-MM-DD

  Output:
    1 when the watermark moved, 0 when it was already at or past the day
]]
local current = redis.call('GET', KEYS[1])
if current and current >= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
