-- Refresh tokens for access + refresh pairs (API and mobile clients).
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC), as in the core tables.

CREATE TABLE refresh_tokens (
    -- SHA-256 (hex) of the refresh token. The token itself is never stored.
    token_hash TEXT PRIMARY KEY NOT NULL,
    -- Every token descending from one login; reuse of any of them revokes them all.
    family_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER
) WITHOUT ROWID;

CREATE INDEX idx_refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX idx_refresh_tokens_user_id ON refresh_tokens (user_id);
CREATE INDEX idx_refresh_tokens_expires_at ON refresh_tokens (expires_at);
