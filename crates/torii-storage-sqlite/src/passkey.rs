//! WebAuthn credentials and the state of ceremonies in progress.

use chrono::{DateTime, Utc};
use torii_core::storage::{CeremonyKind, PasskeyChallenge, PasskeyCredential, PasskeyStorage};
use torii_core::{ChallengeId, StorageError, StorageResult, UserId};

use crate::SqliteRepositoryProvider;
use crate::error::on;
use crate::time::{from_micros, from_micros_opt, to_micros};

/// How many expired challenges a consume sweeps away. The trait has no cleanup method for challenges,
/// so abandoned ceremonies are removed here, a bounded batch at a time.
const CHALLENGE_SWEEP_BATCH: i64 = 100;

/// A `passkeys` row as SQLite returns it.
#[derive(sqlx::FromRow)]
struct PasskeyRow {
    credential_id: String,
    user_id: String,
    name: String,
    data: String,
    sign_count: i64,
    backup_eligible: bool,
    backup_state: bool,
    created_at: i64,
    last_used_at: Option<i64>,
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
            created_at: from_micros(self.created_at, "passkeys.created_at")?,
            last_used_at: from_micros_opt(self.last_used_at, "passkeys.last_used_at")?,
        })
    }
}

/// A `passkey_challenges` row as SQLite returns it.
#[derive(sqlx::FromRow)]
struct ChallengeRow {
    id: String,
    kind: String,
    user_id: Option<String>,
    email: Option<String>,
    state: String,
    created_at: i64,
    expires_at: i64,
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
            created_at: from_micros(self.created_at, "passkey_challenges.created_at")?,
            expires_at: from_micros(self.expires_at, "passkey_challenges.expires_at")?,
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

impl PasskeyStorage for SqliteRepositoryProvider {
    async fn create_passkey(&self, credential: &PasskeyCredential) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO passkeys (credential_id, user_id, name, data, sign_count, backup_eligible, backup_state, \
             created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(credential.credential_id.as_str())
        .bind(credential.user_id.as_str())
        .bind(credential.name.as_str())
        .bind(credential.data.as_str())
        .bind(i64::from(credential.sign_count))
        .bind(credential.backup_eligible)
        .bind(credential.backup_state)
        .bind(to_micros(credential.created_at))
        .bind(credential.last_used_at.map(to_micros))
        .execute(&self.pool)
        .await
        .map_err(on("passkey"))?;
        tracing::debug!(user_id = %credential.user_id, "registered passkey");
        Ok(())
    }

