//! Session events reach an installed `metrics` recorder.

use std::collections::HashMap;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use torii::{JwtConfig, SessionToken, Torii};

use crate::support::{OTHER_PASSWORD, PASSWORD, setup_test_repositories};

fn counters(
    snapshot: Vec<(metrics_util::CompositeKey, Option<metrics::Unit>, Option<metrics::SharedString>, DebugValue)>,
) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for (key, _, _, value) in snapshot {
        let (_, key) = key.into_parts();
        let mut labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        match value {
            DebugValue::Counter(n) => {
                out.insert(name, n);
            }
            DebugValue::Histogram(samples) => {
                out.insert(name, samples.len() as u64);
            }
            DebugValue::Gauge(_) => {}
        }
    }
    out
}

#[test]
fn session_lifecycle_is_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let repositories = setup_test_repositories().await;
            let torii = Torii::new(repositories.clone());
            torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
            let (_, session) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await.unwrap();
            assert!(torii.login_user_with_password("ada@example.com", OTHER_PASSWORD, None, None).await.is_err());
            torii.get_session(&session.token).await.unwrap();
            assert!(torii.get_session(&SessionToken::new_random()).await.is_err());
            torii.delete_session(&session.token).await.unwrap();

            let jwt = Torii::new(repositories).with_jwt_sessions(JwtConfig::new_hs256(vec![7; 32]));
            let (_, j) = jwt.login_user_with_password("ada@example.com", PASSWORD, None, None).await.unwrap();
            jwt.get_session(&j.token).await.unwrap();
            jwt.delete_session(&j.token).await.unwrap();
        });
    });
    let c = counters(snapshotter.snapshot().into_vec());
    assert_eq!(c.get("torii_sessions_created_total{kind=opaque}"), Some(&1), "{c:#?}");
    assert_eq!(c.get("torii_sessions_created_total{kind=jwt}"), Some(&1), "{c:#?}");
    // Logging out looks the session up once, to record whose it was in the audit log.
    assert_eq!(c.get("torii_sessions_validated_total{kind=opaque,result=valid}"), Some(&2), "{c:#?}");
    assert_eq!(c.get("torii_sessions_validated_total{kind=opaque,result=rejected}"), Some(&1), "{c:#?}");
    assert_eq!(c.get("torii_session_validation_duration_seconds{kind=opaque}"), Some(&3), "{c:#?}");
    assert_eq!(c.get("torii_sessions_revoked_total{kind=opaque}"), Some(&1), "{c:#?}");
    assert_eq!(c.get("torii_sessions_revoked_total{kind=jwt}"), Some(&1), "{c:#?}");
    assert_eq!(c.get("torii_password_logins_total{result=success}"), Some(&2), "{c:#?}");
    assert_eq!(c.get("torii_password_logins_total{result=failure}"), Some(&1), "{c:#?}");
}
