-- Tables for the other authentication methods: OAuth/OIDC accounts and flow state, passkeys and
-- ceremony challenges, and single-use email tokens (magic links, email verification, password reset).
-- Times are timestamptz, as in the core tables.
--
-- Besides the indexes the lookups need, every column that references users is indexed: PostgreSQL
-- does not index foreign keys by itself, and without one, deleting a user (ON DELETE CASCADE) would
-- scan the whole referencing table.

CREATE TABLE oauth_accounts (
    provider   text NOT NULL,
    subject    text NOT NULL,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (provider, subject),
    -- Also serves as the index on user_id.
    UNIQUE (user_id, provider)
);

CREATE TABLE oauth_states (
    -- SHA-256 (hex) of the OAuth `state` parameter.
    state_hash    text PRIMARY KEY,
    provider      text NOT NULL,
    pkce_verifier text NOT NULL,
    nonce         text,
    redirect_to   text,
    link_user_id  text REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);

CREATE INDEX idx_oauth_states_expires_at ON oauth_states (expires_at);
CREATE INDEX idx_oauth_states_link_user_id ON oauth_states (link_user_id);

CREATE TABLE passkeys (
    credential_id   text PRIMARY KEY,
    user_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            text NOT NULL,
    data            text NOT NULL,
    -- A WebAuthn signature counter is an unsigned 32-bit number, which needs bigint.
    sign_count      bigint NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    backup_eligible boolean NOT NULL,
    backup_state    boolean NOT NULL,
    created_at      timestamptz NOT NULL,
    last_used_at    timestamptz
);

CREATE INDEX idx_passkeys_user_id ON passkeys (user_id);

CREATE TABLE passkey_challenges (
    id         text PRIMARY KEY,
    kind       text NOT NULL,
    user_id    text REFERENCES users (id) ON DELETE CASCADE,
    email      text,
    state      text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX idx_passkey_challenges_expires_at ON passkey_challenges (expires_at);
CREATE INDEX idx_passkey_challenges_user_id ON passkey_challenges (user_id);

CREATE TABLE one_time_tokens (
    -- SHA-256 (hex) of the token. The token itself is never stored.
    token_hash       text PRIMARY KEY,
    purpose          text NOT NULL,
    email            text NOT NULL,
    -- Computed by Torii, as users.email_normalized.
    email_normalized text NOT NULL,
    user_id          text REFERENCES users (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz
);

CREATE INDEX idx_one_time_tokens_email ON one_time_tokens (email_normalized, purpose);
CREATE INDEX idx_one_time_tokens_expires_at ON one_time_tokens (expires_at);
CREATE INDEX idx_one_time_tokens_user_id ON one_time_tokens (user_id);
