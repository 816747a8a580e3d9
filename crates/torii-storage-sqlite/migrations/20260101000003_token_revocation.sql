-- Revocation of stateless (JWT) sessions.
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC), as in the core tables.
--
-- No foreign keys to users: a token may outlive its user row (and revoking it must still work);
-- deleting a user keeps its rows, so a deleted user's tokens stay dead (entries expire with the tokens).

-- Token ids (the JWT `jti`) revoked before their expiry; an entry can go once the token has expired.
CREATE TABLE revoked_tokens (
    token_id   TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX idx_revoked_tokens_expires_at ON revoked_tokens (expires_at);

-- "Log out everywhere": every token of the user issued before `not_before` is dead.
CREATE TABLE session_revocations (
    user_id    TEXT PRIMARY KEY NOT NULL,
    not_before INTEGER NOT NULL
) WITHOUT ROWID;