    async fn get_passkey(&self, credential_id: &str) -> StorageResult<Option<PasskeyCredential>> {
        let row: Option<PasskeyRow> = sqlx::query_as(passkey_select!("WHERE credential_id = ?"))
            .bind(credential_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(on("passkey"))?;
        row.map(PasskeyRow::into_credential).transpose()
    }

    async fn list_passkeys(&self, user_id: &UserId) -> StorageResult<Vec<PasskeyCredential>> {
        let rows: Vec<PasskeyRow> =
            sqlx::query_as(passkey_select!("WHERE user_id = ? ORDER BY created_at ASC, credential_id ASC"))
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
        let result = sqlx::query(
            "UPDATE passkeys SET data = ?, sign_count = ?, backup_state = ?, last_used_at = ? WHERE credential_id = ?",
        )
        .bind(data)
        .bind(i64::from(sign_count))
        .bind(backup_state)
        .bind(to_micros(used_at))
        .bind(credential_id)
        .execute(&self.pool)
        .await
        .map_err(on("passkey"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn rename_passkey(&self, user_id: &UserId, credential_id: &str, name: &str) -> StorageResult<bool> {
        let result = sqlx::query("UPDATE passkeys SET name = ? WHERE user_id = ? AND credential_id = ?")
            .bind(name)
            .bind(user_id.as_str())
            .bind(credential_id)
            .execute(&self.pool)
            .await
            .map_err(on("passkey"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn delete_passkey(&self, user_id: &UserId, credential_id: &str) -> StorageResult<bool> {
        let result = sqlx::query("DELETE FROM passkeys WHERE user_id = ? AND credential_id = ?")
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
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(challenge.id.as_str())
        .bind(challenge.kind.as_str())
        .bind(challenge.user_id.as_ref().map(UserId::as_str))
        .bind(challenge.email.as_deref())
        .bind(challenge.state.as_str())
        .bind(to_micros(challenge.created_at))
        .bind(to_micros(challenge.expires_at))
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
        let now = to_micros(now);
        // One DELETE ... RETURNING: of concurrent callers, exactly one gets the row. A challenge of the
        // other kind is left alone (it is not this ceremony's to spend).
        let row: Option<ChallengeRow> = sqlx::query_as(
            "DELETE FROM passkey_challenges WHERE id = ? AND kind = ? AND expires_at > ? \
             RETURNING id, kind, user_id, email, state, created_at, expires_at",
        )
        .bind(id.as_str())
        .bind(kind.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(on("passkey challenge"))?;
        let sweep = sqlx::query(
            "DELETE FROM passkey_challenges WHERE id IN \
             (SELECT id FROM passkey_challenges WHERE expires_at <= ? LIMIT ?)",
        )
        .bind(now)
        .bind(CHALLENGE_SWEEP_BATCH)
        .execute(&self.pool)
        .await;
        // The sweep is housekeeping: the row above is already consumed, so a failed sweep must not
        // turn into a failed (and unrepeatable) flow.
        if let Err(err) = sweep {
            tracing::warn!(error = %err, "could not sweep expired passkey challenges");
        }
        row.map(ChallengeRow::into_challenge).transpose()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use torii_core::storage::UserStorage as _;

    use super::*;
    use crate::tests::{memory, new_user, t};

    #[tokio::test]
    async fn credentials_round_trip_and_are_owned() {
        let db = memory().await;
        let user = db.create_user(&new_user("k@example.com")).await.unwrap();
        let other = db.create_user(&new_user("x@example.com")).await.unwrap();
        let cred = PasskeyCredential {
            credential_id: "cred-1".into(),
            user_id: user.id.clone(),
            name: "YubiKey 'five' 🔑".into(),
            data: "{\"json\": \"'; DROP TABLE passkeys;--\"}".into(),
            sign_count: u32::MAX,
            backup_eligible: true,
            backup_state: false,
            created_at: t(1),
            last_used_at: None,
        };
        db.create_passkey(&cred).await.unwrap();
        assert!(matches!(db.create_passkey(&cred).await, Err(StorageError::Conflict("passkey"))));
        assert_eq!(db.get_passkey("cred-1").await.unwrap(), Some(cred.clone()));

        assert!(db.update_passkey_usage("cred-1", "new", 7, true, t(9)).await.unwrap());
        assert!(!db.update_passkey_usage("nope", "new", 7, true, t(9)).await.unwrap());
        assert!(!db.rename_passkey(&other.id, "cred-1", "mine now").await.unwrap());
        assert!(db.rename_passkey(&user.id, "cred-1", "Laptop").await.unwrap());
        let stored = db.list_passkeys(&user.id).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!((stored[0].sign_count, stored[0].backup_state, stored[0].last_used_at), (7, true, Some(t(9))));
        assert_eq!((stored[0].name.as_str(), stored[0].data.as_str()), ("Laptop", "new"));
        assert!(!db.delete_passkey(&other.id, "cred-1").await.unwrap());
        assert!(db.delete_passkey(&user.id, "cred-1").await.unwrap());
    }

    #[tokio::test]
    async fn challenges_match_kind_and_are_single_use() {
        let db = memory().await;
        let challenge = PasskeyChallenge {
            id: ChallengeId::new_random(),
            kind: CeremonyKind::Registration,
            user_id: None,
            email: Some("k@example.com".into()),
            state: "{}".into(),
            created_at: t(0),
            expires_at: t(10),
        };
        db.store_challenge(&challenge).await.unwrap();
        assert_eq!(db.consume_challenge(&challenge.id, CeremonyKind::Authentication, t(1)).await.unwrap(), None);
        assert_eq!(db.consume_challenge(&challenge.id, CeremonyKind::Registration, t(10)).await.unwrap(), None);
        db.store_challenge(&PasskeyChallenge { expires_at: t(20), ..challenge.clone() }).await.unwrap();
        let got = db.consume_challenge(&challenge.id, CeremonyKind::Registration, t(19)).await.unwrap();
        assert_eq!(got.map(|c| c.expires_at), Some(t(20)));
        assert_eq!(db.consume_challenge(&challenge.id, CeremonyKind::Registration, t(19)).await.unwrap(), None);
    }
}
