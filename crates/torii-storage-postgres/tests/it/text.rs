//! Text PostgreSQL treats specially: the NUL character, which `text` cannot hold, and long values.

use chrono::TimeDelta;
use torii_core::storage::{
    CeremonyKind, MagicLinkStorage as _, OAuthAccount, OAuthStorage as _, PasskeyStorage as _, PasswordStorage as _,
    RefreshTokenRecord, RefreshTokenStorage as _, RefreshTokenUse, SessionStorage as _, TokenPurpose,
    TokenRevocationStorage as _, UserStorage as _,
};
use torii_core::{ChallengeId, SessionId, StorageError, StorageResult, TokenHash, User, UserId};
use torii_test_suite::fixtures::{
    NUL_STRING, challenge, new_user, now, oauth_account, oauth_state, one_time_token, passkey_for, random_suffix,
    session_for, token_hash, unique_email,
};

use crate::backend;

/// Asserts `result` is `InvalidData` with a message that explains the problem without the value.
#[track_caller]
fn assert_invalid_nul<T: std::fmt::Debug>(result: StorageResult<T>, call: &str) {
    match result {
        Err(StorageError::InvalidData(message)) => {
            assert!(message.contains("NUL"), "{call}: the message should say why: {message}");
            assert!(!message.contains("before") && !message.contains("after"), "{call}: no value in: {message}");
        }
        other => panic!("{call} with a NUL character must fail with InvalidData, got {other:?}"),
    }
}

/// Every write of a value with a NUL character fails with `InvalidData` (not a panic, not a generic
/// database error), stores nothing, and leaves the connection usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_are_invalid_data_and_nothing_is_stored() {
    let Some(db) = backend().await else { return };
    let now = now();
    let owner = db.create_user(&new_user(&unique_email("owner"))).await.unwrap();

    let mut user = new_user(&unique_email("nul"));
    user.name = Some(NUL_STRING.to_owned());
    assert_invalid_nul(db.create_user(&user).await, "create_user (name)");
    assert_eq!(db.get_user(&user.id).await.unwrap(), None);
    let user = new_user(&format!("{NUL_STRING}@example.com"));
    assert_invalid_nul(db.create_user(&user).await, "create_user (email)");

    // The user insert succeeds inside the transaction, the password insert fails: neither may remain.
    let user = new_user(&unique_email("nul-password"));
    assert_invalid_nul(db.create_user_with_password(&user, NUL_STRING).await, "create_user_with_password");
    assert_eq!(db.get_user(&user.id).await.unwrap(), None, "the transaction must be rolled back");
    assert_eq!(db.get_user_by_email(&user.email).await.unwrap(), None);

    let renamed = User { name: Some(NUL_STRING.to_owned()), ..owner.clone() };
    assert_invalid_nul(db.update_user(&renamed).await, "update_user");
    assert_eq!(db.get_user(&owner.id).await.unwrap(), Some(owner.clone()), "the user is unchanged");
    assert_invalid_nul(db.set_password_hash(&owner.id, NUL_STRING).await, "set_password_hash");
    assert_eq!(db.get_password_hash(&owner.id).await.unwrap(), None);

    let mut session = session_for(&owner.id, now + TimeDelta::days(1));
    session.user_agent = Some(NUL_STRING.to_owned());
    assert_invalid_nul(db.create_session(&session).await, "create_session");
    assert_eq!(db.get_session(&session.token_hash, now).await.unwrap(), None);

    let account = oauth_account(&owner.id, "github", NUL_STRING);
    assert_invalid_nul(db.create_oauth_account(&account).await, "create_oauth_account");
    assert!(db.list_oauth_accounts(&owner.id).await.unwrap().is_empty());
    let mut state = oauth_state(now + TimeDelta::minutes(10));
    state.pkce_verifier = NUL_STRING.to_owned();
    assert_invalid_nul(db.store_oauth_state(&state).await, "store_oauth_state");
    assert_eq!(db.consume_oauth_state(&state.state_hash, now).await.unwrap(), None);

    let mut passkey = passkey_for(&owner.id);
    passkey.data = NUL_STRING.to_owned();
    assert_invalid_nul(db.create_passkey(&passkey).await, "create_passkey");
    assert_eq!(db.get_passkey(&passkey.credential_id).await.unwrap(), None);
    let passkey = passkey_for(&owner.id);
    db.create_passkey(&passkey).await.unwrap();
    let id = passkey.credential_id.as_str();
    assert_invalid_nul(db.update_passkey_usage(id, NUL_STRING, 1, true, now).await, "update_passkey_usage");
    assert_invalid_nul(db.rename_passkey(&owner.id, id, NUL_STRING).await, "rename_passkey");
    assert_eq!(db.get_passkey(id).await.unwrap(), Some(passkey.clone()), "the passkey is unchanged");

    let mut ceremony = challenge(CeremonyKind::Registration, now + TimeDelta::minutes(5));
    ceremony.state = NUL_STRING.to_owned();
    assert_invalid_nul(db.store_challenge(&ceremony).await, "store_challenge");
    assert_eq!(db.consume_challenge(&ceremony.id, CeremonyKind::Registration, now).await.unwrap(), None);

    let token = one_time_token(NUL_STRING, TokenPurpose::MagicLink, now + TimeDelta::minutes(15));
    assert_invalid_nul(db.create_token(&token).await, "create_token");
    assert_eq!(db.consume_token(&token.token_hash, TokenPurpose::MagicLink, now).await.unwrap(), None);

    assert_invalid_nul(db.revoke_token_id(NUL_STRING, &owner.id, now).await, "revoke_token_id");
    assert_invalid_nul(db.revoke_all_before(&UserId::new(NUL_STRING), now).await, "revoke_all_before");

    let refresh = RefreshTokenRecord {
        token_hash: token_hash(),
        family_id: NUL_STRING.to_owned(),
        user_id: owner.id.clone(),
        created_at: now,
        expires_at: now + TimeDelta::days(1),
        used_at: None,
        revoked_at: None,
    };
    assert_invalid_nul(db.create_refresh_token(&refresh).await, "create_refresh_token");
    assert_eq!(db.use_refresh_token(&refresh.token_hash, now).await.unwrap(), RefreshTokenUse::Invalid);

    // After all those refusals, the pool's connections still work.
    db.health_check().await.unwrap();
    assert_eq!(db.get_user(&owner.id).await.unwrap(), Some(owner));
}

