//! Column types and table options for each database, so the migrations can describe one logical schema.

use sea_orm::sea_query::{
    Alias, ColumnDef, ForeignKey, ForeignKeyAction, ForeignKeyCreateStatement, Index, IndexCreateStatement,
    IntoIden as _, Table, TableCreateStatement,
};
use sea_orm::{ConnectionTrait as _, DbBackend, DbErr, Statement};
use sea_orm_migration::SchemaManager;

/// Longest id, provider name, email or other short text that is a key or indexed. With MySQL's
/// `utf8mb4` (4 bytes a character) 255 characters are 1,020 bytes, and even the two-column keys stay
/// within InnoDB's 3,072-byte limit. Emails are at most 254 bytes (RFC 5321).
pub(super) const SHORT: u32 = 255;

/// A SHA-256 in hex.
pub(super) const HASH: u32 = 64;

/// A WebAuthn credential id in base64url: 512 characters hold 384 bytes, far beyond what authenticators
/// issue in practice, and stay within MySQL's key limit as a one-column key.
pub(super) const CREDENTIAL_ID: u32 = 512;

/// An enumeration stored by name (`TokenPurpose`, `CeremonyKind`).
pub(super) const NAME: u32 = 32;

/// Column definitions for one database.
pub(super) struct Columns {
    backend: DbBackend,
}

impl Columns {
    pub(super) fn new(backend: DbBackend) -> Self {
        Self { backend }
    }

    /// Bounded text: a key, or a value that is indexed or compared.
    pub(super) fn varchar(&self, name: &'static str, len: u32) -> ColumnDef {
        let mut column = ColumnDef::new(name);
        column.string_len(len);
        column
    }

    /// Text of any reasonable size (MySQL's `TEXT` holds 64 KiB).
    pub(super) fn text(&self, name: &'static str) -> ColumnDef {
        let mut column = ColumnDef::new(name);
        column.text();
        column
    }

    /// Text that may be large (serialized WebAuthn state): `MEDIUMTEXT` (16 MiB) on MySQL.
    pub(super) fn long_text(&self, name: &'static str) -> ColumnDef {
        let mut column = ColumnDef::new(name);
        match self.backend {
            DbBackend::MySql => column.custom(Alias::new("MEDIUMTEXT")),
            _ => column.text(),
        };
        column
    }

    /// A timestamp to the microsecond: `timestamptz` on PostgreSQL, `DATETIME(6)` on MySQL (`TIMESTAMP`
    /// would end in 2038 and follow the session time zone; values are always UTC), and on SQLite text in
    /// the fixed-width form of [`crate::time`].
    pub(super) fn timestamp(&self, name: &'static str) -> ColumnDef {
        let mut column = ColumnDef::new(name);
        match self.backend {
            DbBackend::MySql => column.custom(Alias::new("DATETIME(6)")),
            DbBackend::Sqlite => column.text(),
            _ => column.timestamp_with_time_zone(),
        };
        column
    }

    /// A 64-bit integer.
    pub(super) fn big_integer(&self, name: &'static str) -> ColumnDef {
        let mut column = ColumnDef::new(name);
        column.big_integer();
        column
    }

    /// A boolean (`INTEGER` on SQLite, as in the canonical schema).
    pub(super) fn boolean(&self, name: &'static str) -> ColumnDef {
        let mut column = ColumnDef::new(name);
        match self.backend {
            DbBackend::Sqlite => column.custom(Alias::new("INTEGER")),
            _ => column.boolean(),
        };
        column
    }
}

/// `ON DELETE CASCADE` reference from `table.column` to `users.id`, named `fk_<table>_<column>`.
pub(super) fn references_user(table: &'static str, column: &'static str) -> ForeignKeyCreateStatement {
    let mut foreign_key = ForeignKey::create();
    foreign_key
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to("users", "id")
        .on_delete(ForeignKeyAction::Cascade);
    foreign_key
}

/// A named index on `table`.
pub(super) fn index(name: &'static str, table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    index
}

/// The binary collation MySQL tables use, so text compares exactly (case, accents and trailing spaces
/// all count), as it does on PostgreSQL and SQLite: MySQL 8's `utf8mb4_0900_bin` or MariaDB's
/// `utf8mb4_nopad_bin`, falling back to `utf8mb4_bin` (which ignores trailing spaces) on older servers.
async fn mysql_collation(manager: &SchemaManager<'_>) -> Result<String, DbErr> {
    let db = manager.get_connection();
    let sql = "SELECT COLLATION_NAME FROM information_schema.COLLATIONS \
               WHERE COLLATION_NAME IN ('utf8mb4_0900_bin', 'utf8mb4_nopad_bin') ORDER BY COLLATION_NAME";
    let row = db.query_one_raw(Statement::from_string(DbBackend::MySql, sql)).await?;
    match row {
        Some(row) => row.try_get_by_index(0),
        None => Ok("utf8mb4_bin".to_owned()),
    }
}

/// Creates a table and its (non-unique) indexes, idempotently: on MySQL the indexes are part of the
/// `CREATE TABLE IF NOT EXISTS` (MySQL has no `CREATE INDEX IF NOT EXISTS`) and the table gets InnoDB,
/// `utf8mb4` and the binary collation; elsewhere they are created after it with `IF NOT EXISTS`.
pub(super) async fn create_table(
    manager: &SchemaManager<'_>,
    mut table: TableCreateStatement,
    mut indexes: Vec<IndexCreateStatement>,
) -> Result<(), DbErr> {
    table.if_not_exists();
    if manager.get_database_backend() == DbBackend::MySql {
        let collation = mysql_collation(manager).await?;
        table.engine("InnoDB").character_set("utf8mb4").collate(&collation);
        for index in &mut indexes {
            table.index(index);
        }
        return manager.create_table(table).await;
    }
    manager.create_table(table).await?;
    for mut index in indexes {
        index.if_not_exists();
        manager.create_index(index).await?;
    }
    Ok(())
}

/// Drops tables (for rolling back), children first.
pub(super) async fn drop_tables(manager: &SchemaManager<'_>, tables: &[&'static str]) -> Result<(), DbErr> {
    for table in tables {
        manager.drop_table(Table::drop().table(Alias::new(*table).into_iden()).if_exists().to_owned()).await?;
    }
    Ok(())
}
