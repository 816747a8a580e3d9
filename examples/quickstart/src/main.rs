//! Quick start: register a user, log in, and validate the session, against a SQLite file.
//!
//! Run it with `cargo run -p example-quickstart`. It uses `quickstart.db` in the current directory
//! unless `DATABASE_URL` says otherwise (for example `DATABASE_URL=sqlite::memory:`).

// ANCHOR: main
use std::sync::Arc;

use torii::{SessionConfig, SqliteRepositoryProvider, Torii, ToriiError};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();

    // 1. Connect to the database (the file is created if missing) and create or upgrade the schema.
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://quickstart.db".to_string());
    let repositories = SqliteRepositoryProvider::connect(&url).await?;
    repositories.migrate().await?;

    // 2. The coordinator: opaque, database-backed sessions that last 30 days.
    let torii = Torii::new(Arc::new(repositories))
        .with_session_config(SessionConfig::default().expires_in(chrono::Duration::days(30)));

    // 3. Register. Common passwords such as "password123" are refused by the default policy.
    let email = "ada@example.com";
    let password = "analytical engine 1843";
    match torii.register_user_with_password(email, password).await {
        Ok(user) => println!("registered {email} as user {}", user.id),
        Err(ToriiError::UserAlreadyExists) => {
            println!("{email} is already registered (database kept from a previous run)")
        }
        Err(err) => return Err(err.into()),
    }

    // 4. Log in: checks the password and issues a session token for the client to keep.
    let (user, session) = torii
        .login_user_with_password(
            email,
            password,
            Some("example-quickstart".to_string()),
            Some("127.0.0.1".to_string()),
        )
        .await?;
    println!("logged in as {} ({}); session {} expires {}", user.email, user.id, session.id, session.expires_at);

    // 5. On every later request, validate the token the client sends back.
    let validated = torii.get_session(&session.token).await?;
    println!("session is valid for user {}", validated.user_id);

    // 6. A wrong password fails with the same error as an unknown email.
    let wrong = torii.login_user_with_password(email, "not the password", None, None).await;
    println!("wrong password: {}", wrong.err().map(|e| e.to_string()).unwrap_or_default());

    // 7. Log out: the session is deleted server-side and its token stops working at once.
    torii.delete_session(&session.token).await?;
    let after_logout = torii.get_session(&session.token).await;
    println!("after logout the token is {}", if after_logout.is_err() { "rejected" } else { "STILL VALID" });
    Ok(())
}
// ANCHOR_END: main
