-- Sets updated_at of an existing session (HSET alone would create a stray hash for an unknown one).
-- KEYS: session hash. ARGV: updated_at µs. Returns 1 when the session exists, else 0.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[1])
return 1
