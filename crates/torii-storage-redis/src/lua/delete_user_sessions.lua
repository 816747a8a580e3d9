-- Deletes every session of a user, except the one with id ARGV[3] when ARGV[2] is '1'.
-- KEYS: user's set. ARGV: prefix, '1' or '0', id to keep. Returns how many sessions were deleted.
local deleted = 0
for _, token_hash in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local id = redis.call('HGET', ARGV[1] .. 'session:' .. token_hash, 'id')
  if not id then
    -- Already dropped by its Redis expiry: only the stale member is left.
    redis.call('ZREM', KEYS[1], token_hash)
  elseif not (ARGV[2] == '1' and id == ARGV[3]) then
    deleted = deleted + remove_session(ARGV[1], token_hash)
  end
end
return deleted
