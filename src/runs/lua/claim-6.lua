--[[
  Claims staged documents into one batch under the next sequence number, or returns the batch
  this claim already holds (a re-delivered write job writes the same bytes to the same key).
  Once the run is no longer running, only the final write job claims new batches (so nothing
  is claimed after the final job drained the run). A flush that finds nothing staged disarms
  the tail flush in the same step, so a document staged after it arms a new one.

  Input:
    KEYS[1] run hash
    KEYS[2] claims hash (claim key -> seq)
    KEYS[3] open set (seqs claimed, not yet stored)
    KEYS[4] staged list
    KEYS[5] batches hash (<seq>:key, <seq>:body, <seq>:count, <seq>:claim)
    KEYS[6] tail (armed tail flush)
    ARGV[1] claim key
    ARGV[2] most records in a batch
    ARGV[3] flush: 1 claims fewer than ARGV[2] documents, 0 waits for a full batch
    ARGV[4] up-to: with flush, claim only while fewer documents than this were ever claimed
            (0: no bound)
    ARGV[5] object key base (everything before the sequence number)
    ARGV[6] digits of the zero-padded sequence number
    ARGV[7] 1 for the run's final write job (claims also once the run is not running)
    ARGV[8] lifetime of a tail arm, ms

  Output:
    {} nothing to write (fewer than a full batch, or the run is not running); {-1} this claim
    was already stored; {-2} a flush found nothing staged (tail disarmed); {-3, arm} a flush
    reached up-to with documents still staged: the tail is armed again under a new arm number
    (the caller enqueues its tail job); else {seq, key, body, count}
]]
--- @include "arm.lua"
local seq = redis.call('HGET', KEYS[2], ARGV[1])
if seq then
  if redis.call('SISMEMBER', KEYS[3], seq) == 0 then return {-1} end
  local b = redis.call('HMGET', KEYS[5], seq .. ':key', seq .. ':body', seq .. ':count')
  return {tonumber(seq), b[1], b[2], tonumber(b[3])}
end
if ARGV[7] ~= '1' and redis.call('HGET', KEYS[1], 'state') ~= 'running' then return {} end
local max = tonumber(ARGV[2])
local len = redis.call('LLEN', KEYS[4])
if len == 0 and ARGV[3] == '1' then
  redis.call('DEL', KEYS[6])
  return {-2}
end
if len == 0 or (ARGV[3] ~= '1' and len < max) then return {} end
local upTo = tonumber(ARGV[4])
if upTo > 0 and tonumber(redis.call('HGET', KEYS[1], 'claimedTotal') or '0') >= upTo then
  redis.call('DEL', KEYS[6])
  return {-3, arm(KEYS[1], KEYS[6], ARGV[8])}
end
local items = redis.call('LRANGE', KEYS[4], 0, max - 1)
redis.call('LTRIM', KEYS[4], #items, -1)
redis.call('HINCRBY', KEYS[1], 'claimedTotal', #items)
seq = tostring(redis.call('HINCRBY', KEYS[1], 'seq', 1))
local key = ARGV[5] .. string.format('%0' .. ARGV[6] .. 'd', tonumber(seq)) .. '.jsonl.gz'
local body = table.concat(items, '\n') .. '\n'
redis.call('HSET', KEYS[5], seq .. ':key', key, seq .. ':body', body, seq .. ':count', #items, seq .. ':claim', ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], seq)
redis.call('SADD', KEYS[3], seq)
return {tonumber(seq), key, body, #items}
