--[[
  Pauses the whole fleet (a 429's Retry-After): no slot before now + pause. Every reservation
  handed out before is void: the epoch goes up, the next free slot goes back to the pause's end,
  and the new epoch is published so waiting callers in every process reserve again. Never
  shortens a pause already in force (a shorter one changes nothing).

  Input:
    KEYS[1] limiter key (see reserve-1.lua)
    ARGV[1] pause, µs
    ARGV[2] channel the new epoch is published on

  Output:
    the epoch in force after the call
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local v = redis.call('GET', KEYS[1])
local epoch, paused = 0, 0
if v then
  local _, e, p = string.match(v, '^(%d+) (%d+) (%d+)$')
  epoch, paused = tonumber(e), tonumber(p)
end
local untilUs = now + tonumber(ARGV[1])
if untilUs <= paused then return epoch end
epoch = epoch + 1
redis.call('SET', KEYS[1], string.format('%.0f %d %.0f', untilUs, epoch, untilUs), 'PX', 600000)
redis.call('PUBLISH', ARGV[2], epoch)
return epoch
