//! Provider configuration from environment variables.
//!
//! | Variable | Meaning |
//! |---|---|
//! | `TORII_OAUTH_PROVIDERS` | Comma-separated provider names, e.g. `google,github,keycloak` |
//! | `TORII_OAUTH_<NAME>_CLIENT_ID` | The client id (required) |
//! | `TORII_OAUTH_<NAME>_CLIENT_SECRET` | The client secret (required for GitHub; optional for OIDC public clients) |
//! | `TORII_OAUTH_<NAME>_REDIRECT_URL` | The callback URL, e.g. `https://app.example/auth/oauth/<name>/callback` (required) |
//! | `TORII_OAUTH_<NAME>_ISSUER_URL` | The OIDC issuer (required, except for `google`) |
//! | `TORII_OAUTH_<NAME>_SCOPES` | Scopes separated by spaces or commas (default per provider) |
//! | `TORII_OAUTH_<NAME>_KIND` | `oidc` or `github` (default: `github` for the name `github`, else `oidc`) |
//!
//! `<NAME>` is the provider name upper-cased, with `-` as `_`.

use std::sync::Arc;

use torii_core::OAuthProvider;
use torii_core::oauth::OAuthError;

use crate::github::{GitHubConfig, GitHubProvider};
use crate::oidc::{GOOGLE_ISSUER, OidcConfig, OidcProvider};

/// A provider's configuration, as read from the environment.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ProviderConfig {
    /// An OpenID Connect provider.
    Oidc(OidcConfig),
    /// GitHub.
    GitHub(GitHubConfig),
}

impl ProviderConfig {
    /// The provider's name, as listed in `TORII_OAUTH_PROVIDERS`.
    pub fn name(&self) -> &str {
        match self {
            Self::Oidc(config) => &config.name,
            Self::GitHub(config) => &config.name,
        }
    }

    /// Builds the provider (OIDC providers are discovered here, over the network).
    ///
    /// # Errors
    /// As [`OidcProvider::discover`] and [`GitHubProvider::new`].
    pub async fn build(self) -> Result<Arc<dyn OAuthProvider>, OAuthError> {
        Ok(match self {
            Self::Oidc(config) => Arc::new(OidcProvider::discover(config).await?),
            Self::GitHub(config) => Arc::new(GitHubProvider::new(config)?),
        })
    }
}

/// Reads every provider listed in `TORII_OAUTH_PROVIDERS` from the process environment.
///
/// # Errors
/// [`OAuthError::Config`] naming the first missing or unusable variable (never a secret's value).
pub fn configs_from_env() -> Result<Vec<ProviderConfig>, OAuthError> {
    configs_from_lookup(|name| std::env::var(name).ok())
}