/// A key with a NUL character cannot be stored, so looking one up finds nothing (as for any unknown
/// key) rather than failing: a malformed id from a request must not become a server error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_by_keys_with_nul_find_nothing() {
    let Some(db) = backend().await else { return };
    let now = now();
    let owner = db.create_user(&new_user(&unique_email("owner"))).await.unwrap();
    let session = session_for(&owner.id, now + TimeDelta::days(1));
    db.create_session(&session).await.unwrap();
    let nul_user = UserId::new(NUL_STRING);
    let nul_hash = TokenHash::from_stored(NUL_STRING);

    assert_eq!(db.get_user(&nul_user).await.unwrap(), None);
    assert_eq!(db.get_user_by_email(&format!("{NUL_STRING}@example.com")).await.unwrap(), None);
    assert!(matches!(
        db.update_user(&User { id: nul_user.clone(), ..owner.clone() }).await,
        Err(StorageError::NotFound("user"))
    ));
    assert!(!db.set_email_verified(&nul_user, now).await.unwrap());
    assert!(!db.delete_user(&nul_user).await.unwrap());
    assert!(matches!(db.set_password_hash(&nul_user, "h").await, Err(StorageError::NotFound("user"))));
    assert_eq!(db.get_password_hash(&nul_user).await.unwrap(), None);
    assert!(!db.remove_password_hash(&nul_user).await.unwrap());

    assert_eq!(db.get_session(&nul_hash, now).await.unwrap(), None);
    assert!(!db.touch_session(&nul_hash, now).await.unwrap());
    assert!(db.list_sessions_for_user(&nul_user, now).await.unwrap().is_empty());
    assert!(!db.delete_session(&nul_hash).await.unwrap());
    assert!(!db.delete_session_by_id(&owner.id, &SessionId::new(NUL_STRING)).await.unwrap());
    assert_eq!(db.delete_sessions_for_user(&nul_user, None).await.unwrap(), 0);
    // Keeping a session that cannot exist keeps nothing.
    assert_eq!(db.delete_sessions_for_user(&owner.id, Some(&SessionId::new(NUL_STRING))).await.unwrap(), 1);

    assert_eq!(db.get_oauth_account("github", NUL_STRING).await.unwrap(), None);
    assert!(db.list_oauth_accounts(&nul_user).await.unwrap().is_empty());
    assert!(!db.delete_oauth_account(&owner.id, NUL_STRING).await.unwrap());
    assert_eq!(db.consume_oauth_state(&nul_hash, now).await.unwrap(), None);

    assert_eq!(db.get_passkey(NUL_STRING).await.unwrap(), None);
    assert!(db.list_passkeys(&nul_user).await.unwrap().is_empty());
    assert!(!db.update_passkey_usage(NUL_STRING, "{}", 1, false, now).await.unwrap());
    assert!(!db.rename_passkey(&owner.id, NUL_STRING, "name").await.unwrap());
    assert!(!db.delete_passkey(&owner.id, NUL_STRING).await.unwrap());
    let id = ChallengeId::new(NUL_STRING);
    assert_eq!(db.consume_challenge(&id, CeremonyKind::Authentication, now).await.unwrap(), None);

    assert_eq!(db.consume_token(&nul_hash, TokenPurpose::PasswordReset, now).await.unwrap(), None);
    assert_eq!(db.invalidate_tokens(NUL_STRING, TokenPurpose::PasswordReset, now).await.unwrap(), 0);

    assert_eq!(db.use_refresh_token(&nul_hash, now).await.unwrap(), RefreshTokenUse::Invalid);
    assert_eq!(db.revoke_refresh_family(NUL_STRING, now).await.unwrap(), 0);
    assert_eq!(db.revoke_refresh_tokens_for_user(&nul_user, now).await.unwrap(), 0);

    assert_eq!(db.revoked_before(&nul_user).await.unwrap(), None);
    assert!(!db.is_token_revoked(NUL_STRING, &nul_user, now).await.unwrap());
    // Half a check with an impossible key is still the other half.
    db.revoke_all_before(&owner.id, now).await.unwrap();
    assert!(db.is_token_revoked(NUL_STRING, &owner.id, now - TimeDelta::seconds(1)).await.unwrap());
    db.revoke_token_id("jti-1", &owner.id, now + TimeDelta::hours(1)).await.unwrap();
    assert!(db.is_token_revoked("jti-1", &nul_user, now).await.unwrap());
}

