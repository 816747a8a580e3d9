//! Server-side sessions, keyed by the SHA-256 of their token.

use chrono::{DateTime, Utc};
use torii_core::storage::SessionStorage;
use torii_core::{SessionId, SessionRecord, StorageResult, TokenHash, UserId};

use crate::SqliteRepositoryProvider;
use crate::error::on;
use crate::time::{from_micros, to_micros};

/// A `sessions` row as SQLite returns it.
#[derive(sqlx::FromRow)]
struct SessionRow {
    token_hash: String,
    id: String,
    user_id: String,
    user_agent: Option<String>,
    ip_address: Option<String>,
    created_at: i64,
    updated_at: i64,
    expires_at: i64,
}

impl SessionRow {
    fn into_record(self) -> StorageResult<SessionRecord> {
        Ok(SessionRecord {
            id: SessionId::new(self.id),
            token_hash: TokenHash::from_stored(self.token_hash),
            user_id: UserId::new(self.user_id),
            user_agent: self.user_agent,
            ip_address: self.ip_address,
            created_at: from_micros(self.created_at, "sessions.created_at")?,
            updated_at: from_micros(self.updated_at, "sessions.updated_at")?,
            expires_at: from_micros(self.expires_at, "sessions.expires_at")?,
        })
    }
}

