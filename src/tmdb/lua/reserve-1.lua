--[[
  Reserves the next free request slot of the fleet-wide TMDB rate limit (GCRA-style spacing),
  however far ahead it lies: the caller waits for it locally, without asking again.

  Input:
    KEYS[1] limiter key: "<next free slot, µs> <pause epoch> <paused until, µs>"
            (expires after 10 min idle)
    ARGV[1] interval between slots, µs (1e6 / requests per second)

  Output:
    { µs to wait for the reserved slot (>= 0), pause epoch the slot belongs to }
    A pause (pause-1.lua) raises the epoch: slots of an older epoch are void.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local v = redis.call('GET', KEYS[1])
local nextSlot, epoch, paused = 0, 0, 0
if v then
  local n, e, p = string.match(v, '^(%d+) (%d+) (%d+)$')
  nextSlot, epoch, paused = tonumber(n), tonumber(e), tonumber(p)
end
local slot = math.max(nextSlot, now)
redis.call('SET', KEYS[1], string.format('%.0f %d %.0f', slot + tonumber(ARGV[1]), epoch, paused), 'PX', 600000)
return { slot - now, epoch }
