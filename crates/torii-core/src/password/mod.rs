//! Password authentication building blocks: the policy new passwords must meet and the Argon2id hasher.

mod hasher;
mod policy;

pub use hasher::{Argon2Params, PasswordHasher, Verification};
pub use policy::{PasswordPolicy, PasswordPolicyError, common_password_count, normalize_password};
