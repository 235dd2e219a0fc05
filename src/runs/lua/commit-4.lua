--[[
  Commits a stored batch once: it leaves the open set, joins the run's objects, and its body
  is dropped from Redis. A batch Redis does not know as it was stored (not open with this key
  and count, nor among the run's objects under this key) means Redis lost its claim (a
  rollback: AOF everysec, a failover to a lagging replica) or reconciled it meanwhile: the
  caller reconciles the run with the lake.

  Input:
    KEYS[1] run hash
    KEYS[2] open set
    KEYS[3] batches hash
    KEYS[4] objects hash (seq, or <seq>:<key> after a rollback reused a seq on another day ->
            {key, records})
    ARGV[1] seq
    ARGV[2] object key
    ARGV[3] records in the stored object

  Output:
    1 when committed now, 0 when it was committed before, -1 when Redis does not know the batch
]]
local s = ARGV[1]
local b = redis.call('HMGET', KEYS[3], s .. ':key', s .. ':count')
if b[1] ~= ARGV[2] or b[2] ~= ARGV[3] or redis.call('SREM', KEYS[2], s) == 0 then
  for _, field in ipairs({s, s .. ':' .. ARGV[2]}) do
    local known = redis.call('HGET', KEYS[4], field)
    if known and cjson.decode(known).key == ARGV[2] then return 0 end
  end
  return -1
end
redis.call('HSET', KEYS[4], s, cjson.encode({key = b[1], records = tonumber(b[2])}))
redis.call('HINCRBY', KEYS[1], 'objects', 1)
redis.call('HINCRBY', KEYS[1], 'records', tonumber(b[2]))
redis.call('HINCRBY', KEYS[1], 'pending', -tonumber(b[2]))
redis.call('HDEL', KEYS[3], s .. ':key', s .. ':body', s .. ':count', s .. ':claim')
return 1
