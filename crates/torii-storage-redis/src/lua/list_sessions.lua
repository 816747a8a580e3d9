-- A user's sessions as { token hash, field values... } arrays, newest first; the caller filters out
-- expired ones by its own clock. Members whose hash Redis already dropped are removed on the way.
-- KEYS: user's set. ARGV: prefix, then the field names to read.
local sessions = {}
for _, token_hash in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, -1)) do
  local values = redis.call('HMGET', ARGV[1] .. 'session:' .. token_hash, unpack(ARGV, 2))
  if values[1] then
    table.insert(values, 1, token_hash)
    sessions[#sessions + 1] = values
  else
    redis.call('ZREM', KEYS[1], token_hash)
  end
end
return sessions
