//! The macros that stamp out one `#[tokio::test]` per check for a backend factory.
//!
//! Each group macro lists its module's checks by name; the unit test at the bottom of this file fails
//! when a check is added to a module but not to its macro, so no check can be silently left out.

/// Expands to a module `$group` with one multi-threaded `#[tokio::test]` per listed check. Each test
/// calls the factory once (a fresh backend per test); when it returns `None` the test reports the skip
/// and passes. Not public API: use the group macros.
#[doc(hidden)]
#[macro_export]
macro_rules! __storage_test_group {
    ($factory:path, $group:ident, [$($check:ident),+ $(,)?]) => {
        mod $group {
            // Brings the caller's names (the factory, typically) into this module, so `$factory` resolves
            // here exactly as it did where the macro was invoked.
            #[allow(unused_imports)]
            use super::*;

            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some(backend) = $factory().await else {
                        $crate::report_skipped(
                            concat!(module_path!(), "::", stringify!($check)),
                            stringify!($factory),
                        );
                        return;
                    };
                    $crate::$group::$check(backend).await;
                }
            )+
        }
    };
}

/// One test per check in [`users`](crate::users), in a module `users`, for a factory returning
/// `Option<B>` where `B: UserStorage`.
///
/// `factory` is a path (resolvable where the macro is invoked) to an `async fn() -> Option<B>`; see the
/// [crate documentation](crate) for a complete example.
#[macro_export]
macro_rules! user_storage_tests {
    ($factory:path) => {
        $crate::__storage_test_group!(
            $factory,
            users,
            [
                create_user_round_trips_exactly,
                timestamps_keep_microseconds,
                missing_user_is_none,
                email_is_unique_ignoring_case,
                unicode_email_is_unique_ignoring_case,
                look_alike_email_is_the_same_address,
                duplicate_id_conflicts,
                find_by_email_ignores_case_and_whitespace,
                update_user_replaces_fields,
                update_user_clears_optional_fields,
                update_user_to_own_email_in_other_case,
                update_user_to_taken_email_conflicts,
                update_missing_user_is_not_found,
                set_email_verified_marks_user,
                delete_user_removes_it,
                concurrent_create_same_email_one_wins,
                text_round_trips_exactly,
            ]
        );
    };
}

/// One test per check in [`sessions`](crate::sessions), in a module `sessions`, for a factory returning
/// `Option<B>` where `B: UserStorage + SessionStorage`.
#[macro_export]
macro_rules! session_storage_tests {
    ($factory:path) => {
        $crate::__storage_test_group!(
            $factory,
            sessions,
            [
                create_and_get_round_trips,
                unknown_session_is_none,
                expired_session_is_never_returned,
                touch_updates_last_activity,
                list_is_newest_first_and_live_only,
                delete_session_removes_it,
                delete_by_id_only_for_owner,
                delete_all_sessions_for_user,
                cleanup_removes_expired_in_batches,
                create_for_missing_user_is_not_found,
                duplicate_session_conflicts,
                deleting_user_deletes_sessions,
                text_round_trips_exactly,
            ]
        );
    };
}

/// One test per check in [`passwords`](crate::passwords), in a module `passwords`, for a factory
/// returning `Option<B>` where `B: PasswordStorage`.
#[macro_export]
macro_rules! password_storage_tests {
    ($factory:path) => {
        $crate::__storage_test_group!(
            $factory,
            passwords,
            [
                set_get_replace_remove,
                create_user_with_password_stores_both,
                create_user_with_password_is_atomic,
                password_for_missing_user,
                deleting_user_deletes_password,
                concurrent_registrations_one_wins,
            ]
        );
    };
}

