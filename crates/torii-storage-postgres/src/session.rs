//! Server-side sessions, keyed by the SHA-256 of their token.

use chrono::{DateTime, Utc};
use torii_core::storage::SessionStorage;
use torii_core::{SessionId, SessionRecord, StorageResult, TokenHash, UserId};

use crate::PostgresRepositoryProvider;
use crate::error::{on, storable};
use crate::time::micros;

/// A `sessions` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct SessionRow {
    token_hash: String,
    id: String,
    user_id: String,
    user_agent: Option<String>,
    ip_address: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl SessionRow {
    fn into_record(self) -> SessionRecord {
        SessionRecord {
            id: SessionId::new(self.id),
            token_hash: TokenHash::from_stored(self.token_hash),
            user_id: UserId::new(self.user_id),
            user_agent: self.user_agent,
            ip_address: self.ip_address,
            created_at: self.created_at,
            updated_at: self.updated_at,
            expires_at: self.expires_at,
        }
    }
}

impl SessionStorage for PostgresRepositoryProvider {
    async fn create_session(&self, session: &SessionRecord) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, id, user_id, user_agent, ip_address, created_at, updated_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(session.token_hash.as_str())
        .bind(session.id.as_str())
        .bind(session.user_id.as_str())
        .bind(session.user_agent.as_deref())
        .bind(session.ip_address.as_deref())
        .bind(micros(session.created_at))
        .bind(micros(session.updated_at))
        .bind(micros(session.expires_at))
        .execute(&self.pool)
        .await
        .map_err(on("session"))?;
        tracing::debug!(user_id = %session.user_id, session_id = %session.id, "created session");
        Ok(())
    }

    async fn get_session(&self, token_hash: &TokenHash, now: DateTime<Utc>) -> StorageResult<Option<SessionRecord>> {
        if !storable(&[token_hash.as_str()]) {
            return Ok(None);
        }
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT token_hash, id, user_id, user_agent, ip_address, created_at, updated_at, expires_at \
             FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash.as_str())
        .bind(micros(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(on("session"))?;
        Ok(row.map(SessionRow::into_record))
    }

    async fn touch_session(&self, token_hash: &TokenHash, updated_at: DateTime<Utc>) -> StorageResult<bool> {
        if !storable(&[token_hash.as_str()]) {
            return Ok(false);
        }
        let result = sqlx::query("UPDATE sessions SET updated_at = $1 WHERE token_hash = $2")
            .bind(micros(updated_at))
            .bind(token_hash.as_str())
            .execute(&self.pool)
            .await
            .map_err(on("session"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn list_sessions_for_user(&self, user_id: &UserId, now: DateTime<Utc>) -> StorageResult<Vec<SessionRecord>> {
        if !storable(&[user_id.as_str()]) {
            return Ok(Vec::new());
        }
        // The id breaks ties so sessions created in the same microsecond still list in a stable order;
        // COLLATE "C" compares bytes, as the other backends do, whatever the database's locale.
        let rows: Vec<SessionRow> = sqlx::query_as(
            "SELECT token_hash, id, user_id, user_agent, ip_address, created_at, updated_at, expires_at \
             FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, id COLLATE \"C\" DESC",
        )
        .bind(user_id.as_str())
        .bind(micros(now))
        .fetch_all(&self.pool)
        .await
        .map_err(on("session"))?;
        Ok(rows.into_iter().map(SessionRow::into_record).collect())
    }

    async fn delete_session(&self, token_hash: &TokenHash) -> StorageResult<bool> {
        if !storable(&[token_hash.as_str()]) {
            return Ok(false);
        }
        let result = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash.as_str())
            .execute(&self.pool)
            .await
            .map_err(on("session"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn delete_session_by_id(&self, user_id: &UserId, session_id: &SessionId) -> StorageResult<bool> {
        if !storable(&[user_id.as_str(), session_id.as_str()]) {
            return Ok(false);
        }
        let result = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(session_id.as_str())
            .bind(user_id.as_str())
            .execute(&self.pool)
            .await
            .map_err(on("session"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn delete_sessions_for_user(&self, user_id: &UserId, keep: Option<&SessionId>) -> StorageResult<u64> {
        if !storable(&[user_id.as_str()]) {
            return Ok(0);
        }
        // A `keep` id that cannot exist keeps nothing, exactly like an id of no session.
        let keep = keep.map(SessionId::as_str).filter(|id| storable(&[id]));
        // `$2 IS NULL OR id <> $2`: with no session to keep, every one of the user's sessions goes.
        let result = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2::text IS NULL OR id <> $2)")
            .bind(user_id.as_str())
            .bind(keep)
            .execute(&self.pool)
            .await
            .map_err(on("session"))?;
        tracing::debug!(user_id = %user_id, deleted = result.rows_affected(), "deleted sessions of user");
        Ok(result.rows_affected())
    }

    async fn cleanup_expired_sessions(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        // A bounded sub-select by primary key keeps each call one short statement however large the
        // backlog is. SKIP LOCKED lets concurrent cleaners (several instances) take different rows
        // instead of queueing behind each other's row locks.
        let result = sqlx::query(
            "DELETE FROM sessions WHERE token_hash IN \
             (SELECT token_hash FROM sessions WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(micros(now))
        .bind(i64::from(batch_size))
        .execute(&self.pool)
        .await
        .map_err(on("session"))?;
        tracing::debug!(deleted = result.rows_affected(), "deleted expired sessions");
        Ok(result.rows_affected())
    }
}
