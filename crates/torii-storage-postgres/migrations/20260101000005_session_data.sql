-- Application key/value session data (`torii_core::session_store::SessionStore`): a cart, a locale, the
-- step of a wizard, under an id the application chooses. Times are timestamptz, as in the core tables.
--
-- No foreign key to users: the data may belong to a visitor who is not logged in.

CREATE TABLE session_data (
    -- The application's id for the data. It may be a bearer secret (a cookie value), so it is never logged.
    id         text PRIMARY KEY,
    -- The keys and values, as a JSON object of strings. text rather than jsonb: jsonb refuses the
    -- escaped NUL character (\u0000), which a value may contain.
    data       text NOT NULL,
    -- Loads compare this with the current time; expired rows are invisible until they are cleaned up.
    expires_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX idx_session_data_expires_at ON session_data (expires_at);
