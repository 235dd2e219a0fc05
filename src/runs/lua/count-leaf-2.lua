--[[
  Records a leaf window (one that fits the page cap) and its total_results once, adding the
  total to the run's `expected` the first time (changes runs: their windows' totals add up).

  Input:
    KEYS[1] run hash
    KEYS[2] leaves hash (window key -> total_results)
    ARGV[1] window key
    ARGV[2] total_results

  Output:
    1 when the leaf is new (expected grew), 0 when it was recorded before
]]
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'expected', tonumber(ARGV[2]))
return 1
