-- Stores a new session and its index entries, unless its token hash or id is taken.
-- KEYS: session hash, id key, user's set, expiry set.
-- ARGV: token hash, TTL in ms, created_at µs, expires_at µs, then the hash's field/value pairs.
-- Returns 1 when stored, 0 on a conflict (nothing written).
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
-- The user's set lives as long as its longest-lived session (PTTL is -1 on a set just created).
if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return 1
