-- Rate-limit counters and the audit log of security events.
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC), as in the core tables.
--
-- No foreign keys to users: counters are keyed by anything (an address, an IP), and audit events stay
-- when their user is deleted (they are the record of what happened to the account).

-- One counter per key and fixed window (windows are aligned to the epoch; see RateLimitStorage).
CREATE TABLE rate_limits (
    -- SHA-256 (hex) of the caller's key: fixed size, and the key itself (an email address) is not kept.
    key_hash     TEXT NOT NULL,
    -- When the window started; the counter of the next window is another row.
    window_start INTEGER NOT NULL,
    -- Hits counted in the window, refused ones included.
    hits         INTEGER NOT NULL,
    -- When the window ends; the row may be deleted after that.
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (key_hash, window_start)
) WITHOUT ROWID;

CREATE INDEX idx_rate_limits_expires_at ON rate_limits (expires_at);

-- Security events (failed logins, password changes, ...). They never contain secrets.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY NOT NULL,
    -- The account concerned, if any.
    user_id     TEXT,
    -- What happened: a short dotted name such as `login.failed`.
    kind        TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    ip_address  TEXT,
    user_agent  TEXT,
    -- Anything else, as JSON text.
    detail      TEXT NOT NULL
) WITHOUT ROWID;

-- A user's events, newest first.
CREATE INDEX idx_audit_events_user_id ON audit_events (user_id, occurred_at);
-- Deleting by age.
CREATE INDEX idx_audit_events_occurred_at ON audit_events (occurred_at);