/// Long values (10 KB of ASCII and of multi-byte characters, and 1 MB, which PostgreSQL moves out of
/// line) round-trip exactly through every kind of row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_text_round_trips() {
    let Some(db) = backend().await else { return };
    let now = now();
    for text in ["x".repeat(10 * 1024), "é🦀ש\u{301}".repeat(1024), "0123456789abcdef".repeat(64 * 1024)] {
        let mut user = new_user(&unique_email("long"));
        user.name = Some(text.clone());
        let created = db.create_user_with_password(&user, &text).await.unwrap();
        assert_eq!(created, user.to_user());
        assert_eq!(db.get_user(&user.id).await.unwrap(), Some(user.to_user()));
        assert_eq!(db.get_password_hash(&user.id).await.unwrap().as_deref(), Some(text.as_str()));

        let mut session = session_for(&user.id, now + TimeDelta::days(1));
        session.user_agent = Some(text.clone());
        db.create_session(&session).await.unwrap();
        assert_eq!(db.get_session(&session.token_hash, now).await.unwrap(), Some(session));

        // (The subject is a key: see `keys_too_long_to_index_are_invalid_data`.)
        let subject = random_suffix();
        let account = OAuthAccount { email: Some(text.clone()), ..oauth_account(&user.id, "github", &subject) };
        db.create_oauth_account(&account).await.unwrap();
        assert_eq!(db.get_oauth_account("github", &subject).await.unwrap(), Some(account));

        let mut state = oauth_state(now + TimeDelta::minutes(10));
        state.redirect_to = Some(text.clone());
        db.store_oauth_state(&state).await.unwrap();
        assert_eq!(db.consume_oauth_state(&state.state_hash, now).await.unwrap(), Some(state));

        let mut passkey = passkey_for(&user.id);
        passkey.data = text.clone();
        db.create_passkey(&passkey).await.unwrap();
        assert_eq!(db.get_passkey(&passkey.credential_id).await.unwrap(), Some(passkey));

        let mut ceremony = challenge(CeremonyKind::Authentication, now + TimeDelta::minutes(5));
        ceremony.state = text.clone();
        db.store_challenge(&ceremony).await.unwrap();
        let consumed = db.consume_challenge(&ceremony.id, CeremonyKind::Authentication, now).await.unwrap();
        assert_eq!(consumed, Some(ceremony));
    }
}

/// A unique key longer than a B-tree index entry can hold (about 2.7 KB once compressed; random text
/// does not compress) cannot be stored: `InvalidData`, not a generic database error, and nothing stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_too_long_to_index_are_invalid_data() {
    let Some(db) = backend().await else { return };
    let random: String = (0..400).map(|_| random_suffix()).collect();
    assert!(random.len() > 8 * 1024);

    let user = new_user(&format!("{random}@example.com"));
    match db.create_user(&user).await {
        Err(StorageError::InvalidData(message)) => assert!(!message.contains(&random[..20]), "{message}"),
        other => panic!("create_user with a huge email must fail with InvalidData, got {other:?}"),
    }
    assert_eq!(db.get_user(&user.id).await.unwrap(), None);

    let owner = db.create_user(&new_user(&unique_email("owner"))).await.unwrap();
    let account = oauth_account(&owner.id, "github", &random);
    assert!(matches!(db.create_oauth_account(&account).await, Err(StorageError::InvalidData(_))));
    assert!(db.list_oauth_accounts(&owner.id).await.unwrap().is_empty());
}

/// Session data (`SessionStore`): an id with a NUL character cannot be stored (`InvalidData`, nothing
/// stored) and finds nothing; a NUL character in a key or value is escaped in the JSON and round-trips.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_data_with_nul_characters() {
    use torii_core::ToriiError;
    use torii_core::session_store::{SessionData, SessionStore as _};

    let Some(db) = backend().await else { return };
    let mut data = SessionData::new(std::time::Duration::from_secs(3600));
    data.set(NUL_STRING, NUL_STRING);

    match db.save(NUL_STRING, data.clone()).await {
        Err(ToriiError::Storage(err)) => assert_invalid_nul(Err::<(), _>(err), "save (id)"),
        other => panic!("save under an id with a NUL character must fail with InvalidData, got {other:?}"),
    }
    assert_eq!(db.load(NUL_STRING).await.unwrap(), None);
    db.delete(NUL_STRING).await.unwrap();

    let id = format!("nul-{}", random_suffix());
    db.save(&id, data.clone()).await.unwrap();
    assert_eq!(db.load(&id).await.unwrap(), Some(data));
}
