//! WebAuthn credentials and the state of ceremonies in progress.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QueryTrait as _};
use torii_core::storage::{CeremonyKind, PasskeyChallenge, PasskeyCredential, PasskeyStorage};
use torii_core::{ChallengeId, StorageError, StorageResult, UserId};

use crate::SeaORMRepositoryProvider;
use crate::db;
use crate::entity::{passkey_challenges, passkeys};
use crate::error::{map_db, on};
use crate::time::{micros, micros_opt};

/// How many expired challenges a consume sweeps away. The trait has no cleanup method for challenges,
/// so abandoned ceremonies are removed here, a bounded batch at a time.
const CHALLENGE_SWEEP_BATCH: u32 = 100;

/// The credential a row describes.
fn into_credential(row: passkeys::Model) -> StorageResult<PasskeyCredential> {
    Ok(PasskeyCredential {
        credential_id: row.credential_id,
        user_id: UserId::new(row.user_id),
        name: row.name,
        data: row.data,
        sign_count: u32::try_from(row.sign_count)
            .map_err(|_| StorageError::Corrupt("passkeys.sign_count is out of range".into()))?,
        backup_eligible: row.backup_eligible,
        backup_state: row.backup_state,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
    })
}

/// The challenge a row describes.
fn into_challenge(row: passkey_challenges::Model) -> StorageResult<PasskeyChallenge> {
    Ok(PasskeyChallenge {
        id: ChallengeId::new(row.id),
        kind: CeremonyKind::parse(&row.kind)
            .ok_or_else(|| StorageError::Corrupt("passkey_challenges.kind is unknown".into()))?,
        user_id: row.user_id.map(UserId::new),
        email: row.email,
        state: row.state,
        created_at: row.created_at,
        expires_at: row.expires_at,
    })
}

impl PasskeyStorage for SeaORMRepositoryProvider {
    async fn create_passkey(&self, credential: &PasskeyCredential) -> StorageResult<()> {
        let row = passkeys::ActiveModel {
            credential_id: Set(credential.credential_id.clone()),
            user_id: Set(credential.user_id.as_str().to_owned()),
            name: Set(credential.name.clone()),
            data: Set(credential.data.clone()),
            sign_count: Set(i64::from(credential.sign_count)),
            backup_eligible: Set(credential.backup_eligible),
            backup_state: Set(credential.backup_state),
            created_at: Set(micros(credential.created_at)),
            last_used_at: Set(micros_opt(credential.last_used_at)),
        };
        db::execute(&self.db, passkeys::Entity::insert(row).as_query()).await.map_err(on("passkey"))?;
        tracing::debug!(user_id = %credential.user_id, "registered passkey");
        Ok(())
    }

    async fn get_passkey(&self, credential_id: &str) -> StorageResult<Option<PasskeyCredential>> {
        let query = passkeys::Entity::find_by_id(credential_id);
        let row: Option<passkeys::Model> = db::one(&self.db, query.as_query()).await.map_err(on("passkey"))?;
        row.map(into_credential).transpose()
    }

    async fn list_passkeys(&self, user_id: &UserId) -> StorageResult<Vec<PasskeyCredential>> {
        let query = passkeys::Entity::find()
            .filter(passkeys::Column::UserId.eq(user_id.as_str()))
            .order_by_asc(passkeys::Column::CreatedAt)
            .order_by_asc(passkeys::Column::CredentialId);
        let rows: Vec<passkeys::Model> = db::all(&self.db, query.as_query()).await.map_err(on("passkey"))?;
        rows.into_iter().map(into_credential).collect()
    }

    async fn update_passkey_usage(
        &self,
        credential_id: &str,
        data: &str,
        sign_count: u32,
        backup_state: bool,
        used_at: DateTime<Utc>,
    ) -> StorageResult<bool> {
        let changes = passkeys::ActiveModel {
            data: Set(data.to_owned()),
            sign_count: Set(i64::from(sign_count)),
            backup_state: Set(backup_state),
            last_used_at: Set(Some(micros(used_at))),
            credential_id: NotSet,
            user_id: NotSet,
            name: NotSet,
            backup_eligible: NotSet,
            created_at: NotSet,
        };
        let update =
            passkeys::Entity::update_many().set(changes).filter(passkeys::Column::CredentialId.eq(credential_id));
        Ok(db::execute(&self.db, update.as_query()).await.map_err(on("passkey"))? > 0)
    }

    async fn rename_passkey(&self, user_id: &UserId, credential_id: &str, name: &str) -> StorageResult<bool> {
        let changes = passkeys::ActiveModel { name: Set(name.to_owned()), ..Default::default() };
        let update = passkeys::Entity::update_many()
            .set(changes)
            .filter(passkeys::Column::UserId.eq(user_id.as_str()))
            .filter(passkeys::Column::CredentialId.eq(credential_id));
        Ok(db::execute(&self.db, update.as_query()).await.map_err(on("passkey"))? > 0)
    }

    async fn delete_passkey(&self, user_id: &UserId, credential_id: &str) -> StorageResult<bool> {
        let delete = passkeys::Entity::delete_many()
            .filter(passkeys::Column::UserId.eq(user_id.as_str()))
            .filter(passkeys::Column::CredentialId.eq(credential_id));
        Ok(db::execute(&self.db, delete.as_query()).await.map_err(on("passkey"))? > 0)
    }

    async fn store_challenge(&self, challenge: &PasskeyChallenge) -> StorageResult<()> {
        let row = passkey_challenges::ActiveModel {
            id: Set(challenge.id.as_str().to_owned()),
            kind: Set(challenge.kind.as_str().to_owned()),
            user_id: Set(challenge.user_id.as_ref().map(|id| id.as_str().to_owned())),
            email: Set(challenge.email.clone()),
            state: Set(challenge.state.clone()),
            created_at: Set(micros(challenge.created_at)),
            expires_at: Set(micros(challenge.expires_at)),
        };
        db::execute(&self.db, passkey_challenges::Entity::insert(row).as_query())
            .await
            .map_err(on("passkey challenge"))?;
        Ok(())
    }

    async fn consume_challenge(
        &self,
        id: &ChallengeId,
        kind: CeremonyKind,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<PasskeyChallenge>> {
        // A challenge of the other kind is left alone: it is not this ceremony's to spend.
        let select = passkey_challenges::Entity::find_by_id(id.as_str())
            .filter(passkey_challenges::Column::Kind.eq(kind.as_str()))
            .filter(passkey_challenges::Column::ExpiresAt.gt(micros(now)));
        let delete = passkey_challenges::Entity::delete_many().filter(passkey_challenges::Column::Id.eq(id.as_str()));
        let row = db::take(&self.db, select, delete).await.map_err(on("passkey challenge"))?;
        // Housekeeping after the fact: a failure here must not lose the challenge just consumed.
        let swept = db::delete_expired(
            &self.db,
            passkey_challenges::Entity,
            passkey_challenges::Column::Id,
            passkey_challenges::Column::ExpiresAt,
            now,
            CHALLENGE_SWEEP_BATCH,
        )
        .await;
        if let Err(err) = swept {
            tracing::warn!(error = %map_db(err, "passkey challenge"), "could not delete expired passkey challenges");
        }
        row.map(into_challenge).transpose()
    }
}
