-- Adds a JWT id to the denylist until its token's expiry, keeping a later expiry already stored.
-- KEYS: denylist entry, denylist expiry set. ARGV: token id, expires_at µs, Redis expiry (ms since the
-- epoch). Returns 1 when written, 0 when a later expiry was kept.
local stored = redis.call('GET', KEYS[1])
if stored and tonumber(stored) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[1])
return 1
