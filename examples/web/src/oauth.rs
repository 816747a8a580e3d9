//! Social login: the identity providers named in `TORII_OAUTH_PROVIDERS`, each configured by its
//! `TORII_OAUTH_<NAME>_*` variables (the table is in `torii::oauth::env`).

use anyhow::Context as _;
use torii::Torii;
use torii::oauth::env::configs_from_env;

/// Adds every provider configured in the environment to `torii`; with `TORII_OAUTH_PROVIDERS` unset,
/// none (the page then offers no provider).
///
/// # Errors
/// When a variable is missing or unusable, or an OpenID Connect provider cannot be discovered: a
/// provider that was asked for and does not work should stop the start-up, not vanish from the page.
/// Messages name the provider and the variable, never a secret.
pub(crate) async fn with_providers_from_env<R>(mut torii: Torii<R>) -> anyhow::Result<Torii<R>> {
    for config in configs_from_env().context("the TORII_OAUTH_* settings cannot be used")? {
        let name = config.name().to_owned();
        let provider = config.build().await.with_context(|| format!("OAuth provider {name:?} cannot be used"))?;
        torii = torii.with_shared_oauth_provider(provider);
        tracing::info!(provider = %name, "OAuth provider ready");
    }
    Ok(torii)
}
