//! The audit log: security events per account, newest first.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait as _, Order, Query};
use sea_orm::{
    ColumnTrait as _, DbBackend, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, QueryTrait as _,
};
use torii_core::storage::{AuditEvent, AuditEventKind, AuditLogStorage};
use torii_core::{AuditEventId, StorageError, StorageResult, UserId};

use crate::SeaORMRepositoryProvider;
use crate::db;
use crate::entity::audit_events::{self, Column};
use crate::error::on;
use crate::time::micros;

/// The event a row describes.
fn into_event(row: audit_events::Model) -> StorageResult<AuditEvent> {
    Ok(AuditEvent {
        id: AuditEventId::new(row.id),
        user_id: row.user_id.map(UserId::new),
        kind: AuditEventKind::from_stored(row.kind)?,
        at: row.occurred_at,
        ip_address: row.ip_address,
        user_agent: row.user_agent,
        detail: serde_json::from_str(&row.detail)
            .map_err(|_| StorageError::Corrupt("audit_events.detail is not JSON".to_owned()))?,
    })
}

impl AuditLogStorage for SeaORMRepositoryProvider {
    async fn record_audit_event(&self, event: &AuditEvent) -> StorageResult<()> {
        let row = audit_events::ActiveModel {
            id: Set(event.id.as_str().to_owned()),
            user_id: Set(event.user_id.as_ref().map(|id| id.as_str().to_owned())),
            kind: Set(event.kind.as_str().to_owned()),
            occurred_at: Set(micros(event.at)),
            ip_address: Set(event.ip_address.clone()),
            user_agent: Set(event.user_agent.clone()),
            // JSON text always escapes a NUL character, so only the other columns can hold one.
            detail: Set(event.detail.to_string()),
        };
        db::execute(&self.db, audit_events::Entity::insert(row).as_query()).await.map_err(on("audit event"))?;
        Ok(())
    }

    async fn list_audit_events_for_user(&self, user_id: &UserId, limit: u32) -> StorageResult<Vec<AuditEvent>> {
        // PostgreSQL text cannot hold a NUL character, so no stored id has one (and asking would fail).
        if limit == 0 || (user_id.as_str().contains('\0') && self.db.get_database_backend() == DbBackend::Postgres) {
            return Ok(Vec::new());
        }
        let query = audit_events::Entity::find()
            .filter(Column::UserId.eq(user_id.as_str()))
            .order_by_desc(Column::OccurredAt)
            .order_by_desc(Column::Id)
            .limit(u64::from(limit));
        let rows: Vec<audit_events::Model> = db::all(&self.db, query.as_query()).await.map_err(on("audit event"))?;
        rows.into_iter().map(into_event).collect()
    }

    async fn delete_audit_events_before(&self, cutoff: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        if batch_size == 0 {
            return Ok(0);
        }
        let cutoff = micros(cutoff);
        let mut delete = Query::delete();
        delete.from_table(audit_events::Entity).and_where(Expr::col(Column::OccurredAt).lt(cutoff));
        // As in `db::delete_expired`: MySQL takes `DELETE ... LIMIT` but no `LIMIT` in a subquery.
        if self.db.get_database_backend() == DbBackend::MySql {
            delete.order_by(Column::OccurredAt, Order::Asc).limit(u64::from(batch_size));
        } else {
            let mut batch = Query::select();
            batch
                .column(Column::Id)
                .from(audit_events::Entity)
                .and_where(Expr::col(Column::OccurredAt).lt(cutoff))
                .order_by(Column::OccurredAt, Order::Asc)
                .limit(u64::from(batch_size));
            delete.and_where(Expr::col(Column::Id).in_subquery(batch));
        }
        let deleted = db::execute(&self.db, &delete).await.map_err(on("audit event"))?;
        tracing::debug!(deleted, "deleted old audit events");
        Ok(deleted)
    }
}
