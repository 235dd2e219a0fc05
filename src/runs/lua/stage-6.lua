--[[
  Stages a fetched document once per (run, id): its fetched bit flips, it is pushed on the
  staged list, and a failed bit left by an earlier give-up is cleared. Only a running run
  stages: once the final write job moved the run to finalizing (or it was cancelled or ended),
  a document staged late would never be written, so it is refused and not counted.
  The first document staged while no tail flush is armed arms one, numbered by the run's arm
  counter (the caller enqueues its tail job, delayed BATCH_MAX_WAIT_MS); an arm whose tail job
  never came (a crash in between) lapses after ARGV[3] ms.
  The hot path of every title: the run's counters are read once (HMGET) and written once (HSET);
  the notfound and failed bitmaps are touched only when their counter says a bit may be set
  (each counter is the number of bits set in its bitmap: terminal-4, reconcile-11, reopen-3).

  Input:
    KEYS[1] run hash
    KEYS[2] notfound bitmap
    KEYS[3] fetched bitmap
    KEYS[4] failed bitmap
    KEYS[5] staged list
    KEYS[6] tail (the armed tail flush: its arm number)
    ARGV[1] TMDB id
    ARGV[2] document (JSON)
    ARGV[3] lifetime of a tail arm, ms

  Output:
    {staged, stagedTotal, stagedLength, complete, pending, armed}: staged 1 when pushed, 0 when
    already staged or not found, -1 when the run is not running (then the rest is 0); pending:
    documents staged and not yet in a stored object; armed: the arm number when this call armed
    the tail flush, else 0
]]
--- @include "complete.lua"
--- @include "arm.lua"
local h = redis.call('HMGET', KEYS[1], 'state', 'pagesPlanned', 'pagesDone', 'discovered', 'fetched', 'notFound', 'failed', 'stagedTotal', 'pending')
if h[1] ~= 'running' then return {-1, 0, 0, 0, 0, 0} end
local discovered, fetched, notFound, failed = h[4], tonumber(h[5] or '0'), tonumber(h[6] or '0'), tonumber(h[7] or '0')
local total, pending = tonumber(h[8] or '0'), tonumber(h[9] or '0')
if (notFound > 0 and redis.call('GETBIT', KEYS[2], ARGV[1]) == 1) or redis.call('SETBIT', KEYS[3], ARGV[1], 1) == 1 then
  return {0, 0, 0, completeOf(h[1], h[2], h[3], discovered, fetched, notFound, failed), pending, 0}
end
fetched = fetched + 1
if failed > 0 and redis.call('SETBIT', KEYS[4], ARGV[1], 0) == 1 then failed = failed - 1 end
local len = redis.call('RPUSH', KEYS[5], ARGV[2])
total, pending = total + 1, pending + 1
redis.call('HSET', KEYS[1], 'fetched', fetched, 'failed', failed, 'stagedTotal', total, 'pending', pending)
return {1, total, len, completeOf(h[1], h[2], h[3], discovered, fetched, notFound, failed), pending, arm(KEYS[1], KEYS[6], ARGV[3])}