/// One test per check in [`oauth`](crate::oauth), in a module `oauth`, for a factory returning
/// `Option<B>` where `B: UserStorage + OAuthStorage`.
#[macro_export]
macro_rules! oauth_storage_tests {
    ($factory:path) => {
        $crate::__storage_test_group!(
            $factory,
            oauth,
            [
                account_round_trips,
                account_unique_on_provider_and_subject,
                list_accounts_oldest_first,
                delete_account_scoped_to_user,
                state_is_single_use,
                expired_state_is_never_returned,
                concurrent_state_consume_one_wins,
                deleting_user_deletes_oauth_data,
                text_round_trips_exactly,
            ]
        );
    };
}

/// One test per check in [`passkeys`](crate::passkeys), in a module `passkeys`, for a factory returning
/// `Option<B>` where `B: UserStorage + PasskeyStorage`.
#[macro_export]
macro_rules! passkey_storage_tests {
    ($factory:path) => {
        $crate::__storage_test_group!(
            $factory,
            passkeys,
            [
                passkey_round_trips,
                credential_id_is_unique,
                list_passkeys_oldest_first,
                update_usage_records_use,
                rename_scoped_to_owner,
                delete_scoped_to_owner,
                challenge_is_single_use,
                challenge_wrong_kind_is_not_returned,
                expired_challenge_is_never_returned,
                concurrent_challenge_consume_one_wins,
                deleting_user_deletes_passkeys,
                text_round_trips_exactly,
            ]
        );
    };
}

/// One test per check in [`proof`](crate::proof), in a module `proof`, for a factory returning
/// `Option<B>` where `B: PasswordStorage + OAuthStorage + PasskeyStorage`.
#[macro_export]
macro_rules! proof_storage_tests {
    ($factory:path) => {
        $crate::__storage_test_group!(
            $factory,
            proof,
            [first_proof_drops_unproven_credentials, later_proof_changes_nothing, concurrent_proofs_one_drops,]
        );
    };
}

/// One test per check in [`magic_links`](crate::magic_links), in a module `magic_links`, for a factory
/// returning `Option<B>` where `B: UserStorage + MagicLinkStorage`.
#[macro_export]
macro_rules! magic_link_storage_tests {
    ($factory:path) => {
        $crate::__storage_test_group!(
            $factory,
            magic_links,
            [
                token_is_single_use,
                wrong_purpose_is_not_returned,
                expired_token_is_never_returned,
                invalidate_voids_older_tokens,
                cleanup_removes_expired_in_batches,
                concurrent_consume_one_wins,
                deleting_user_deletes_tokens,
            ]
        );
    };
}

/// One test per check in [`rate_limits`](crate::rate_limits), in a module `rate_limits`, for a factory
/// returning `Option<B>` where `B: RateLimitStorage`.
#[macro_export]
macro_rules! rate_limit_storage_tests {
    ($factory:path) => {
        $crate::__storage_test_group!(
            $factory,
            rate_limits,
            [
                counts_up_to_max_then_refuses,
                previous_window_weighs_on_the_next,
                previous_window_weighs_in_proportion,
                keys_are_independent,
                concurrent_hits_allow_exactly_max,
                reset_forgets_the_key,
                cleanup_removes_expired_counters_in_batches,
            ]
        );
    };
}

/// One test per check in [`audit`](crate::audit), in a module `audit`, for a factory returning
/// `Option<B>` where `B: AuditLogStorage`.
#[macro_export]
macro_rules! audit_log_storage_tests {
    ($factory:path) => {
        $crate::__storage_test_group!(
            $factory,
            audit,
            [
                event_round_trips,
                text_round_trips_exactly,
                list_is_newest_first_limited_and_per_user,
                delete_before_cutoff_in_batches,
            ]
        );
    };
}

/// One test per check in [`refresh`](crate::refresh), in a module `refresh`, for a factory returning
/// `Option<B>` where `B: UserStorage + RefreshTokenStorage`.
#[macro_export]
macro_rules! refresh_token_storage_tests {
    ($factory:path) => {
        $crate::__storage_test_group!(
            $factory,
            refresh,
            [
                refresh_token_is_single_use,
                expired_refresh_token_is_invalid,
                revoking_a_family_invalidates_its_members,
                revoking_by_user_covers_all_families,
                concurrent_use_one_wins,
                deleting_user_deletes_refresh_tokens,
                cleanup_removes_expired_refresh_tokens_in_batches,
            ]
        );
    };
}

