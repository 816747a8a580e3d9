//! Linked OAuth/OIDC accounts and the state of authorization flows in progress.

use chrono::{DateTime, Utc};
use torii_core::storage::{OAuthAccount, OAuthState, OAuthStorage};
use torii_core::{StorageResult, TokenHash, UserId};

use crate::SqliteRepositoryProvider;
use crate::error::on;
use crate::time::{from_micros, to_micros};

/// How many expired flow states a successful or failed consume sweeps away. The trait has no cleanup
/// method for states, so abandoned flows are removed here, a bounded batch at a time.
const STATE_SWEEP_BATCH: i64 = 100;

/// An `oauth_accounts` row as SQLite returns it.
#[derive(sqlx::FromRow)]
struct AccountRow {
    user_id: String,
    provider: String,
    subject: String,
    email: Option<String>,
    email_verified: bool,
    created_at: i64,
    updated_at: i64,
}

impl AccountRow {
    fn into_account(self) -> StorageResult<OAuthAccount> {
        Ok(OAuthAccount {
            user_id: UserId::new(self.user_id),
            provider: self.provider,
            subject: self.subject,
            email: self.email,
            email_verified: self.email_verified,
            created_at: from_micros(self.created_at, "oauth_accounts.created_at")?,
            updated_at: from_micros(self.updated_at, "oauth_accounts.updated_at")?,
        })
    }
}

/// An `oauth_states` row as SQLite returns it.
#[derive(sqlx::FromRow)]
struct StateRow {
    state_hash: String,
    provider: String,
    pkce_verifier: String,
    nonce: Option<String>,
    redirect_to: Option<String>,
    link_user_id: Option<String>,
    created_at: i64,
    expires_at: i64,
}

impl StateRow {
    fn into_state(self) -> StorageResult<OAuthState> {
        Ok(OAuthState {
            state_hash: TokenHash::from_stored(self.state_hash),
            provider: self.provider,
            pkce_verifier: self.pkce_verifier,
            nonce: self.nonce,
            redirect_to: self.redirect_to,
            link_user_id: self.link_user_id.map(UserId::new),
            created_at: from_micros(self.created_at, "oauth_states.created_at")?,
            expires_at: from_micros(self.expires_at, "oauth_states.expires_at")?,
        })
    }
}

impl OAuthStorage for SqliteRepositoryProvider {
    async fn create_oauth_account(&self, account: &OAuthAccount) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO oauth_accounts (provider, subject, user_id, email, email_verified, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(account.provider.as_str())
        .bind(account.subject.as_str())
        .bind(account.user_id.as_str())
        .bind(account.email.as_deref())
        .bind(account.email_verified)
        .bind(to_micros(account.created_at))
        .bind(to_micros(account.updated_at))
        .execute(&self.pool)
        .await
        .map_err(on("oauth account"))?;
        tracing::debug!(user_id = %account.user_id, provider = %account.provider, "linked OAuth account");
        Ok(())
    }

    async fn get_oauth_account(&self, provider: &str, subject: &str) -> StorageResult<Option<OAuthAccount>> {
        let row: Option<AccountRow> = sqlx::query_as(
            "SELECT user_id, provider, subject, email, email_verified, created_at, updated_at \
             FROM oauth_accounts WHERE provider = ? AND subject = ?",
        )
        .bind(provider)
        .bind(subject)
        .fetch_optional(&self.pool)
        .await
        .map_err(on("oauth account"))?;
        row.map(AccountRow::into_account).transpose()
    }

    async fn list_oauth_accounts(&self, user_id: &UserId) -> StorageResult<Vec<OAuthAccount>> {
        let rows: Vec<AccountRow> = sqlx::query_as(
            "SELECT user_id, provider, subject, email, email_verified, created_at, updated_at \
             FROM oauth_accounts WHERE user_id = ? ORDER BY created_at ASC, provider ASC",
        )
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(on("oauth account"))?;
        rows.into_iter().map(AccountRow::into_account).collect()
    }

