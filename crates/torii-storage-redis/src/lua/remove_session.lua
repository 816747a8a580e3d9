-- Shared helper, prepended to every script that deletes sessions.
--
-- Deletes the session whose token hash is `token_hash` together with its index entries (the id key,
-- its member in the owner's set and in the expiry set), deriving their names from the prefix and the
-- session's own fields. Returns 1 when the session hash existed, 0 when it was already gone (for
-- example dropped by its Redis expiry, in which case only the expiry-set member is left to remove).
--
-- Numbers over 14 digits are never passed to redis.call: Lua would format them in exponent notation.
local function remove_session(prefix, token_hash)
  local key = prefix .. 'session:' .. token_hash
  local owner = redis.call('HMGET', key, 'id', 'user_id')
  redis.call('ZREM', prefix .. 'sessions:by_expiry', token_hash)
  if owner[1] then
    local id_key = prefix .. 'session_id:' .. owner[1]
    -- Only the entry that still points at this session: never another session's.
    if redis.call('GET', id_key) == token_hash then
      redis.call('DEL', id_key)
    end
  end
  if owner[2] then
    redis.call('ZREM', prefix .. 'user:' .. owner[2] .. ':sessions', token_hash)
  end
  return redis.call('DEL', key)
end