/// One test per check in [`revocation`](crate::revocation), in a module `revocation`, for a factory
/// returning `Option<B>` where `B: TokenRevocationStorage`.
#[macro_export]
macro_rules! revocation_storage_tests {
    ($factory:path) => {
        $crate::__storage_test_group!(
            $factory,
            revocation,
            [
                revoked_token_id_is_revoked,
                revoke_all_before_kills_older_tokens,
                not_before_only_moves_forward,
                cleanup_removes_expired_entries_in_batches,
            ]
        );
    };
}

/// One test per check in [`session_data`](crate::session_data), in a module `session_data`, for a factory
/// returning `Option<S>` where `S: SessionStore + 'static` (the application's key/value session data,
/// `torii_core::session_store`). Not part of [`all_storage_tests!`](crate::all_storage_tests): invoke it
/// for every store that implements `SessionStore`.
#[macro_export]
macro_rules! session_data_store_tests {
    ($factory:path) => {
        $crate::__storage_test_group!(
            $factory,
            session_data,
            [
                save_then_load_round_trips_every_key,
                save_replaces_what_was_stored,
                delete_removes_only_that_id,
                unknown_id_is_none,
                expired_data_is_never_returned,
                cleanup_removes_only_expired_entries,
                awkward_ids_and_values_round_trip,
                similar_ids_are_distinct,
                concurrent_saves_leave_one_consistent_value,
            ]
        );
    };
}

/// Every group of checks, inside a module `conformance` (tests read like
/// `conformance::sessions::expired_session_is_never_returned`), for a backend that implements all the
/// storage traits.
#[macro_export]
macro_rules! all_storage_tests {
    ($factory:path) => {
        mod conformance {
            #[allow(unused_imports)]
            use super::*;

            $crate::user_storage_tests!($factory);
            $crate::session_storage_tests!($factory);
            $crate::password_storage_tests!($factory);
            $crate::oauth_storage_tests!($factory);
            $crate::passkey_storage_tests!($factory);
            $crate::proof_storage_tests!($factory);
            $crate::magic_link_storage_tests!($factory);
            $crate::rate_limit_storage_tests!($factory);
            $crate::audit_log_storage_tests!($factory);
        }
    };
}

#[cfg(test)]
mod tests {
    /// Every `pub async fn` of a check module must appear in this file (in its group macro).
    #[test]
    fn every_check_is_stamped_out() {
        // Whitespace removed, so the parsing below does not depend on how rustfmt lays the lists out.
        let macros: String = include_str!("macros.rs").split_whitespace().collect();
        let modules = [
            ("users", include_str!("users.rs")),
            ("sessions", include_str!("sessions.rs")),
            ("passwords", include_str!("passwords.rs")),
            ("oauth", include_str!("oauth.rs")),
            ("passkeys", include_str!("passkeys.rs")),
            ("proof", include_str!("proof.rs")),
            ("magic_links", include_str!("magic_links.rs")),
            ("revocation", include_str!("revocation.rs")),
            ("refresh", include_str!("refresh.rs")),
            ("session_data", include_str!("session_data.rs")),
            ("rate_limits", include_str!("rate_limits.rs")),
            ("audit", include_str!("audit.rs")),
        ];
        for (module, source) in modules {
            let group = macros
                .split("__storage_test_group!($factory,")
                .find(|part| part.starts_with(&format!("{module},[")))
                .unwrap_or_else(|| panic!("no group macro for `{module}`"));
            let listed = &group[..group.find(']').expect("the list ends")];
            for line in source.lines() {
                let Some(rest) = line.strip_prefix("pub async fn ") else { continue };
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                assert!(
                    listed.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|word| word == name),
                    "check `{module}::{name}` is not listed in its macro"
                );
            }
        }
    }
}
