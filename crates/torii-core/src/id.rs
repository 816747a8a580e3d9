//! Identifiers: opaque strings with their own types so a user id can't be passed where a session id is
//! expected.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::token::random_bytes;

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an existing identifier. Any text is accepted: ids are opaque.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// A fresh random identifier: 128 bits from the OS CSPRNG, base58-encoded.
            pub fn new_random() -> Self {
                Self(bs58::encode(random_bytes::<16>()).into_string())
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Consumes the id and returns its text.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

opaque_id!(
    /// A user's stable identifier. Generated ids are random base58 text, but any string is accepted
    /// (`UserId::new("user_123")`), so ids from an existing system can be kept.
    UserId
);

opaque_id!(
    /// The public identifier of a session. Unlike the session token it is not a secret: it names a
    /// session in device lists and in "revoke this device" requests.
    SessionId
);

opaque_id!(
    /// Identifies one passkey ceremony (registration or login) between its start and its completion.
    ChallengeId
);

opaque_id!(
    /// Identifies one recorded security event ([`crate::storage::AuditEvent`]).
    AuditEventId
);
