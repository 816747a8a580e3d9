//! Any OpenID Connect provider, found through discovery (`.well-known/openid-configuration`).
//!
//! Discovery fetches the provider's metadata and its signing keys (JWKS) once; the keys are cached
//! and fetched again when an ID token names a key id the cache does not know (the provider rotated
//! its keys), at most once per [`OidcConfig::jwks_refresh_interval`]. ID tokens are validated by
//! `openidconnect`: signature against the JWKS, `iss`, `aud` (and `azp`), `exp`, `nonce`, and an
//! algorithm from the allowed list (asymmetric algorithms only by default).

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType, CoreIdTokenClaims,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, JsonWebKeySet, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl, Scope,
    SignatureVerificationError, SubjectIdentifier, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use torii_core::OAuthProvider;
use torii_core::oauth::{AuthorizationStart, CodeExchange, OAuthError, OAuthSecret, ProviderIdentity};

use crate::http::http_client;

/// Google's issuer.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// Metadata fields beyond the core set that Torii uses.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct ExtraMetadata {
    /// RFC 9207: the provider adds `iss` to every authorization response.
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// Configuration of an OpenID Connect provider.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub(crate) name: String,
    pub(crate) issuer_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<OAuthSecret>,
    pub(crate) redirect_url: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) allowed_algs: Vec<CoreJwsSigningAlgorithm>,
    pub(crate) jwks_refresh_interval: Duration,
}

impl OidcConfig {
    /// A provider named `name` (used in URLs and stored with linked accounts) at `issuer_url`, for
    /// the client `client_id`, whose callback is `redirect_url` (for example
    /// `https://app.example/auth/oauth/{name}/callback`). Scopes default to `openid email profile`.
    pub fn new(
        name: impl Into<String>,
        issuer_url: impl Into<String>,
        client_id: impl Into<String>,
        redirect_url: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            issuer_url: issuer_url.into(),
            client_id: client_id.into(),
            client_secret: None,
            redirect_url: redirect_url.into(),
            scopes: vec!["email".to_owned(), "profile".to_owned()],
            allowed_algs: vec![
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
                CoreJwsSigningAlgorithm::RsaSsaPssSha256,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
                CoreJwsSigningAlgorithm::EcdsaP384Sha384,
                CoreJwsSigningAlgorithm::EdDsa,
            ],
            jwks_refresh_interval: Duration::from_secs(60),
        }
    }

    /// Google (`https://accounts.google.com`), named `google`.
    pub fn google(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        redirect_url: impl Into<String>,
    ) -> Self {
        Self::new("google", GOOGLE_ISSUER, client_id, redirect_url).with_client_secret(client_secret)
    }

    /// Sets the client secret (confidential clients; public clients rely on PKCE alone).
    pub fn with_client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(OAuthSecret::new(secret));
        self
    }

    /// Replaces the scopes requested besides `openid` (which is always requested).
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).filter(|s: &String| s != "openid").collect();
        self
    }

    /// Replaces the ID-token signing algorithms accepted (default: RS256/384/512, PS256, ES256/384,
    /// EdDSA; never `none`, and HMAC only if you list it).
    pub fn with_allowed_algs(mut self, algs: impl IntoIterator<Item = CoreJwsSigningAlgorithm>) -> Self {
        self.allowed_algs = algs.into_iter().collect();
        self
    }

    /// How soon after one key refresh another may happen (default 60 s), so tokens with made-up key
    /// ids cannot make Torii hammer the provider.
    pub fn with_jwks_refresh_interval(mut self, interval: Duration) -> Self {
        self.jwks_refresh_interval = interval;
        self
    }

    /// The provider name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// An OpenID Connect provider, ready to use (see the [module docs](self)).
#[derive(Debug)]
pub struct OidcProvider {
    config: OidcConfig,
    issuer: String,
    iss_parameter_supported: bool,
    metadata: RwLock<Arc<Metadata>>,
    last_jwks_refresh: Mutex<Option<Instant>>,
    http: openidconnect::reqwest::Client,
}

impl OidcProvider {
    /// Fetches the provider's metadata and keys.
    ///
    /// # Errors
    /// [`OAuthError::Config`] for an unusable URL; [`OAuthError::Provider`] when discovery fails
    /// (unreachable, or metadata whose `issuer` is not `issuer_url`).
    pub async fn discover(config: OidcConfig) -> Result<Self, OAuthError> {
        if !torii_core::oauth::is_valid_provider_name(&config.name) {
            return Err(OAuthError::Config(format!("invalid provider name {:?}", config.name)));
        }
        RedirectUrl::new(config.redirect_url.clone()).map_err(|_| config_error("redirect URL"))?;
        let issuer_url = IssuerUrl::new(config.issuer_url.clone()).map_err(|_| config_error("issuer URL"))?;
        let http = http_client()?;
        let metadata = Metadata::discover_async(issuer_url, &http).await.map_err(OAuthError::provider)?;
        Ok(Self {
            issuer: metadata.issuer().as_str().to_owned(),
            iss_parameter_supported: metadata.additional_metadata().authorization_response_iss_parameter_supported,
            metadata: RwLock::new(Arc::new(metadata)),
            last_jwks_refresh: Mutex::new(None),
            config,
            http,
        })
    }

