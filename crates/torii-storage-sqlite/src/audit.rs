//! The audit log: security events per account, newest first.

use chrono::{DateTime, Utc};
use torii_core::storage::{AuditEvent, AuditEventKind, AuditLogStorage};
use torii_core::{AuditEventId, StorageError, StorageResult, UserId};

use crate::SqliteRepositoryProvider;
use crate::error::on;
use crate::time::{from_micros, to_micros};

/// An `audit_events` row as SQLite returns it.
#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    user_id: Option<String>,
    kind: String,
    occurred_at: i64,
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
            at: from_micros(self.occurred_at, "audit_events.occurred_at")?,
            ip_address: self.ip_address,
            user_agent: self.user_agent,
            detail: serde_json::from_str(&self.detail)
                .map_err(|_| StorageError::Corrupt("audit_events.detail is not JSON".to_owned()))?,
        })
    }
}

impl AuditLogStorage for SqliteRepositoryProvider {
    async fn record_audit_event(&self, event: &AuditEvent) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (id, user_id, kind, occurred_at, ip_address, user_agent, detail) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(event.id.as_str())
        .bind(event.user_id.as_ref().map(UserId::as_str))
        .bind(event.kind.as_str())
        .bind(to_micros(event.at))
        .bind(event.ip_address.as_deref())
        .bind(event.user_agent.as_deref())
        .bind(event.detail.to_string())
        .execute(&self.pool)
        .await
        .map_err(on("audit event"))?;
        Ok(())
    }

    async fn list_audit_events_for_user(&self, user_id: &UserId, limit: u32) -> StorageResult<Vec<AuditEvent>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, user_id, kind, occurred_at, ip_address, user_agent, detail FROM audit_events \
             WHERE user_id = ? ORDER BY occurred_at DESC, id DESC LIMIT ?",
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
             (SELECT id FROM audit_events WHERE occurred_at < ? ORDER BY occurred_at LIMIT ?)",
        )
        .bind(to_micros(cutoff))
        .bind(i64::from(batch_size))
        .execute(&self.pool)
        .await
        .map_err(on("audit event"))?;
        Ok(result.rows_affected())
    }
}
