-- Moves a user's "not before" time forward, never back. KEYS: the user's key. ARGV: the time (µs).
-- Returns 1 when it moved, 0 when a later time was kept.
local stored = redis.call('GET', KEYS[1])
if stored and tonumber(stored) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