impl SessionStorage for SqliteRepositoryProvider {
    async fn create_session(&self, session: &SessionRecord) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, id, user_id, user_agent, ip_address, created_at, updated_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(session.token_hash.as_str())
        .bind(session.id.as_str())
        .bind(session.user_id.as_str())
        .bind(session.user_agent.as_deref())
        .bind(session.ip_address.as_deref())
        .bind(to_micros(session.created_at))
        .bind(to_micros(session.updated_at))
        .bind(to_micros(session.expires_at))
        .execute(&self.pool)
        .await
        .map_err(on("session"))?;
        tracing::debug!(user_id = %session.user_id, session_id = %session.id, "created session");
        Ok(())
    }

    async fn get_session(&self, token_hash: &TokenHash, now: DateTime<Utc>) -> StorageResult<Option<SessionRecord>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT token_hash, id, user_id, user_agent, ip_address, created_at, updated_at, expires_at \
             FROM sessions WHERE token_hash = ? AND expires_at > ?",
        )
        .bind(token_hash.as_str())
        .bind(to_micros(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(on("session"))?;
        row.map(SessionRow::into_record).transpose()
    }

    async fn touch_session(&self, token_hash: &TokenHash, updated_at: DateTime<Utc>) -> StorageResult<bool> {
        let result = sqlx::query("UPDATE sessions SET updated_at = ? WHERE token_hash = ?")
            .bind(to_micros(updated_at))
            .bind(token_hash.as_str())
            .execute(&self.pool)
            .await
            .map_err(on("session"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn list_sessions_for_user(&self, user_id: &UserId, now: DateTime<Utc>) -> StorageResult<Vec<SessionRecord>> {
        // The id breaks ties so sessions created in the same microsecond still list in a stable order.
        let rows: Vec<SessionRow> = sqlx::query_as(
            "SELECT token_hash, id, user_id, user_agent, ip_address, created_at, updated_at, expires_at \
             FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id.as_str())
        .bind(to_micros(now))
        .fetch_all(&self.pool)
        .await
        .map_err(on("session"))?;
        rows.into_iter().map(SessionRow::into_record).collect()
    }

    async fn delete_session(&self, token_hash: &TokenHash) -> StorageResult<bool> {
        let result = sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash.as_str())
            .execute(&self.pool)
            .await
            .map_err(on("session"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn delete_session_by_id(&self, user_id: &UserId, session_id: &SessionId) -> StorageResult<bool> {
        let result = sqlx::query("DELETE FROM sessions WHERE id = ? AND user_id = ?")
            .bind(session_id.as_str())
            .bind(user_id.as_str())
            .execute(&self.pool)
            .await
            .map_err(on("session"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn delete_sessions_for_user(&self, user_id: &UserId, keep: Option<&SessionId>) -> StorageResult<u64> {
        // `?2 IS NULL OR id <> ?2`: with no session to keep, every one of the user's sessions goes.
        let result = sqlx::query("DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR id <> ?2)")
            .bind(user_id.as_str())
            .bind(keep.map(SessionId::as_str))
            .execute(&self.pool)
            .await
            .map_err(on("session"))?;
        tracing::debug!(user_id = %user_id, deleted = result.rows_affected(), "deleted sessions of user");
        Ok(result.rows_affected())
    }

    async fn cleanup_expired_sessions(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        // A bounded sub-select (SQLite's DELETE ... LIMIT is a compile-time option) keeps each call to
        // one short write transaction however large the backlog is.
        let result = sqlx::query(
            "DELETE FROM sessions WHERE token_hash IN \
             (SELECT token_hash FROM sessions WHERE expires_at <= ? LIMIT ?)",
        )
        .bind(to_micros(now))
        .bind(i64::from(batch_size))
        .execute(&self.pool)
        .await
        .map_err(on("session"))?;
        tracing::debug!(deleted = result.rows_affected(), "deleted expired sessions");
        Ok(result.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use torii_core::storage::UserStorage as _;
    use torii_core::{SessionToken, StorageError};

    use super::*;
    use crate::tests::{memory, new_user, t};

    fn record(user_id: &UserId, token: &SessionToken, created: i64, expires: i64) -> SessionRecord {
        SessionRecord {
            id: SessionId::new_random(),
            token_hash: token.hash(),
            user_id: user_id.clone(),
            user_agent: Some("Mozilla/5.0 'quoted' \"twice\" ; --".into()),
            ip_address: Some("2001:db8::1".into()),
            created_at: t(created),
            updated_at: t(created),
            expires_at: t(expires),
        }
    }

    #[tokio::test]
    async fn rows_hold_the_hash_never_the_token() {
        let db = memory().await;
        let user = db.create_user(&new_user("s@example.com")).await.unwrap();
        let token = SessionToken::new_random();
        db.create_session(&record(&user.id, &token, 0, 100)).await.unwrap();

        // Every column of every row, as text.
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT token_hash || '|' || id || '|' || user_id || '|' || COALESCE(user_agent, '') || '|' || \
             COALESCE(ip_address, '') || '|' || created_at || '|' || updated_at || '|' || expires_at FROM sessions",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].starts_with(token.hash().as_str()));
        assert!(!rows[0].contains(token.as_str()));
    }

    #[tokio::test]
    async fn expiry_listing_and_deletion() {
        let db = memory().await;
        let user = db.create_user(&new_user("s@example.com")).await.unwrap();
        let other = db.create_user(&new_user("o@example.com")).await.unwrap();
        let (a, b, c) = (SessionToken::new_random(), SessionToken::new_random(), SessionToken::new_random());
        let ra = record(&user.id, &a, 1, 10);
        let rb = record(&user.id, &b, 2, 100);
        let rc = record(&user.id, &c, 3, 100);
        for r in [&ra, &rb, &rc] {
            db.create_session(r).await.unwrap();
        }
        assert!(matches!(db.create_session(&ra).await, Err(StorageError::Conflict("session"))));
        let orphan = record(&UserId::new("ghost"), &SessionToken::new_random(), 1, 10);
        assert!(matches!(db.create_session(&orphan).await, Err(StorageError::NotFound("user"))));

        assert_eq!(db.get_session(&a.hash(), t(9)).await.unwrap(), Some(ra.clone()));
        assert_eq!(db.get_session(&a.hash(), t(10)).await.unwrap(), None);
        let listed = db.list_sessions_for_user(&user.id, t(10)).await.unwrap();
        assert_eq!(listed, vec![rc.clone(), rb.clone()]);

        assert!(!db.delete_session_by_id(&other.id, &rb.id).await.unwrap());
        assert!(db.delete_session_by_id(&user.id, &rb.id).await.unwrap());
        assert_eq!(db.delete_sessions_for_user(&user.id, Some(&rc.id)).await.unwrap(), 1);
        assert_eq!(db.get_session(&c.hash(), t(0)).await.unwrap(), Some(rc));
        assert_eq!(db.delete_sessions_for_user(&user.id, None).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn cleanup_is_batched() {
        let db = memory().await;
        let user = db.create_user(&new_user("s@example.com")).await.unwrap();
        for i in 0..5 {
            db.create_session(&record(&user.id, &SessionToken::new_random(), 0, i)).await.unwrap();
        }
        db.create_session(&record(&user.id, &SessionToken::new_random(), 0, 100)).await.unwrap();
        assert_eq!(db.cleanup_expired_sessions(t(50), 2).await.unwrap(), 2);
        assert_eq!(db.cleanup_expired_sessions(t(50), 0).await.unwrap(), 0);
        assert_eq!(db.cleanup_expired_sessions(t(50), 10).await.unwrap(), 3);
        assert_eq!(db.cleanup_expired_sessions(t(50), 10).await.unwrap(), 0);
        assert_eq!(db.list_sessions_for_user(&user.id, t(50)).await.unwrap().len(), 1);
    }
}
