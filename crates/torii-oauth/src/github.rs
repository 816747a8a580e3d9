//! GitHub: plain OAuth 2.0 (no ID token), the identity read from its REST API.
//!
//! The subject is GitHub's numeric user id (logins can be renamed and reused). The email is the
//! primary address from `/user/emails` when GitHub marks it verified, else another verified one; an
//! address GitHub has not verified is passed on as unverified.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _, TokenUrl,
};
use serde::Deserialize;
use torii_core::OAuthProvider;
use torii_core::oauth::{AuthorizationStart, CodeExchange, OAuthError, OAuthSecret, ProviderIdentity};

use crate::http::http_client;

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Configuration of the GitHub provider.
#[derive(Debug, Clone)]
pub struct GitHubConfig {
    pub(crate) name: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: OAuthSecret,
    pub(crate) redirect_url: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) authorize_url: String,
    pub(crate) token_url: String,
    pub(crate) api_url: String,
}

impl GitHubConfig {
    /// github.com, named `github`, asking for `read:user user:email`.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        redirect_url: impl Into<String>,
    ) -> Self {
        Self {
            name: "github".to_owned(),
            client_id: client_id.into(),
            client_secret: OAuthSecret::new(client_secret),
            redirect_url: redirect_url.into(),
            scopes: vec!["read:user".to_owned(), "user:email".to_owned()],
            authorize_url: "https://github.com/login/oauth/authorize".to_owned(),
            token_url: "https://github.com/login/oauth/access_token".to_owned(),
            api_url: "https://api.github.com".to_owned(),
        }
    }

    /// GitHub Enterprise Server (or a test double) at `base_url`: `{base}/login/oauth/...` and the API
    /// at `api_url`.
    pub fn with_server(mut self, base_url: &str, api_url: impl Into<String>) -> Self {
        let base = base_url.trim_end_matches('/');
        self.authorize_url = format!("{base}/login/oauth/authorize");
        self.token_url = format!("{base}/login/oauth/access_token");
        self.api_url = api_url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Renames the provider (for a second GitHub app or an Enterprise server).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Replaces the scopes.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

/// The GitHub provider.
#[derive(Debug)]
pub struct GitHubProvider {
    config: GitHubConfig,
    client: Client,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct GitHubUser {
    id: u64,
    name: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

impl GitHubProvider {
    /// Builds the provider.
    ///
    /// # Errors
    /// [`OAuthError::Config`] for an invalid URL or provider name.
    pub fn new(config: GitHubConfig) -> Result<Self, OAuthError> {
        if !torii_core::oauth::is_valid_provider_name(&config.name) {
            return Err(OAuthError::Config(format!("invalid provider name {:?}", config.name)));
        }
        let invalid = |what: &str| OAuthError::Config(format!("invalid {what}"));
        let client = BasicClient::new(ClientId::new(config.client_id.clone()))
            .set_client_secret(ClientSecret::new(config.client_secret.expose().to_owned()))
            .set_auth_uri(AuthUrl::new(config.authorize_url.clone()).map_err(|_| invalid("authorize URL"))?)
            .set_token_uri(TokenUrl::new(config.token_url.clone()).map_err(|_| invalid("token URL"))?)
            .set_redirect_uri(RedirectUrl::new(config.redirect_url.clone()).map_err(|_| invalid("redirect URL"))?);
        Ok(Self { config, client, http: http_client()? })
    }

    async fn api<T: for<'de> Deserialize<'de>>(&self, path: &str, token: &str) -> Result<T, OAuthError> {
        self.http
            .get(format!("{}{path}", self.config.api_url))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(OAuthError::provider)?
            .json()
            .await
            .map_err(OAuthError::provider)
    }
}

#[async_trait::async_trait]
impl OAuthProvider for GitHubProvider {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn authorization_url(&self, state: &str) -> Result<AuthorizationStart, OAuthError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = state.to_owned();
        let (url, _) = self
            .client
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(self.config.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthorizationStart {
            url: url.into(),
            pkce_verifier: OAuthSecret::new(verifier.secret().clone()),
            nonce: None,
        })
    }

    async fn exchange_code(&self, exchange: CodeExchange) -> Result<ProviderIdentity, OAuthError> {
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(exchange.code.expose().to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(exchange.pkce_verifier.expose().to_owned()))
            .request_async(&self.http)
            .await
            .map_err(OAuthError::code_exchange)?;
        let access = token.access_token().secret();
        let user: GitHubUser = self.api("/user", access).await?;
        // Without the user:email scope this fails; the public profile email is then all there is.
        let emails: Vec<GitHubEmail> = self.api("/user/emails", access).await.unwrap_or_default();
        let verified = emails.iter().find(|e| e.primary && e.verified).or_else(|| emails.iter().find(|e| e.verified));
        let (email, email_verified) = match verified {
            Some(e) => (Some(e.email.clone()), true),
            None => (user.email.clone(), false),
        };
        Ok(ProviderIdentity { subject: user.id.to_string(), email, email_verified, name: user.name })
    }
}
