//! The audit log: security events per account, newest first.

use chrono::{DateTime, Utc};
use torii_core::storage::{AuditEvent, AuditEventKind, AuditLogStorage};
use torii_core::{AuditEventId, StorageError, StorageResult, UserId};

use crate::PostgresRepositoryProvider;
use crate::error::{on, storable};
use crate::time::micros;

/// An `audit_events` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    user_id: Option<String>,
    kind: String,
    occurred_at: DateTime<Utc>,
    ip_address: Option<String>,
    user_agent: Option<String>,
    detail: String,
}

impl AuditRow {
    fn into_event(self) -> StorageResult<AuditEvent> {
        Ok(AuditEvent {
            id: AuditEventId::new(self.id),
            user_id: self.user_id.map(UserId::new),
            kind: AuditEventKind::from_stored(self.kind)?,
            at: self.occurred_at,
            ip_address: self.ip_address,
            user_agent: self.user_agent,
            detail: serde_json::from_str(&self.detail)
                .map_err(|_| StorageError::Corrupt("audit_events.detail is not JSON".to_owned()))?,
        })
    }
}

impl AuditLogStorage for PostgresRepositoryProvider {
    async fn record_audit_event(&self, event: &AuditEvent) -> StorageResult<()> {
        // `detail` is JSON text, where a NUL character is always escaped (`\u0000`); the other text
        // columns are refused with InvalidData when they hold one.
        sqlx::query(
            "INSERT INTO audit_events (id, user_id, kind, occurred_at, ip_address, user_agent, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(event.id.as_str())
        .bind(event.user_id.as_ref().map(UserId::as_str))
        .bind(event.kind.as_str())
        .bind(micros(event.at))
        .bind(event.ip_address.as_deref())
        .bind(event.user_agent.as_deref())
        .bind(event.detail.to_string())
        .execute(&self.pool)
        .await
        .map_err(on("audit event"))?;
        Ok(())
    }

    async fn list_audit_events_for_user(&self, user_id: &UserId, limit: u32) -> StorageResult<Vec<AuditEvent>> {
        if !storable(&[user_id.as_str()]) {
            return Ok(Vec::new());
        }
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, user_id, kind, occurred_at, ip_address, user_agent, detail FROM audit_events \
             WHERE user_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(on("audit event"))?;
        rows.into_iter().map(AuditRow::into_event).collect()
    }

    async fn delete_audit_events_before(&self, cutoff: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        let result = sqlx::query(
            "DELETE FROM audit_events WHERE id IN \
             (SELECT id FROM audit_events WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(micros(cutoff))
        .bind(i64::from(batch_size))
        .execute(&self.pool)
        .await
        .map_err(on("audit event"))?;
        tracing::debug!(deleted = result.rows_affected(), "deleted old audit events");
        Ok(result.rows_affected())
    }
}
