//! WebAuthn credentials and the state of ceremonies in progress.

use chrono::{DateTime, Utc};
use torii_core::storage::{CeremonyKind, PasskeyChallenge, PasskeyCredential, PasskeyStorage};
use torii_core::{ChallengeId, StorageError, StorageResult, UserId};

use crate::PostgresRepositoryProvider;
use crate::error::{on, storable};
use crate::time::{micros, micros_opt};

/// How many expired challenges a consume sweeps away. The trait has no cleanup method for challenges,
/// so abandoned ceremonies are removed here, a bounded batch at a time.
const CHALLENGE_SWEEP_BATCH: i64 = 100;

/// A `passkeys` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct PasskeyRow {
    credential_id: String,
    user_id: String,
    name: String,
    data: String,
    sign_count: i64,
    backup_eligible: bool,
    backup_state: bool,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

impl PasskeyRow {
    fn into_credential(self) -> StorageResult<PasskeyCredential> {
        Ok(PasskeyCredential {
            credential_id: self.credential_id,
            user_id: UserId::new(self.user_id),
            name: self.name,
            data: self.data,
            sign_count: u32::try_from(self.sign_count)
                .map_err(|_| StorageError::Corrupt("passkeys.sign_count is out of range".into()))?,
            backup_eligible: self.backup_eligible,
            backup_state: self.backup_state,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
        })
    }
}

/// A `passkey_challenges` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct ChallengeRow {
    id: String,
    kind: String,
    user_id: Option<String>,
    email: Option<String>,
    state: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl ChallengeRow {
    fn into_challenge(self) -> StorageResult<PasskeyChallenge> {
        Ok(PasskeyChallenge {
            id: ChallengeId::new(self.id),
            kind: CeremonyKind::parse(&self.kind)
                .ok_or_else(|| StorageError::Corrupt("passkey_challenges.kind is unknown".into()))?,
            user_id: self.user_id.map(UserId::new),
            email: self.email,
            state: self.state,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

/// The columns of [`PasskeyRow`], for the SELECTs below.
macro_rules! passkey_select {
    ($rest:literal) => {
        concat!(
            "SELECT credential_id, user_id, name, data, sign_count, backup_eligible, backup_state, created_at, \
             last_used_at FROM passkeys ",
            $rest
        )
    };
}

impl PasskeyStorage for PostgresRepositoryProvider {
    async fn create_passkey(&self, credential: &PasskeyCredential) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO passkeys (credential_id, user_id, name, data, sign_count, backup_eligible, backup_state, \
             created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(credential.credential_id.as_str())
        .bind(credential.user_id.as_str())
        .bind(credential.name.as_str())
        .bind(credential.data.as_str())
        .bind(i64::from(credential.sign_count))
        .bind(credential.backup_eligible)
        .bind(credential.backup_state)
        .bind(micros(credential.created_at))
        .bind(micros_opt(credential.last_used_at))
        .execute(&self.pool)
        .await
        .map_err(on("passkey"))?;
        tracing::debug!(user_id = %credential.user_id, "registered passkey");
        Ok(())
    }

    async fn get_passkey(&self, credential_id: &str) -> StorageResult<Option<PasskeyCredential>> {
        if !storable(&[credential_id]) {
            return Ok(None);
        }
        let row: Option<PasskeyRow> = sqlx::query_as(passkey_select!("WHERE credential_id = $1"))
            .bind(credential_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(on("passkey"))?;
        row.map(PasskeyRow::into_credential).transpose()
    }

    async fn list_passkeys(&self, user_id: &UserId) -> StorageResult<Vec<PasskeyCredential>> {
        if !storable(&[user_id.as_str()]) {
            return Ok(Vec::new());
        }
        // COLLATE "C": ties are broken by byte order, as on the other backends.
        let rows: Vec<PasskeyRow> = sqlx::query_as(passkey_select!(
            "WHERE user_id = $1 ORDER BY created_at ASC, credential_id COLLATE \"C\" ASC"
        ))
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(on("passkey"))?;
        rows.into_iter().map(PasskeyRow::into_credential).collect()
    }

    async fn update_passkey_usage(
        &self,
        credential_id: &str,
        data: &str,
        sign_count: u32,
        backup_state: bool,
        used_at: DateTime<Utc>,
    ) -> StorageResult<bool> {
        if !storable(&[credential_id]) {
            return Ok(false);
        }
        let result = sqlx::query(
            "UPDATE passkeys SET data = $1, sign_count = $2, backup_state = $3, last_used_at = $4 \
             WHERE credential_id = $5",
        )
        .bind(data)
        .bind(i64::from(sign_count))
        .bind(backup_state)
        .bind(micros(used_at))
        .bind(credential_id)
        .execute(&self.pool)
        .await
        .map_err(on("passkey"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn rename_passkey(&self, user_id: &UserId, credential_id: &str, name: &str) -> StorageResult<bool> {
        if !storable(&[user_id.as_str(), credential_id]) {
            return Ok(false);
        }
        let result = sqlx::query("UPDATE passkeys SET name = $1 WHERE user_id = $2 AND credential_id = $3")
            .bind(name)
            .bind(user_id.as_str())
            .bind(credential_id)
            .execute(&self.pool)
            .await
            .map_err(on("passkey"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn delete_passkey(&self, user_id: &UserId, credential_id: &str) -> StorageResult<bool> {
        if !storable(&[user_id.as_str(), credential_id]) {
            return Ok(false);
        }
        let result = sqlx::query("DELETE FROM passkeys WHERE user_id = $1 AND credential_id = $2")
            .bind(user_id.as_str())
            .bind(credential_id)
            .execute(&self.pool)
            .await
            .map_err(on("passkey"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn store_challenge(&self, challenge: &PasskeyChallenge) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO passkey_challenges (id, kind, user_id, email, state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(challenge.id.as_str())
        .bind(challenge.kind.as_str())
        .bind(challenge.user_id.as_ref().map(UserId::as_str))
        .bind(challenge.email.as_deref())
        .bind(challenge.state.as_str())
        .bind(micros(challenge.created_at))
        .bind(micros(challenge.expires_at))
        .execute(&self.pool)
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
        let now = micros(now);
        let row: Option<ChallengeRow> = if storable(&[id.as_str()]) {
            // One DELETE ... RETURNING: of concurrent callers, one deletes the row and the others,
            // waiting on its row lock, find it gone. A challenge of the other kind is left alone (it is
            // not this ceremony's to spend).
            sqlx::query_as(
                "DELETE FROM passkey_challenges WHERE id = $1 AND kind = $2 AND expires_at > $3 \
                 RETURNING id, kind, user_id, email, state, created_at, expires_at",
            )
            .bind(id.as_str())
            .bind(kind.as_str())
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(on("passkey challenge"))?
        } else {
            None
        };
        let sweep = sqlx::query(
            "DELETE FROM passkey_challenges WHERE id IN \
             (SELECT id FROM passkey_challenges WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(now)
        .bind(CHALLENGE_SWEEP_BATCH)
        .execute(&self.pool)
        .await;
        // The sweep is housekeeping: the challenge above is already consumed, so a failed sweep must not
        // turn into a failed (and unrepeatable) ceremony.
        if let Err(err) = sweep {
            tracing::warn!(error = %err, "could not sweep expired passkey challenges");
        }
        row.map(ChallengeRow::into_challenge).transpose()
    }
}
