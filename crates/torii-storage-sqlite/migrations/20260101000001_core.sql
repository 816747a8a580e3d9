-- Core tables: users, password hashes, sessions.
--
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC): exact, compact, and compared
-- numerically, so "expires_at <= now" is an index range scan rather than a string comparison.

CREATE TABLE users (
    id                TEXT PRIMARY KEY NOT NULL,
    name              TEXT,
    email             TEXT NOT NULL,
    -- Lower-cased email, computed by Torii; the uniqueness key, so emails are unique ignoring case.
    email_normalized  TEXT NOT NULL UNIQUE,
    email_verified_at INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE passwords (
    user_id       TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 (hex) of the session token. The token itself is never stored.
    token_hash TEXT PRIMARY KEY NOT NULL,
    -- Public id, shown in device lists; not a credential.
    id         TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent TEXT,
    ip_address TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX idx_sessions_user_id ON sessions (user_id);
CREATE INDEX idx_sessions_expires_at ON sessions (expires_at);
