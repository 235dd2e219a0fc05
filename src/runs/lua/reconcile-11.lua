--[[
  Reconciles a run with the lake after Redis lost acknowledged state (a rollback): registers the
  data objects of the run that the lake holds and Redis does not know, counts every id they hold
  as fetched (they are written and must never be written again), takes those ids' documents out
  of the staged list and out of open batches, and raises the run's sequence number past the
  highest one in the lake, so no new claim reuses a key. Idempotent: objects already known are
  skipped, bits already set are not counted again.

  An open batch whose key is one of those lake objects is dropped: if the lake object is its own
  earlier PUT, all its documents are in the lake; otherwise its remaining documents go back to
  the head of the staged list and its claim is forgotten, so its write job claims again under a
  new sequence number. Other open batches are rewritten without the lake's ids (dropped when
  nothing is left; their claim then reads as stored).

  Input:
    KEYS[1] run hash
    KEYS[2] discovered bitmap
    KEYS[3] fetched bitmap
    KEYS[4] notfound bitmap
    KEYS[5] failed bitmap
    KEYS[6] staged list
    KEYS[7] claims hash (claim key -> seq)
    KEYS[8] open set
    KEYS[9] batches hash (<seq>:key, <seq>:body, <seq>:count, <seq>:claim)
    KEYS[10] objects hash (seq, or <seq>:<key> when a seq is taken by an object of another day)
    KEYS[11] tail (armed tail flush)
    ARGV[1] JSON array of the lake's objects Redis did not know when listed: [{seq, key, ids}]
    ARGV[2] highest sequence number in the lake
    ARGV[3] lifetime of a tail arm, ms

  Output:
    {registered objects, ids newly counted fetched, documents removed from the staged list,
     documents removed from open batches, documents put back on the staged list, armed}:
    armed: when documents are staged and no tail flush was armed, the arm number this call
    armed (the caller enqueues its tail job), else 0
]]
--- @include "arm.lua"

local function idOf(doc) return cjson.decode(doc).id end

local function pushAll(command, key, items)
  for i = 1, #items, 500 do
    redis.call(command, key, unpack(items, i, math.min(i + 499, #items)))
  end
end

-- true when the objects hash has `field` for `key`, false for another key, nil when absent.
local function knownAs(field, key)
  local v = redis.call('HGET', KEYS[10], field)
  if not v then return nil end
  return cjson.decode(v).key == key
end

-- Registers the objects Redis does not know; returns how many, the set of their ids and keys.
local function register(objects)
  local inLake, lakeKeys, registered = {}, {}, 0
  for _, o in ipairs(objects) do
    local seq = tostring(o.seq)
    lakeKeys[o.key] = true
    for _, id in ipairs(o.ids) do inLake[id] = true end
    local same = knownAs(seq, o.key)
    if not same and not knownAs(seq .. ':' .. o.key, o.key) then
      local field = seq
      if same == false then field = seq .. ':' .. o.key end
      redis.call('HSET', KEYS[10], field, cjson.encode({key = o.key, records = #o.ids}))
      redis.call('HINCRBY', KEYS[1], 'objects', 1)
      redis.call('HINCRBY', KEYS[1], 'records', #o.ids)
      registered = registered + 1
    end
  end
  return registered, inLake, lakeKeys
end

-- Every id in the lake is fetched (and discovered), neither failed nor "not found"; returns
-- how many were newly counted fetched.
local function markWritten(inLake)
  local fetched = 0
  for id in pairs(inLake) do
    if redis.call('SETBIT', KEYS[3], id, 1) == 0 then fetched = fetched + 1 end
    if redis.call('SETBIT', KEYS[2], id, 1) == 0 then redis.call('HINCRBY', KEYS[1], 'discovered', 1) end
    if redis.call('SETBIT', KEYS[5], id, 0) == 1 then redis.call('HINCRBY', KEYS[1], 'failed', -1) end
    if redis.call('SETBIT', KEYS[4], id, 0) == 1 then redis.call('HINCRBY', KEYS[1], 'notFound', -1) end
  end
  if fetched > 0 then redis.call('HINCRBY', KEYS[1], 'fetched', fetched) end
  return fetched
end

-- The staged list without the lake's documents; returns how many were removed.
local function cleanStaged(inLake)
  local staged, keep = redis.call('LRANGE', KEYS[6], 0, -1), {}
  for _, doc in ipairs(staged) do
    if not inLake[idOf(doc)] then keep[#keep + 1] = doc end
  end
  if #keep < #staged then
    redis.call('DEL', KEYS[6])
    pushAll('RPUSH', KEYS[6], keep)
  end
  return #staged - #keep
end

-- Open batches without the lake's documents (see the header); returns how many documents were
-- removed and the documents to stage again.
local function cleanOpen(inLake, lakeKeys)
  local removed, restaged = 0, {}
  for _, seq in ipairs(redis.call('SMEMBERS', KEYS[8])) do
    local b = redis.call('HMGET', KEYS[9], seq .. ':key', seq .. ':body', seq .. ':claim')
    local lines, kept = {}, {}
    for line in string.gmatch(b[2] or '', '[^\n]+') do lines[#lines + 1] = line end
    for _, line in ipairs(lines) do
      if not inLake[idOf(line)] then kept[#kept + 1] = line end
    end
    removed = removed + #lines - #kept
    if lakeKeys[b[1]] or #kept == 0 then
      redis.call('SREM', KEYS[8], seq)
      redis.call('HDEL', KEYS[9], seq .. ':key', seq .. ':body', seq .. ':count', seq .. ':claim')
      if #kept > 0 then
        for _, line in ipairs(kept) do restaged[#restaged + 1] = line end
        if b[3] then redis.call('HDEL', KEYS[7], b[3]) end
      end
    elseif #kept < #lines then
      redis.call('HSET', KEYS[9], seq .. ':body', table.concat(kept, '\n') .. '\n', seq .. ':count', #kept)
    end
  end
  return removed, restaged
end

local registered, inLake, lakeKeys = register(cjson.decode(ARGV[1]))
local fetched = markWritten(inLake)
local removedStaged = cleanStaged(inLake)
local removedOpen, restaged = cleanOpen(inLake, lakeKeys)
if #restaged > 0 then
  local reversed = {}
  for i = #restaged, 1, -1 do reversed[#reversed + 1] = restaged[i] end
  pushAll('LPUSH', KEYS[6], reversed)
end
-- (HINCRBY refuses Lua's "-0": counters change only by non-zero amounts)
if removedStaged + removedOpen > 0 then redis.call('HINCRBY', KEYS[1], 'pending', 0 - removedStaged - removedOpen) end
if removedStaged ~= #restaged then redis.call('HINCRBY', KEYS[1], 'claimedTotal', removedStaged - #restaged) end
if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'seq') or '0') then redis.call('HSET', KEYS[1], 'seq', ARGV[2]) end
local armed = 0
if redis.call('LLEN', KEYS[6]) > 0 then armed = arm(KEYS[1], KEYS[11], ARGV[3]) end
return {registered, fetched, removedStaged, removedOpen, #restaged, armed}
