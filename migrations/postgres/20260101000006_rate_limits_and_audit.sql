-- Rate-limit counters and the audit log of security events. Times are timestamptz, as in the core
-- tables.
--
-- No foreign keys to users: counters are keyed by anything (an address, an IP), and audit events stay
-- when their user is deleted (they are the record of what happened to the account).

-- One counter per key and fixed window (windows are aligned to the epoch; see RateLimitStorage).
CREATE TABLE rate_limits (
    -- SHA-256 (hex) of the caller's key: fixed size, and the key itself (an email address) is not kept.
    key_hash     text NOT NULL,
    -- When the window started; the counter of the next window is another row.
    window_start timestamptz NOT NULL,
    -- Hits counted in the window, refused ones included.
    hits         bigint NOT NULL,
    -- When the window ends; the row may be deleted after that.
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (key_hash, window_start)
);

CREATE INDEX idx_rate_limits_expires_at ON rate_limits (expires_at);

-- Security events (failed logins, password changes, ...). They never contain secrets.
CREATE TABLE audit_events (
    id          text PRIMARY KEY,
    -- The account concerned, if any.
    user_id     text,
    -- What happened: a short dotted name such as `login.failed`.
    kind        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    ip_address  text,
    user_agent  text,
    -- Anything else, as JSON text (kept exactly as written, unlike jsonb).
    detail      text NOT NULL
);

-- A user's events, newest first.
CREATE INDEX idx_audit_events_user_id ON audit_events (user_id, occurred_at);
-- Deleting by age.
CREATE INDEX idx_audit_events_occurred_at ON audit_events (occurred_at);
