-- Counts one hit in the fixed window [ARGV[1], ARGV[2]) (µs) of one key.
-- KEYS: the key's counter (a hash: start, resets_at, hits), the counters' expiry set.
-- ARGV: window start µs, window end µs, Redis time-to-live (ms), key hash (the expiry set's member).
-- Returns {hits counted in the window, this hit included; the end of that window in µs}.
local start = redis.call('HGET', KEYS[1], 'start')
if start and tonumber(start) >= tonumber(ARGV[1]) then
  -- This window, or a later one that an instance whose clock runs ahead already started: count there.
  local hits = redis.call('HINCRBY', KEYS[1], 'hits', 1)
  return {hits, redis.call('HGET', KEYS[1], 'resets_at')}
end
redis.call('HSET', KEYS[1], 'start', ARGV[1], 'resets_at', ARGV[2], 'hits', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
return {1, ARGV[2]}
