-- Core tables: users, password hashes, sessions.
--
-- Times are timestamptz: PostgreSQL keeps them as microseconds (exactly the precision Torii stores) and
-- compares them natively, so "expires_at <= $1" is an index range scan. Ids, hashes and names are text.

CREATE TABLE users (
    id                text PRIMARY KEY,
    name              text,
    email             text NOT NULL,
    -- The uniqueness key: the email as torii_core::email::normalize_email computes it in Rust (trimmed,
    -- full Unicode lower-casing). Because the lower-casing happens in Torii, a plain unique index here
    -- makes emails unique ignoring case exactly as on every other backend. Doing it in the database
    -- instead (lower(), citext, a case-insensitive collation) would follow the server's locale and
    -- could disagree with Rust for some characters, so two backends could accept different sign-ups.
    email_normalized  text NOT NULL UNIQUE,
    email_verified_at timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);

CREATE TABLE passwords (
    user_id       text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 (hex) of the session token. The token itself is never stored.
    token_hash text PRIMARY KEY,
    -- Public id, shown in device lists; not a credential.
    id         text NOT NULL UNIQUE,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent text,
    ip_address text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX idx_sessions_user_id ON sessions (user_id);
CREATE INDEX idx_sessions_expires_at ON sessions (expires_at);
