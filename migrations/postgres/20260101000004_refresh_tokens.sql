-- Refresh tokens for access + refresh pairs (API and mobile clients). Times are timestamptz, as in the
-- core tables.

CREATE TABLE refresh_tokens (
    -- SHA-256 (hex) of the refresh token. The token itself is never stored.
    token_hash text PRIMARY KEY,
    -- Every token descending from one login; reuse of any of them revokes them all.
    family_id  text NOT NULL,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz
);

CREATE INDEX idx_refresh_tokens_family_id ON refresh_tokens (family_id);
-- Also what keeps deleting a user (ON DELETE CASCADE) from scanning the whole table.
CREATE INDEX idx_refresh_tokens_user_id ON refresh_tokens (user_id);
CREATE INDEX idx_refresh_tokens_expires_at ON refresh_tokens (expires_at);
