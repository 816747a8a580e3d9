//! The Lua scripts behind every write that touches more than one key, so each such write is atomic.
//!
//! Redis runs a script without interleaving other commands, so, for example, the conflict check and
//! the writes of `create_session` cannot race another `create_session`. [`Script`] sends `EVALSHA` and
//! falls back to `EVAL` when the server does not know the script yet (after a restart, say), so the
//! scripts need no loading step.

use std::sync::LazyLock;

use redis::Script;

/// The helper shared by the scripts that delete sessions, followed by a script's own body.
macro_rules! with_remove_session {
    ($file:literal) => {
        concat!(include_str!("lua/remove_session.lua"), "\n", include_str!($file))
    };
}

pub(crate) static CREATE_SESSION: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/create_session.lua")));

pub(crate) static TOUCH_SESSION: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/touch_session.lua")));

pub(crate) static LIST_SESSIONS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/list_sessions.lua")));

pub(crate) static DELETE_SESSION: LazyLock<Script> =
    LazyLock::new(|| Script::new(with_remove_session!("lua/delete_session.lua")));

pub(crate) static DELETE_SESSION_BY_ID: LazyLock<Script> =
    LazyLock::new(|| Script::new(with_remove_session!("lua/delete_session_by_id.lua")));

pub(crate) static DELETE_USER_SESSIONS: LazyLock<Script> =
    LazyLock::new(|| Script::new(with_remove_session!("lua/delete_user_sessions.lua")));

pub(crate) static CLEANUP_SESSIONS: LazyLock<Script> =
    LazyLock::new(|| Script::new(with_remove_session!("lua/cleanup_sessions.lua")));

pub(crate) static REVOKE_TOKEN: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/revoke_token.lua")));

pub(crate) static CLEANUP_REVOKED: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/cleanup_revoked.lua")));

pub(crate) static REVOKE_ALL_BEFORE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/revoke_all_before.lua")));

pub(crate) static HIT_RATE_LIMIT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/hit_rate_limit.lua")));

pub(crate) static CLEANUP_RATE_LIMITS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/cleanup_rate_limits.lua")));