/// Like [`configs_from_env`], reading variables through `lookup`.
///
/// # Errors
/// As [`configs_from_env`].
pub fn configs_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Vec<ProviderConfig>, OAuthError> {
    let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let Some(list) = get("TORII_OAUTH_PROVIDERS") else {
        return Ok(Vec::new());
    };
    let mut configs = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !torii_core::oauth::is_valid_provider_name(name) {
            return Err(OAuthError::Config(format!("TORII_OAUTH_PROVIDERS: invalid provider name {name:?}")));
        }
        let prefix = format!("TORII_OAUTH_{}_", name.to_ascii_uppercase().replace('-', "_"));
        let var = |suffix: &str| get(&format!("{prefix}{suffix}"));
        let required =
            |suffix: &str| var(suffix).ok_or_else(|| OAuthError::Config(format!("{prefix}{suffix} is not set")));
        let client_id = required("CLIENT_ID")?;
        let redirect_url = required("REDIRECT_URL")?;
        let scopes: Option<Vec<String>> =
            var("SCOPES").map(|s| s.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_owned).collect());
        let kind = var("KIND").unwrap_or_else(|| if name == "github" { "github".into() } else { "oidc".into() });
        let config = match kind.as_str() {
            "github" => {
                let mut config = GitHubConfig::new(client_id, required("CLIENT_SECRET")?, redirect_url).with_name(name);
                if let Some(scopes) = scopes {
                    config = config.with_scopes(scopes);
                }
                ProviderConfig::GitHub(config)
            }
            "oidc" => {
                let issuer = match var("ISSUER_URL") {
                    Some(issuer) => issuer,
                    None if name == "google" => GOOGLE_ISSUER.to_owned(),
                    None => return Err(OAuthError::Config(format!("{prefix}ISSUER_URL is not set"))),
                };
                let mut config = OidcConfig::new(name, issuer, client_id, redirect_url);
                if let Some(secret) = var("CLIENT_SECRET") {
                    config = config.with_client_secret(secret);
                }
                if let Some(scopes) = scopes {
                    config = config.with_scopes(scopes);
                }
                ProviderConfig::Oidc(config)
            }
            _ => return Err(OAuthError::Config(format!("{prefix}KIND must be `oidc` or `github`"))),
        };
        configs.push(config);
    }
    Ok(configs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn reads_oidc_google_and_github() {
        let vars = [
            ("TORII_OAUTH_PROVIDERS", "google, github,my-idp"),
            ("TORII_OAUTH_GOOGLE_CLIENT_ID", "g-id"),
            ("TORII_OAUTH_GOOGLE_CLIENT_SECRET", "g-secret"),
            ("TORII_OAUTH_GOOGLE_REDIRECT_URL", "https://app.example/auth/oauth/google/callback"),
            ("TORII_OAUTH_GITHUB_CLIENT_ID", "gh-id"),
            ("TORII_OAUTH_GITHUB_CLIENT_SECRET", "gh-secret"),
            ("TORII_OAUTH_GITHUB_REDIRECT_URL", "https://app.example/auth/oauth/github/callback"),
            ("TORII_OAUTH_MY_IDP_CLIENT_ID", "idp"),
            ("TORII_OAUTH_MY_IDP_ISSUER_URL", "https://idp.example"),
            ("TORII_OAUTH_MY_IDP_REDIRECT_URL", "https://app.example/auth/oauth/my-idp/callback"),
            ("TORII_OAUTH_MY_IDP_SCOPES", "openid email groups"),
        ];
        let configs = configs_from_lookup(lookup(&vars)).unwrap();
        assert_eq!(configs.len(), 3);
        assert!(
            matches!(&configs[0], ProviderConfig::Oidc(c) if c.issuer_url == GOOGLE_ISSUER && c.client_secret.is_some())
        );
        assert!(matches!(&configs[1], ProviderConfig::GitHub(c) if c.name == "github"));
        assert!(matches!(&configs[2], ProviderConfig::Oidc(c)
            if c.name == "my-idp" && c.client_secret.is_none() && c.scopes == ["email", "groups"]));
        // Secrets never show in Debug output.
        assert!(!format!("{configs:?}").contains("secret\""));
        assert!(!format!("{configs:?}").contains("g-secret"));
    }

    #[test]
    fn names_the_missing_variable() {
        let vars = [("TORII_OAUTH_PROVIDERS", "keycloak"), ("TORII_OAUTH_KEYCLOAK_CLIENT_ID", "id")];
        let err = configs_from_lookup(lookup(&vars)).unwrap_err().to_string();
        assert!(err.contains("TORII_OAUTH_KEYCLOAK_REDIRECT_URL"), "{err}");
        assert!(configs_from_lookup(lookup(&[])).unwrap().is_empty());
        let bad = [("TORII_OAUTH_PROVIDERS", "Bad Name")];
        assert!(configs_from_lookup(lookup(&bad)).is_err());
    }

    #[test]
    fn names_and_kinds_follow_the_list() {
        let vars = [
            ("TORII_OAUTH_PROVIDERS", "corp-github, sso"),
            ("TORII_OAUTH_CORP_GITHUB_KIND", "github"),
            ("TORII_OAUTH_CORP_GITHUB_CLIENT_ID", "id"),
            ("TORII_OAUTH_CORP_GITHUB_CLIENT_SECRET", "s3cr3t-value"),
            ("TORII_OAUTH_CORP_GITHUB_REDIRECT_URL", "https://app.example/auth/oauth/corp-github/callback"),
            ("TORII_OAUTH_CORP_GITHUB_SCOPES", "read:user,user:email"),
            ("TORII_OAUTH_SSO_CLIENT_ID", "id"),
            ("TORII_OAUTH_SSO_ISSUER_URL", "https://sso.example/realms/main"),
            ("TORII_OAUTH_SSO_REDIRECT_URL", "https://app.example/auth/oauth/sso/callback"),
            // Blank counts as unset, so an empty secret leaves a public client.
            ("TORII_OAUTH_SSO_CLIENT_SECRET", "  "),
        ];
        let configs = configs_from_lookup(lookup(&vars)).unwrap();
        let names: Vec<_> = configs.iter().map(ProviderConfig::name).collect();
        assert_eq!(names, ["corp-github", "sso"]);
        assert!(matches!(&configs[0], ProviderConfig::GitHub(c) if c.scopes == ["read:user", "user:email"]));
        assert!(matches!(&configs[1], ProviderConfig::Oidc(c)
            if c.client_secret.is_none() && c.scopes == ["email", "profile"]));
        assert!(!format!("{configs:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn errors_name_the_variable_and_never_quote_a_secret() {
        let secret = "hunter2-client-secret";
        let cases: [(&[(&str, &str)], &str); 4] = [
            // GitHub has no public clients: its secret is required.
            (
                &[
                    ("TORII_OAUTH_PROVIDERS", "github"),
                    ("TORII_OAUTH_GITHUB_CLIENT_ID", "id"),
                    ("TORII_OAUTH_GITHUB_REDIRECT_URL", "https://app.example/cb"),
                ],
                "TORII_OAUTH_GITHUB_CLIENT_SECRET is not set",
            ),
            // Any name but google needs its issuer.
            (
                &[
                    ("TORII_OAUTH_PROVIDERS", "okta"),
                    ("TORII_OAUTH_OKTA_CLIENT_ID", "id"),
                    ("TORII_OAUTH_OKTA_CLIENT_SECRET", secret),
                    ("TORII_OAUTH_OKTA_REDIRECT_URL", "https://app.example/cb"),
                ],
                "TORII_OAUTH_OKTA_ISSUER_URL is not set",
            ),
            (
                &[
                    ("TORII_OAUTH_PROVIDERS", "x"),
                    ("TORII_OAUTH_X_KIND", "saml"),
                    ("TORII_OAUTH_X_CLIENT_ID", "id"),
                    ("TORII_OAUTH_X_CLIENT_SECRET", secret),
                    ("TORII_OAUTH_X_REDIRECT_URL", "https://app.example/cb"),
                ],
                "TORII_OAUTH_X_KIND must be `oidc` or `github`",
            ),
            (&[("TORII_OAUTH_PROVIDERS", "google")], "TORII_OAUTH_GOOGLE_CLIENT_ID is not set"),
        ];
        for (vars, expected) in cases {
            let err = configs_from_lookup(lookup(vars)).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
            assert!(!err.contains(secret), "{err}");
        }
        // Google needs no issuer: it is known.
        let google = [
            ("TORII_OAUTH_PROVIDERS", "google"),
            ("TORII_OAUTH_GOOGLE_CLIENT_ID", "id"),
            ("TORII_OAUTH_GOOGLE_REDIRECT_URL", "https://app.example/cb"),
        ];
        let configs = configs_from_lookup(lookup(&google)).unwrap();
        assert!(matches!(&configs[0], ProviderConfig::Oidc(c) if c.issuer_url == GOOGLE_ISSUER));
    }
}