    async fn delete_oauth_account(&self, user_id: &UserId, provider: &str) -> StorageResult<bool> {
        let result = sqlx::query("DELETE FROM oauth_accounts WHERE user_id = ? AND provider = ?")
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(state.state_hash.as_str())
        .bind(state.provider.as_str())
        .bind(state.pkce_verifier.as_str())
        .bind(state.nonce.as_deref())
        .bind(state.redirect_to.as_deref())
        .bind(state.link_user_id.as_ref().map(UserId::as_str))
        .bind(to_micros(state.created_at))
        .bind(to_micros(state.expires_at))
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
        let now = to_micros(now);
        // One DELETE ... RETURNING: of concurrent callers with the same state, exactly one gets the row.
        let row: Option<StateRow> = sqlx::query_as(
            "DELETE FROM oauth_states WHERE state_hash = ? AND expires_at > ? \
             RETURNING state_hash, provider, pkce_verifier, nonce, redirect_to, link_user_id, created_at, expires_at",
        )
        .bind(state_hash.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(on("oauth state"))?;
        let sweep = sqlx::query(
            "DELETE FROM oauth_states WHERE state_hash IN \
             (SELECT state_hash FROM oauth_states WHERE expires_at <= ? LIMIT ?)",
        )
        .bind(now)
        .bind(STATE_SWEEP_BATCH)
        .execute(&self.pool)
        .await;
        // The sweep is housekeeping: the row above is already consumed, so a failed sweep must not
        // turn into a failed (and unrepeatable) flow.
        if let Err(err) = sweep {
            tracing::warn!(error = %err, "could not sweep expired oauth states");
        }
        row.map(StateRow::into_state).transpose()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use torii_core::StorageError;
    use torii_core::storage::UserStorage as _;

    use super::*;
    use crate::tests::{memory, new_user, t};

    fn state(link: Option<&UserId>, expires: i64) -> OAuthState {
        OAuthState {
            state_hash: TokenHash::of(&torii_core::token::generate_secret_token()),
            provider: "github".into(),
            pkce_verifier: "verifier 'with' quotes".into(),
            nonce: Some("nønce".into()),
            redirect_to: Some("/after?x=1&y=';--".into()),
            link_user_id: link.cloned(),
            created_at: t(0),
            expires_at: t(expires),
        }
    }

    #[tokio::test]
    async fn accounts_are_unique_and_listed_oldest_first() {
        let db = memory().await;
        let user = db.create_user(&new_user("o@example.com")).await.unwrap();
        let account = |provider: &str, subject: &str, at: i64| OAuthAccount {
            user_id: user.id.clone(),
            provider: provider.into(),
            subject: subject.into(),
            email: None,
            email_verified: false,
            created_at: t(at),
            updated_at: t(at),
        };
        db.create_oauth_account(&account("google", "1", 2)).await.unwrap();
        db.create_oauth_account(&account("github", "1", 1)).await.unwrap();
        assert!(matches!(
            db.create_oauth_account(&account("google", "1", 3)).await,
            Err(StorageError::Conflict("oauth account"))
        ));
        let mut ghost = account("gitlab", "9", 1);
        ghost.user_id = UserId::new("ghost");
        assert!(matches!(db.create_oauth_account(&ghost).await, Err(StorageError::NotFound("user"))));

        let listed = db.list_oauth_accounts(&user.id).await.unwrap();
        assert_eq!(listed.iter().map(|a| a.provider.as_str()).collect::<Vec<_>>(), ["github", "google"]);
        assert_eq!(db.get_oauth_account("google", "1").await.unwrap(), Some(account("google", "1", 2)));
        assert!(db.delete_oauth_account(&user.id, "google").await.unwrap());
        assert!(!db.delete_oauth_account(&user.id, "google").await.unwrap());
    }

    #[tokio::test]
    async fn states_are_single_use_and_expire() {
        let db = memory().await;
        let user = db.create_user(&new_user("o@example.com")).await.unwrap();
        let live = state(Some(&user.id), 100);
        let stale = state(None, 10);
        db.store_oauth_state(&live).await.unwrap();
        db.store_oauth_state(&stale).await.unwrap();
        assert!(matches!(db.store_oauth_state(&live).await, Err(StorageError::Conflict("oauth state"))));

        assert_eq!(db.consume_oauth_state(&stale.state_hash, t(10)).await.unwrap(), None);
        assert_eq!(db.consume_oauth_state(&live.state_hash, t(50)).await.unwrap(), Some(live.clone()));
        assert_eq!(db.consume_oauth_state(&live.state_hash, t(50)).await.unwrap(), None);
        // The expired state was swept, so it is gone even for an earlier clock.
        assert_eq!(db.consume_oauth_state(&stale.state_hash, t(0)).await.unwrap(), None);
    }
}
