//! Linked OAuth/OIDC accounts and the state of authorization flows in progress.

use chrono::{DateTime, Utc};
use torii_core::storage::{OAuthAccount, OAuthState, OAuthStorage};
use torii_core::{StorageResult, TokenHash, UserId};

use crate::PostgresRepositoryProvider;
use crate::error::{on, storable};
use crate::time::micros;

/// How many expired flow states a consume sweeps away. The trait has no cleanup method for states, so
/// abandoned flows are removed here, a bounded batch at a time.
const STATE_SWEEP_BATCH: i64 = 100;

/// An `oauth_accounts` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct AccountRow {
    user_id: String,
    provider: String,
    subject: String,
    email: Option<String>,
    email_verified: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl AccountRow {
    fn into_account(self) -> OAuthAccount {
        OAuthAccount {
            user_id: UserId::new(self.user_id),
            provider: self.provider,
            subject: self.subject,
            email: self.email,
            email_verified: self.email_verified,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// An `oauth_states` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct StateRow {
    state_hash: String,
    provider: String,
    pkce_verifier: String,
    nonce: Option<String>,
    redirect_to: Option<String>,
    link_user_id: Option<String>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl StateRow {
    fn into_state(self) -> OAuthState {
        OAuthState {
            state_hash: TokenHash::from_stored(self.state_hash),
            provider: self.provider,
            pkce_verifier: self.pkce_verifier,
            nonce: self.nonce,
            redirect_to: self.redirect_to,
            link_user_id: self.link_user_id.map(UserId::new),
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

impl OAuthStorage for PostgresRepositoryProvider {
    async fn create_oauth_account(&self, account: &OAuthAccount) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO oauth_accounts (provider, subject, user_id, email, email_verified, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(account.provider.as_str())
        .bind(account.subject.as_str())
        .bind(account.user_id.as_str())
        .bind(account.email.as_deref())
        .bind(account.email_verified)
        .bind(micros(account.created_at))
        .bind(micros(account.updated_at))
        .execute(&self.pool)
        .await
        .map_err(on("oauth account"))?;
        tracing::debug!(user_id = %account.user_id, provider = %account.provider, "linked OAuth account");
        Ok(())
    }

    async fn get_oauth_account(&self, provider: &str, subject: &str) -> StorageResult<Option<OAuthAccount>> {
        if !storable(&[provider, subject]) {
            return Ok(None);
        }
        let row: Option<AccountRow> = sqlx::query_as(
            "SELECT user_id, provider, subject, email, email_verified, created_at, updated_at \
             FROM oauth_accounts WHERE provider = $1 AND subject = $2",
        )
        .bind(provider)
        .bind(subject)
        .fetch_optional(&self.pool)
        .await
        .map_err(on("oauth account"))?;
        Ok(row.map(AccountRow::into_account))
    }

    async fn list_oauth_accounts(&self, user_id: &UserId) -> StorageResult<Vec<OAuthAccount>> {
        if !storable(&[user_id.as_str()]) {
            return Ok(Vec::new());
        }
        // COLLATE "C": ties are broken by byte order, as on the other backends.
        let rows: Vec<AccountRow> = sqlx::query_as(
            "SELECT user_id, provider, subject, email, email_verified, created_at, updated_at \
             FROM oauth_accounts WHERE user_id = $1 ORDER BY created_at ASC, provider COLLATE \"C\" ASC",
        )
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(on("oauth account"))?;
        Ok(rows.into_iter().map(AccountRow::into_account).collect())
    }

    async fn delete_oauth_account(&self, user_id: &UserId, provider: &str) -> StorageResult<bool> {
        if !storable(&[user_id.as_str(), provider]) {
            return Ok(false);
        }
        let result = sqlx::query("DELETE FROM oauth_accounts WHERE user_id = $1 AND provider = $2")
            .bind(user_id.as_str())
            .bind(provider)
            .execute(&self.pool)
            .await
            .map_err(on("oauth account"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn store_oauth_state(&self, state: &OAuthState) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO oauth_states \
             (state_hash, provider, pkce_verifier, nonce, redirect_to, link_user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(state.state_hash.as_str())
        .bind(state.provider.as_str())
        .bind(state.pkce_verifier.as_str())
        .bind(state.nonce.as_deref())
        .bind(state.redirect_to.as_deref())
        .bind(state.link_user_id.as_ref().map(UserId::as_str))
        .bind(micros(state.created_at))
        .bind(micros(state.expires_at))
        .execute(&self.pool)
        .await
        .map_err(on("oauth state"))?;
        Ok(())
    }

    async fn consume_oauth_state(
        &self,
        state_hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<OAuthState>> {
        let now = micros(now);
        let row: Option<StateRow> = if storable(&[state_hash.as_str()]) {
            // One DELETE ... RETURNING: of concurrent callers with the same state, one deletes the row
            // and the others, waiting on its row lock, find it gone.
            sqlx::query_as(
                "DELETE FROM oauth_states WHERE state_hash = $1 AND expires_at > $2 \
                 RETURNING state_hash, provider, pkce_verifier, nonce, redirect_to, link_user_id, created_at, expires_at",
            )
            .bind(state_hash.as_str())
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(on("oauth state"))?
        } else {
            None
        };
        let sweep = sqlx::query(
            "DELETE FROM oauth_states WHERE state_hash IN \
             (SELECT state_hash FROM oauth_states WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(now)
        .bind(STATE_SWEEP_BATCH)
        .execute(&self.pool)
        .await;
        // The sweep is housekeeping: the row above is already consumed, so a failed sweep must not turn
        // into a failed (and unrepeatable) flow.
        if let Err(err) = sweep {
            tracing::warn!(error = %err, "could not sweep expired oauth states");
        }
        Ok(row.map(StateRow::into_state))
    }
}
