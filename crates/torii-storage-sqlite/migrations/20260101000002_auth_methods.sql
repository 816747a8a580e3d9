-- Tables for the other authentication methods: OAuth/OIDC accounts and flow state, passkeys and
-- ceremony challenges, and single-use email tokens (magic links, email verification, password reset).
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC), as in the core tables.

CREATE TABLE oauth_accounts (
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject),
    UNIQUE (user_id, provider)
);

CREATE TABLE oauth_states (
    -- SHA-256 (hex) of the OAuth `state` parameter.
    state_hash    TEXT PRIMARY KEY NOT NULL,
    provider      TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce         TEXT,
    redirect_to   TEXT,
    link_user_id  TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);

CREATE INDEX idx_oauth_states_expires_at ON oauth_states (expires_at);

CREATE TABLE passkeys (
    credential_id   TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    data            TEXT NOT NULL,
    sign_count      INTEGER NOT NULL,
    backup_eligible INTEGER NOT NULL,
    backup_state    INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);

CREATE INDEX idx_passkeys_user_id ON passkeys (user_id);

CREATE TABLE passkey_challenges (
    id         TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT,
    state      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX idx_passkey_challenges_expires_at ON passkey_challenges (expires_at);

CREATE TABLE one_time_tokens (
    -- SHA-256 (hex) of the token. The token itself is never stored.
    token_hash       TEXT PRIMARY KEY NOT NULL,
    purpose          TEXT NOT NULL,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    user_id          TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    used_at          INTEGER
);

CREATE INDEX idx_one_time_tokens_email ON one_time_tokens (email_normalized, purpose);
CREATE INDEX idx_one_time_tokens_expires_at ON one_time_tokens (expires_at);
