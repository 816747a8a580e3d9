//! The audit log against real storage: the coordinator's flows write their events to the backend's
//! audit log, with the client, and pass them to the hook. Runs on in-memory SQLite here, and once per
//! other backend from the `on_*` modules (the `backend` module of the including module picks it).

use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::Duration;
use torii::audit::with_client_context;
use torii::email_flows::{EmailConfig, EmailFlows, MessageKind, OutboxMailer};
use torii::storage::{AuditEvent, AuditEventKind, AuditLogStorage as _};
use torii::{ClientContext, ManualClock, Torii, ToriiError};

use super::backend::setup_test_repositories;
use crate::support::{OTHER_PASSWORD, PASSWORD};

const IP: &str = "198.51.100.4";
const UA: &str = "AuditBackendTest/2";

fn client() -> ClientContext {
    ClientContext { ip_address: Some(IP.to_owned()), user_agent: Some(UA.to_owned()) }
}

#[tokio::test]
async fn flows_write_their_events_to_this_backend() {
    let Some(repositories) = setup_test_repositories().await else { return };
    let clock = Arc::new(ManualClock::starting_now());
    let (sender, hooked) = channel::<AuditEvent>();
    let sender = Mutex::new(sender);
    let torii = Arc::new(Torii::new(repositories).with_clock(clock.clone()).on_event(move |event| {
        let _ = sender.lock().unwrap().send(event.clone());
    }));
    let outbox = OutboxMailer::new();
    let config = EmailConfig::new("Acme", "https://app.example", "noreply@app.example").unwrap();
    let flows = EmailFlows::new(torii.clone(), config, Arc::new(outbox.clone()));
    let step = || clock.advance(Duration::seconds(1));

    // Registration and logins, the client set for the task or passed explicitly.
    let user =
        with_client_context(client(), torii.register_user_with_password("ada@example.com", PASSWORD)).await.unwrap();
    step();
    let wrong = torii.login_user_with_password("ada@example.com", OTHER_PASSWORD, Some(UA.into()), Some(IP.into()));
    assert!(matches!(wrong.await, Err(ToriiError::InvalidCredentials)));
    step();
    let (_, session) =
        torii.login_user_with_password("ada@example.com", PASSWORD, Some(UA.into()), Some(IP.into())).await.unwrap();
    step();
    // Verification and reset links.
    flows.send_verification_email(&user.id).await.unwrap();
    flows.wait_idle().await;
    let link = outbox.last_to("ada@example.com").unwrap();
    assert_eq!(link.kind(), MessageKind::EmailVerification);
    let token = link.link().unwrap().split_once("?token=").unwrap().1.to_owned();
    with_client_context(client(), flows.verify_email(&token)).await.unwrap();
    step();
    flows.request_password_reset("ada@example.com").await.unwrap();
    flows.wait_idle().await;
    let link = outbox.last_to("ada@example.com").unwrap();
    assert_eq!(link.kind(), MessageKind::PasswordReset);
    let token = link.link().unwrap().split_once("?token=").unwrap().1.to_owned();
    with_client_context(client(), flows.reset_password(&token, OTHER_PASSWORD)).await.unwrap();

    let stored = torii.storage().list_audit_events_for_user(&user.id, 50).await.unwrap();
    let mut kinds: Vec<&str> = stored.iter().map(|e| e.kind.as_str()).collect();
    // The reset's two events share an instant, so their order is the backend's; so do the three of the
    // verification link, which proved the address for the first time without a session: the password
    // someone set before was removed and its sessions ended.
    kinds[..2].sort_unstable();
    kinds[2..5].sort_unstable();
    assert_eq!(
        kinds,
        [
            "password.reset",
            "session.revoked_all",
            "credentials.dropped",
            "email.verified",
            "session.revoked_all",
            "login.succeeded",
            "login.failed",
            "user.registered"
        ]
    );
    for event in &stored {
        assert_eq!(event.user_id.as_ref(), Some(&user.id));
        assert_eq!((event.ip_address.as_deref(), event.user_agent.as_deref()), (Some(IP), Some(UA)), "{event:?}");
    }
    let login = stored.iter().find(|e| e.kind == AuditEventKind::LOGIN_SUCCEEDED).unwrap();
    assert_eq!(login.detail, serde_json::json!({ "method": "password", "session_id": session.id.as_str() }));
    let failure = stored.iter().find(|e| e.kind == AuditEventKind::LOGIN_FAILED).unwrap();
    assert_eq!(failure.detail, serde_json::json!({ "method": "password", "reason": "wrong_password" }));

    // The hook received the same events.
    let received: Vec<AuditEvent> =
        (0..stored.len()).map(|_| hooked.recv_timeout(StdDuration::from_secs(10)).unwrap()).collect();
    for event in &stored {
        assert!(received.contains(event), "{event:?}");
    }
    // And no secret is in any of them.
    let text = format!("{stored:?}");
    for secret in [PASSWORD, OTHER_PASSWORD, session.token.as_str(), token.as_str()] {
        assert!(!text.contains(secret));
    }
}
