-- arm(runKey, tailKey, ttlMs): arms the run's tail flush unless one is armed: the next number of
-- the run's arm counter goes in the tail key for ttlMs. Returns that number, or 0 when a tail
-- flush was already armed.
local function arm(runKey, tailKey, ttlMs)
  if redis.call('EXISTS', tailKey) == 1 then return 0 end
  local n = redis.call('HINCRBY', runKey, 'tailArms', 1)
  redis.call('SET', tailKey, n, 'PX', ttlMs)
  return n
end
