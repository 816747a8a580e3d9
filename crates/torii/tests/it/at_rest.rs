//! What is actually written to the database: tokens only as hashes, passwords only as Argon2id PHC.

use sqlx::Row as _;
use torii::storage::TokenHash;
use torii::{Torii, ToriiError};

use crate::support::{PASSWORD, setup_test_repositories};

#[tokio::test]
async fn session_rows_hold_the_hash_never_the_token() -> Result<(), ToriiError> {
    let repositories = setup_test_repositories().await;
    let torii = Torii::new(repositories.clone());
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let (_, session) = torii.login_user_with_password("ada@example.com", PASSWORD, Some("UA".into()), None).await?;
    let token = session.token.as_str().to_owned();

    let rows = sqlx::query("SELECT * FROM sessions").fetch_all(repositories.pool()).await.expect("query");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let mut whole_row = String::new();
    for (i, column) in row.columns().iter().enumerate() {
        use sqlx::Column as _;
        let text: Option<String> = row.try_get::<Option<String>, _>(i).ok().flatten();
        let number: Option<i64> = row.try_get::<Option<i64>, _>(i).ok().flatten();
        whole_row.push_str(&format!("{}={:?}/{:?};", column.name(), text, number));
    }
    assert!(!whole_row.contains(&token), "the raw row contains the token: {whole_row}");
    let stored_hash: String = row.get("token_hash");
    assert_eq!(stored_hash, TokenHash::of(&token).as_str());
    assert_eq!(stored_hash.len(), 64);
    let stored_user: String = row.get("user_id");
    assert_eq!(stored_user, user.id.as_str());
    Ok(())
}

#[tokio::test]
async fn password_rows_hold_only_an_argon2id_hash() -> Result<(), ToriiError> {
    let repositories = setup_test_repositories().await;
    let torii = Torii::new(repositories.clone());
    torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let dump: Vec<String> =
        sqlx::query_scalar("SELECT password_hash FROM passwords").fetch_all(repositories.pool()).await.expect("query");
    assert_eq!(dump.len(), 1);
    assert!(dump[0].starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(!dump[0].contains(PASSWORD));
    Ok(())
}
