-- Deletes up to ARGV[3] denylist entries whose tokens expired at or before ARGV[2] (µs).
-- KEYS: denylist expiry set. ARGV: prefix, now µs, batch size. Returns how many entries went.
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', '0', ARGV[3])
for _, token_id in ipairs(expired) do
  redis.call('DEL', ARGV[1] .. 'revoked:' .. token_id)
  redis.call('ZREM', KEYS[1], token_id)
end
return #expired
