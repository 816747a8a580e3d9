-- Deletes up to ARGV[3] rate-limit counters that expired (one window after their window ended) at or
-- before ARGV[2] (µs).
-- KEYS: the counters' expiry set. ARGV: prefix, now µs, batch size. Returns how many counters went.
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', '0', ARGV[3])
for _, key_hash in ipairs(expired) do
  redis.call('DEL', ARGV[1] .. 'rate_limit:' .. key_hash)
  redis.call('ZREM', KEYS[1], key_hash)
end
return #expired
