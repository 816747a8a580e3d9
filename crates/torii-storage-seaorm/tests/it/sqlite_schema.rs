//! The schema the migrations create is the canonical one (`migrations/sqlite` in the workspace), as
//! SQLite describes both: the same tables, columns (in order, with their NOT NULL and primary-key
//! flags), named indexes, unique constraints and foreign keys. Column types are this crate's choice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use torii_storage_seaorm::SeaORMStorage;
use torii_storage_seaorm::sea_orm::{ConnectionTrait as _, DatabaseConnection, QueryResult, Statement};

/// Everything compared about one table.
#[derive(Debug, PartialEq, Eq)]
struct TableShape {
    /// (name, not null, position in the primary key), in declaration order.
    columns: Vec<(String, i64, i64)>,
    /// Indexes created by name: (name, unique, columns).
    indexes: BTreeSet<(String, i64, Vec<String>)>,
    /// Columns of each UNIQUE constraint.
    uniques: BTreeSet<Vec<String>>,
    /// (column, referenced table, referenced column, on delete).
    foreign_keys: BTreeSet<(String, String, String, String)>,
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<QueryResult> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap()
}

fn text(row: &QueryResult, index: usize) -> String {
    row.try_get_by_index::<String>(index).unwrap()
}

fn int(row: &QueryResult, index: usize) -> i64 {
    row.try_get_by_index::<i64>(index).unwrap()
}

async fn index_columns(db: &DatabaseConnection, index: &str) -> Vec<String> {
    let sql = format!("SELECT name FROM pragma_index_info('{index}') ORDER BY seqno");
    rows(db, &sql).await.iter().map(|row| text(row, 0)).collect()
}

async fn describe(db: &DatabaseConnection) -> BTreeMap<String, TableShape> {
    let tables = rows(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> 'torii_migrations'",
    )
    .await;
    let mut shapes = BTreeMap::new();
    for table in tables.iter().map(|row| text(row, 0)) {
        let columns = rows(db, &format!("SELECT name, \"notnull\", pk FROM pragma_table_info('{table}') ORDER BY cid"))
            .await
            .iter()
            .map(|row| (text(row, 0), int(row, 1), int(row, 2)))
            .collect();
        let mut indexes = BTreeSet::new();
        let mut uniques = BTreeSet::new();
        // Primary keys are compared through the columns' `pk` positions (a WITHOUT ROWID table's key
        // is the table itself, not an index), so only named indexes and UNIQUE constraints count here.
        for index in rows(db, &format!("SELECT name, \"unique\", origin FROM pragma_index_list('{table}')")).await {
            let (name, unique, origin) = (text(&index, 0), int(&index, 1), text(&index, 2));
            let columns = index_columns(db, &name).await;
            match origin.as_str() {
                "c" => {
                    indexes.insert((name, unique, columns));
                }
                "u" => {
                    uniques.insert(columns);
                }
                _ => {}
            }
        }
        let foreign_keys =
            rows(db, &format!("SELECT \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list('{table}')"))
                .await
                .iter()
                .map(|row| (text(row, 0), text(row, 1), text(row, 2), text(row, 3)))
                .collect();
        shapes.insert(table, TableShape { columns, indexes, uniques, foreign_keys });
    }
    shapes
}

#[tokio::test]
async fn migrations_create_the_canonical_schema() {
    let canonical = SeaORMStorage::connect("sqlite::memory:").await.unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty(), "no canonical migrations in {}", dir.display());
    for file in files {
        canonical.connection().execute_unprepared(&std::fs::read_to_string(&file).unwrap()).await.unwrap();
    }

    let ours = SeaORMStorage::connect("sqlite::memory:").await.unwrap();
    ours.migrate().await.unwrap();

    let (canonical, ours) = (describe(canonical.connection()).await, describe(ours.connection()).await);
    assert_eq!(ours.keys().collect::<Vec<_>>(), canonical.keys().collect::<Vec<_>>(), "tables");
    for (table, shape) in &canonical {
        assert_eq!(ours.get(table), Some(shape), "table {table}");
    }
}
