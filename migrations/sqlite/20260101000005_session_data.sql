-- Application key/value session data (`torii_core::session_store::SessionStore`): a cart, a locale, the
-- step of a wizard, under an id the application chooses.
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC), as in the core tables.
--
-- No foreign key to users: the data may belong to a visitor who is not logged in.

CREATE TABLE session_data (
    -- The application's id for the data. It may be a bearer secret (a cookie value), so it is never logged.
    id         TEXT PRIMARY KEY NOT NULL,
    -- The keys and values, as a JSON object of strings.
    data       TEXT NOT NULL,
    -- Loads compare this with the current time; expired rows are invisible until they are cleaned up.
    expires_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX idx_session_data_expires_at ON session_data (expires_at);
