-- Deletes one session by token hash. KEYS: session hash. ARGV: prefix, token hash.
-- Returns 1 when it existed, else 0.
return remove_session(ARGV[1], ARGV[2])
