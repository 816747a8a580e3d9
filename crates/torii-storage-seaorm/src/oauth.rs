//! Linked OAuth/OIDC accounts and the state of authorization flows in progress.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QueryTrait as _};
use torii_core::storage::{OAuthAccount, OAuthState, OAuthStorage};
use torii_core::{StorageResult, TokenHash, UserId};

use crate::SeaORMRepositoryProvider;
use crate::db;
use crate::entity::{oauth_accounts, oauth_states};
use crate::error::{map_db, on};
use crate::time::micros;

/// How many expired flow states a consume sweeps away. The trait has no cleanup method for states, so
/// abandoned flows are removed here, a bounded batch at a time.
const STATE_SWEEP_BATCH: u32 = 100;

/// The provider link a row describes.
fn into_account(row: oauth_accounts::Model) -> OAuthAccount {
    OAuthAccount {
        user_id: UserId::new(row.user_id),
        provider: row.provider,
        subject: row.subject,
        email: row.email,
        email_verified: row.email_verified,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// The flow state a row describes.
fn into_state(row: oauth_states::Model) -> OAuthState {
    OAuthState {
        state_hash: TokenHash::from_stored(row.state_hash),
        provider: row.provider,
        pkce_verifier: row.pkce_verifier,
        nonce: row.nonce,
        redirect_to: row.redirect_to,
        link_user_id: row.link_user_id.map(UserId::new),
        created_at: row.created_at,
        expires_at: row.expires_at,
    }
}

impl OAuthStorage for SeaORMRepositoryProvider {
    async fn create_oauth_account(&self, account: &OAuthAccount) -> StorageResult<()> {
        let row = oauth_accounts::ActiveModel {
            provider: Set(account.provider.clone()),
            subject: Set(account.subject.clone()),
            user_id: Set(account.user_id.as_str().to_owned()),
            email: Set(account.email.clone()),
            email_verified: Set(account.email_verified),
            created_at: Set(micros(account.created_at)),
            updated_at: Set(micros(account.updated_at)),
        };
        db::execute(&self.db, oauth_accounts::Entity::insert(row).as_query()).await.map_err(on("oauth account"))?;
        tracing::debug!(user_id = %account.user_id, provider = %account.provider, "linked OAuth account");
        Ok(())
    }

    async fn get_oauth_account(&self, provider: &str, subject: &str) -> StorageResult<Option<OAuthAccount>> {
        let query = oauth_accounts::Entity::find_by_id((provider.to_owned(), subject.to_owned()));
        let row: Option<oauth_accounts::Model> =
            db::one(&self.db, query.as_query()).await.map_err(on("oauth account"))?;
        Ok(row.map(into_account))
    }

    async fn list_oauth_accounts(&self, user_id: &UserId) -> StorageResult<Vec<OAuthAccount>> {
        let query = oauth_accounts::Entity::find()
            .filter(oauth_accounts::Column::UserId.eq(user_id.as_str()))
            .order_by_asc(oauth_accounts::Column::CreatedAt)
            .order_by_asc(oauth_accounts::Column::Provider);
        let rows: Vec<oauth_accounts::Model> =
            db::all(&self.db, query.as_query()).await.map_err(on("oauth account"))?;
        Ok(rows.into_iter().map(into_account).collect())
    }

    async fn delete_oauth_account(&self, user_id: &UserId, provider: &str) -> StorageResult<bool> {
        let delete = oauth_accounts::Entity::delete_many()
            .filter(oauth_accounts::Column::UserId.eq(user_id.as_str()))
            .filter(oauth_accounts::Column::Provider.eq(provider));
        Ok(db::execute(&self.db, delete.as_query()).await.map_err(on("oauth account"))? > 0)
    }

    async fn store_oauth_state(&self, state: &OAuthState) -> StorageResult<()> {
        let row = oauth_states::ActiveModel {
            state_hash: Set(state.state_hash.as_str().to_owned()),
            provider: Set(state.provider.clone()),
            pkce_verifier: Set(state.pkce_verifier.clone()),
            nonce: Set(state.nonce.clone()),
            redirect_to: Set(state.redirect_to.clone()),
            link_user_id: Set(state.link_user_id.as_ref().map(|id| id.as_str().to_owned())),
            created_at: Set(micros(state.created_at)),
            expires_at: Set(micros(state.expires_at)),
        };
        db::execute(&self.db, oauth_states::Entity::insert(row).as_query()).await.map_err(on("oauth state"))?;
        Ok(())
    }

    async fn consume_oauth_state(
        &self,
        state_hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<OAuthState>> {
        let select = oauth_states::Entity::find_by_id(state_hash.as_str())
            .filter(oauth_states::Column::ExpiresAt.gt(micros(now)));
        let delete =
            oauth_states::Entity::delete_many().filter(oauth_states::Column::StateHash.eq(state_hash.as_str()));
        let row = db::take(&self.db, select, delete).await.map_err(on("oauth state"))?;
        // Housekeeping after the fact: a failure here must not lose the state that was just consumed.
        let swept = db::delete_expired(
            &self.db,
            oauth_states::Entity,
            oauth_states::Column::StateHash,
            oauth_states::Column::ExpiresAt,
            now,
            STATE_SWEEP_BATCH,
        )
        .await;
        if let Err(err) = swept {
            tracing::warn!(error = %map_db(err, "oauth state"), "could not delete expired OAuth states");
        }
        Ok(row.map(into_state))
    }
}
