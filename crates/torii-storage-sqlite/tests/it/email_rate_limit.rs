//! The email flows' per-account mail limit is counted in the database, so two instances of an
//! application (two pools on one database file, as two processes would have) share one budget.

use std::sync::Arc;

use chrono::Duration;
use torii_core::email_flows::{EmailConfig, EmailFlows, MessageKind, OutboxMailer};
use torii_core::{ManualClock, Torii};
use torii_storage_sqlite::SqliteRepositoryProvider;

const PASSWORD: &str = "correct horse battery staple";

struct Instance {
    flows: EmailFlows<SqliteRepositoryProvider>,
    outbox: OutboxMailer,
}

async fn instance(url: &str, clock: &Arc<ManualClock>) -> Instance {
    let storage = SqliteRepositoryProvider::connect(url).await.expect("open the shared database file");
    storage.migrate().await.expect("migrate");
    let torii = Arc::new(Torii::new(Arc::new(storage)).with_clock(clock.clone()));
    let outbox = OutboxMailer::new();
    let config = EmailConfig::new("Acme", "https://app.example", "noreply@app.example")
        .expect("a valid configuration")
        .rate_limit(3, Duration::minutes(15))
        .retries(1, std::time::Duration::ZERO);
    let flows = EmailFlows::new(torii, config, Arc::new(outbox.clone()));
    Instance { flows, outbox }
}

fn sent(instances: &[&Instance], to: &str, kind: MessageKind) -> usize {
    instances.iter().map(|i| i.outbox.messages_to(to).iter().filter(|m| m.kind() == kind).count()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mail_limit_holds_across_instances() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let clock = Arc::new(ManualClock::starting_now());
    let (one, two) = (instance(&url, &clock).await, instance(&url, &clock).await);
    one.flows.torii().register_user_with_password("ada@example.com", PASSWORD).await.expect("register Ada");
    one.flows.torii().register_user_with_password("bob@example.com", PASSWORD).await.expect("register Bob");

    // Five requests, alternating between the instances and the address's case: three mails in all.
    for (i, email) in ["ada@example.com", "Ada@Example.com", "ADA@example.com", "ada@example.com", "ada@EXAMPLE.com"]
        .into_iter()
        .enumerate()
    {
        let flows = if i % 2 == 0 { &one.flows } else { &two.flows };
        flows.request_password_reset(email).await.expect("the request is answered");
    }
    // Other accounts and other kinds of message have their own budget.
    two.flows.request_password_reset("bob@example.com").await.expect("Bob's request");
    one.flows.send_magic_link("ada@example.com").await.expect("Ada's magic link");
    one.flows.wait_idle().await;
    two.flows.wait_idle().await;
    assert_eq!(sent(&[&one, &two], "ada@example.com", MessageKind::PasswordReset), 3, "3 per window, shared");
    assert_eq!(sent(&[&one, &two], "bob@example.com", MessageKind::PasswordReset), 1);
    assert_eq!(sent(&[&one, &two], "ada@example.com", MessageKind::MagicLink), 1);

    // The window slides: a quarter of an hour later the burst still weighs (it may have landed at the end
    // of a counting window), half an hour later it no longer does, on both instances.
    clock.advance(Duration::minutes(30));
    two.flows.request_password_reset("ada@example.com").await.expect("a request once the burst slid out");
    two.flows.wait_idle().await;
    assert_eq!(sent(&[&one, &two], "ada@example.com", MessageKind::PasswordReset), 4);
}
