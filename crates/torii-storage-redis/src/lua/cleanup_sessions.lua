-- Deletes up to ARGV[3] sessions that expired at or before ARGV[2] (µs), with their index entries.
-- KEYS: expiry set. ARGV: prefix, now µs, batch size. Returns how many expiry-set entries went (a
-- session Redis already dropped still counts: its index entries are what is left of it).
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', '0', ARGV[3])
for _, token_hash in ipairs(expired) do
  remove_session(ARGV[1], token_hash)
end
return #expired
