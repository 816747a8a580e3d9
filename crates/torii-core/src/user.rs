//! Users.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::UserId;

/// A person who can authenticate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Stable, opaque identifier.
    pub id: UserId,
    /// Display name, if the user gave one.
    pub name: Option<String>,
    /// Email address, trimmed, as the user typed it. Comparisons are case-insensitive.
    pub email: String,
    /// When the email address was verified, if it was.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account was last changed.
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// True once the email address has been verified.
    pub fn is_email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

/// What is needed to create a user. Storage assigns nothing: the id and timestamps are chosen by the
/// caller so every backend stores exactly the same values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The id to create the user with.
    pub id: UserId,
    /// Display name.
    pub name: Option<String>,
    /// Email address (already validated and trimmed by [`crate::email::validate_email`]).
    pub email: String,
    /// When the email was verified, if it already is (for example from a trusted identity provider).
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Creation time; also the initial `updated_at`.
    pub created_at: DateTime<Utc>,
}

impl NewUser {
    /// A new user with a random id.
    pub fn new(email: impl Into<String>, now: DateTime<Utc>) -> Self {
        Self { id: UserId::new_random(), name: None, email: email.into(), email_verified_at: None, created_at: now }
    }

    /// The [`User`] this will become once stored.
    pub fn to_user(&self) -> User {
        User {
            id: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            email_verified_at: self.email_verified_at,
            created_at: self.created_at,
            updated_at: self.created_at,
        }
    }
}
