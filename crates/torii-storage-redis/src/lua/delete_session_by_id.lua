-- Deletes the session with this public id, only when it belongs to the given user.
-- KEYS: id key. ARGV: prefix, user id. Returns 1 when deleted, else 0.
local token_hash = redis.call('GET', KEYS[1])
if not token_hash then
  return 0
end
if redis.call('HGET', ARGV[1] .. 'session:' .. token_hash, 'user_id') ~= ARGV[2] then
  return 0
end
return remove_session(ARGV[1], token_hash)