    fn metadata(&self) -> Arc<Metadata> {
        Arc::clone(&self.metadata.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn client(&self, metadata: &Metadata) -> Result<Client, OAuthError> {
        let redirect = RedirectUrl::new(self.config.redirect_url.clone()).map_err(|_| config_error("redirect URL"))?;
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.as_ref().map(|s| ClientSecret::new(s.expose().to_owned())),
        )
        .set_redirect_uri(redirect))
    }

    /// Fetches the JWKS again, unless that was done less than the refresh interval ago. Returns
    /// whether the keys were refreshed.
    async fn refresh_jwks(&self) -> Result<bool, OAuthError> {
        {
            let mut last = self.last_jwks_refresh.lock().unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|at| at.elapsed() < self.config.jwks_refresh_interval) {
                return Ok(false);
            }
            *last = Some(Instant::now());
        }
        let current = self.metadata();
        let jwks = JsonWebKeySet::fetch_async(current.jwks_uri(), &self.http).await.map_err(OAuthError::provider)?;
        let mut updated = (*current).clone();
        updated = updated.set_jwks(jwks);
        *self.metadata.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(updated);
        tracing::info!(provider = %self.config.name, "refreshed the provider's signing keys");
        Ok(true)
    }

    fn verify(
        &self,
        client: &Client,
        token: &openidconnect::core::CoreIdToken,
        nonce: &Nonce,
    ) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
        let verifier = client.id_token_verifier().set_allowed_algs(self.config.allowed_algs.iter().cloned());
        token.claims(&verifier, nonce).cloned()
    }
}

fn config_error(what: &str) -> OAuthError {
    OAuthError::Config(format!("invalid {what}"))
}

#[async_trait::async_trait]
impl OAuthProvider for OidcProvider {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn issuer(&self) -> Option<&str> {
        Some(&self.issuer)
    }

    fn requires_issuer_parameter(&self) -> bool {
        self.iss_parameter_supported
    }

    fn authorization_url(&self, state: &str) -> Result<AuthorizationStart, OAuthError> {
        let client = self.client(&self.metadata())?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = state.to_owned();
        let (url, _, nonce) = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                move || CsrfToken::new(state),
                Nonce::new_random,
            )
            .add_scopes(self.config.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthorizationStart {
            url: url.into(),
            pkce_verifier: OAuthSecret::new(verifier.secret().clone()),
            nonce: Some(nonce.secret().clone()),
        })
    }

    async fn exchange_code(&self, exchange: CodeExchange) -> Result<ProviderIdentity, OAuthError> {
        // An OIDC flow always has a nonce; a state without one was not started by this provider.
        let nonce = Nonce::new(exchange.nonce.ok_or(OAuthError::InvalidState)?);
        let client = self.client(&self.metadata())?;
        let response = client
            .exchange_code(AuthorizationCode::new(exchange.code.expose().to_owned()))
            .map_err(OAuthError::code_exchange)?
            .set_pkce_verifier(PkceCodeVerifier::new(exchange.pkce_verifier.expose().to_owned()))
            .request_async(&self.http)
            .await
            .map_err(OAuthError::code_exchange)?;
        let id_token =
            response.id_token().ok_or_else(|| OAuthError::invalid_id_token("no ID token in the token response"))?;

        let claims = match self.verify(&client, id_token, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey))
                if self.refresh_jwks().await? =>
            {
                let client = self.client(&self.metadata())?;
                self.verify(&client, id_token, &nonce)
            }
            other => other,
        }
        .map_err(OAuthError::invalid_id_token)?;

        let mut identity = ProviderIdentity {
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()),
        };
        // Providers may keep the ID token minimal and serve the rest from the userinfo endpoint; the
        // library checks that its `sub` is the ID token's.
        if identity.email.is_none()
            && let Ok(request) = client
                .user_info(response.access_token().clone(), Some(SubjectIdentifier::new(identity.subject.clone())))
        {
            let info: openidconnect::core::CoreUserInfoClaims =
                request.request_async(&self.http).await.map_err(OAuthError::provider)?;
            identity.email = info.email().map(|e| e.as_str().to_owned());
            identity.email_verified = info.email_verified().unwrap_or(false);
            if identity.name.is_none() {
                identity.name = info.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned());
            }
        }
        Ok(identity)
    }
}
