//! The four initialization patterns of the core-concepts documentation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use torii::{
    NewUser, Session, SessionId, SessionManager, SessionRecord, SessionToken, Torii, ToriiError, User, UserId,
    UserManager,
};

use crate::support::{PASSWORD, setup_test_repositories};

#[tokio::test]
async fn single_storage() -> Result<(), ToriiError> {
    let torii = Torii::new(setup_test_repositories().await);
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let session = torii.create_session(&user.id, None, None).await?;
    assert_eq!(torii.get_session(&session.token).await?.user_id, user.id);
    Ok(())
}

#[tokio::test]
async fn split_storage_routes_users_and_sessions() -> Result<(), ToriiError> {
    let users = setup_test_repositories().await;
    let sessions = Arc::clone(&users);
    let torii = Torii::with_storages(users, sessions);
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let (_, session) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
    assert_eq!(torii.get_session(&session.token).await?.user_id, user.id);
    // Deleting the user also revokes its sessions in the session storage.
    torii.delete_user(&user.id).await?;
    assert!(torii.get_session(&session.token).await.is_err());
    Ok(())
}

/// An application's own session manager: sessions kept in a map, tokens counted.
#[derive(Default)]
struct AppSessions {
    sessions: Mutex<HashMap<String, Session>>,
    validations: AtomicUsize,
}

#[torii::async_trait]
impl SessionManager for AppSessions {
    async fn create_session(
        &self,
        user_id: &UserId,
        ua: Option<String>,
        ip: Option<String>,
    ) -> Result<Session, ToriiError> {
        let now = Utc::now();
        let session = Session {
            id: SessionId::new_random(),
            token: SessionToken::new_random(),
            user_id: user_id.clone(),
            user_agent: ua,
            ip_address: ip,
            created_at: now,
            updated_at: now,
            expires_at: now + chrono::Duration::hours(1),
        };
        self.sessions.lock().unwrap().insert(session.token.as_str().to_owned(), session.clone());
        Ok(session)
    }

    async fn get_session(&self, token: &SessionToken) -> Result<Session, ToriiError> {
        self.validations.fetch_add(1, Ordering::SeqCst);
        self.sessions.lock().unwrap().get(token.as_str()).cloned().ok_or(ToriiError::SessionNotFound)
    }

    async fn list_sessions(&self, user_id: &UserId) -> Result<Vec<SessionRecord>, ToriiError> {
        let map = self.sessions.lock().unwrap();
        Ok(map.values().filter(|s| &s.user_id == user_id).map(SessionRecord::from_session).collect())
    }

    async fn delete_session(&self, token: &SessionToken) -> Result<(), ToriiError> {
        self.sessions.lock().unwrap().remove(token.as_str());
        Ok(())
    }

    async fn delete_session_by_id(&self, user_id: &UserId, id: &SessionId) -> Result<bool, ToriiError> {
        let mut map = self.sessions.lock().unwrap();
        let before = map.len();
        map.retain(|_, s| !(&s.user_id == user_id && &s.id == id));
        Ok(map.len() != before)
    }

    async fn delete_sessions_for_user(&self, user_id: &UserId, keep: Option<&SessionId>) -> Result<u64, ToriiError> {
        let mut map = self.sessions.lock().unwrap();
        let before = map.len();
        map.retain(|_, s| &s.user_id != user_id || Some(&s.id) == keep);
        Ok((before - map.len()) as u64)
    }

    async fn cleanup_expired_sessions(&self) -> Result<u64, ToriiError> {
        Ok(0)
    }
}

/// An application's own user directory.
#[derive(Default)]
struct AppUsers {
    users: Mutex<Vec<User>>,
}

#[torii::async_trait]
impl UserManager for AppUsers {
    async fn create_user(&self, user: &NewUser) -> Result<User, ToriiError> {
        let user = user.to_user();
        self.users.lock().unwrap().push(user.clone());
        Ok(user)
    }

    async fn get_user(&self, id: &UserId) -> Result<Option<User>, ToriiError> {
        Ok(self.users.lock().unwrap().iter().find(|u| &u.id == id).cloned())
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>, ToriiError> {
        Ok(self.users.lock().unwrap().iter().find(|u| u.email.eq_ignore_ascii_case(email)).cloned())
    }

    async fn update_user(&self, user: &User) -> Result<User, ToriiError> {
        Ok(user.clone())
    }

    async fn delete_user(&self, id: &UserId) -> Result<bool, ToriiError> {
        let mut users = self.users.lock().unwrap();
        let before = users.len();
        users.retain(|u| &u.id != id);
        Ok(users.len() != before)
    }
}

#[tokio::test]
async fn custom_managers_with_storage() -> Result<(), ToriiError> {
    let repositories = setup_test_repositories().await;
    let sessions = Arc::new(AppSessions::default());
    let torii = Torii::with_managers(
        Arc::clone(&repositories),
        Arc::clone(&repositories),
        Arc::new(torii::DefaultUserManager::new(Arc::clone(&repositories))),
        sessions.clone(),
    );
    // Password login checks credentials in storage and asks the app's manager for the session.
    torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let (user, session) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
    assert_eq!(torii.get_session(&session.token).await?.user_id, user.id);
    assert_eq!(sessions.validations.load(Ordering::SeqCst), 1);
    assert_eq!(sessions.sessions.lock().unwrap().len(), 1);
    Ok(())
}

#[tokio::test]
async fn stateless_custom_managers() -> Result<(), ToriiError> {
    let users = Arc::new(AppUsers::default());
    let sessions = Arc::new(AppSessions::default());
    let torii = Torii::with_custom_managers(users.clone(), sessions.clone());
    let user = users.create_user(&NewUser::new("ada@example.com", Utc::now())).await?;
    let session = torii.create_session(&user.id, None, None).await?;
    assert_eq!(torii.get_session(&session.token).await?.user_id, user.id);
    assert_eq!(torii.get_user(&user.id).await?, Some(user.clone()));
    torii.delete_session(&session.token).await?;
    assert!(torii.get_session(&session.token).await.is_err());
    Ok(())
}
