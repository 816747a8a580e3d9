-- Look-alike addresses and pre-account hijacking.

-- users.email_normalized, the uniqueness key of an address, is now NFKC-normalised and then
-- case-folded by Torii (torii_core::email::normalize_email), not only lower-cased, so look-alike
-- spellings (full-width letters, the KELVIN SIGN) are one account. SQL cannot compute NFKC, so the
-- existing users are listed here and `migrate()` rewrites their keys in Rust, removing each row from
-- this list once its key is rewritten. A user whose new key already belongs to another account stays
-- listed, with its old key and its data untouched, and `migrate()` logs it every time until an
-- operator changes one of the two addresses or merges the accounts.
CREATE TABLE email_key_backfill (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE
) WITHOUT ROWID;

INSERT INTO email_key_backfill (user_id) SELECT id FROM users;

-- Whether the provider said the email was verified when the link was made (0 for existing links:
-- unknown, so not counted as verified).
ALTER TABLE oauth_accounts ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
