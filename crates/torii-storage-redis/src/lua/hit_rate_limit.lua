-- Counts one hit in the window [ARGV[1], ARGV[2]) (µs) of one key, keeping the previous window's count
-- so the caller can decide on a sliding window.
-- KEYS: the key's counter (a hash: start, resets_at, hits, previous), the counters' expiry set.
-- ARGV: window start µs, window end µs, Redis time-to-live (ms), key hash (the expiry set's member),
--       when the counter expires µs (the expiry set's score: one window after its end).
-- Returns {hits counted in the window, this hit included; the end of that window in µs; hits counted in
-- the window before it}.
local start = redis.call('HGET', KEYS[1], 'start')
if start and tonumber(start) >= tonumber(ARGV[1]) then
  -- This window, or a later one that an instance whose clock runs ahead already started: count there.
  local hits = redis.call('HINCRBY', KEYS[1], 'hits', 1)
  local fields = redis.call('HMGET', KEYS[1], 'resets_at', 'previous')
  return {hits, fields[1], tonumber(fields[2] or '0')}
end
-- A new window: the one that ends where it starts hands its count on; an older one weighs nothing.
local previous = 0
if start and redis.call('HGET', KEYS[1], 'resets_at') == ARGV[1] then
  previous = tonumber(redis.call('HGET', KEYS[1], 'hits'))
end
redis.call('HSET', KEYS[1], 'start', ARGV[1], 'resets_at', ARGV[2], 'hits', 1, 'previous', previous)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
return {1, ARGV[2], previous}
