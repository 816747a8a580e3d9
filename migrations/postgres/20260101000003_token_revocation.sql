-- Revocation of stateless (JWT) sessions. Times are timestamptz, as in the core tables.
--
-- No foreign keys to users: a token may outlive its user row, and revoking it must still work. Deleting
-- a user keeps these rows, so its tokens stay dead; denylist entries go once the tokens they name have
-- expired.

-- Token ids (the JWT `jti`) revoked before their expiry; an entry can go once the token has expired.
CREATE TABLE revoked_tokens (
    token_id   text PRIMARY KEY,
    user_id    text NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX idx_revoked_tokens_expires_at ON revoked_tokens (expires_at);

-- "Log out everywhere": every token of the user issued before `not_before` is dead.
CREATE TABLE session_revocations (
    user_id    text PRIMARY KEY,
    not_before timestamptz NOT NULL
);
