//! The email routes: magic links, email verification and password reset and change, over
//! [`EmailFlows`]. Added by [`super::AuthRoutes::with_email_flows`].
//!
//! Requests that take an address answer 202 with one fixed body whether or not an account has it. A
//! link in a message opens a `GET` page that redeems nothing by itself: the person confirms with a
//! button, which `POST`s the token, so a mail scanner that fetches every link cannot use it up.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use torii_core::email_flows::{EmailFlows, OtherSessions};
use torii_core::storage::{DroppedCredentials, MagicLinkStorage};
use torii_core::throttle::ClientAction;
use torii_core::{RepositoryProvider, User};
use tower_cookies::Cookies;

use super::RouteState;
use super::dto::{LoginResponse, SessionInfo};
use super::throttle::limit_client;
use crate::client::ClientInfo;
use crate::cookies::set_session_cookie;
use crate::error::ApiError;
use crate::extract::{AuthUser, FreshAuthUser, TokenSource, find_token};
use crate::json::ApiJson;

/// The routes, with the flows available to their handlers.
pub(super) fn router<R: RepositoryProvider + MagicLinkStorage>(flows: EmailFlows<R>) -> Router<RouteState<R>> {
    Router::new()
        .route("/magic-link", post(request_magic_link::<R>).get(magic_link_page))
        .route("/magic-link/verify", post(verify_magic_link::<R>))
        .route("/verify-email", post(verify_email::<R>).get(verify_email_page))
        .route("/verify-email/resend", post(resend_verification::<R>))
        .route("/password/forgot", post(forgot_password::<R>))
        .route("/password/reset", post(reset_password::<R>).get(reset_password_page))
        .route("/password/change", post(change_password::<R>))
        .layer(Extension(flows))
}

/// Body of `POST /magic-link` and `POST /password/forgot`.
#[derive(Deserialize)]
pub(crate) struct EmailRequest {
    email: String,
}

/// Body of `POST /magic-link/verify` and `POST /verify-email`.
#[derive(Deserialize)]
pub(crate) struct TokenRequest {
    token: String,
    /// Bearer mode (magic link only): return the session token in the body and set no cookie.
    #[serde(default)]
    bearer: bool,
    /// `POST /verify-email` only: the account's address and password, entered again by someone who is
    /// not signed in, so that the password is kept (see [`verify_email`]).
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// Body of `POST /verify-email`'s answer.
#[derive(Serialize)]
pub(crate) struct VerifiedResponse {
    user: User,
    /// What the first proof of the address removed (empty when nothing was).
    dropped: DroppedCredentials,
}

/// Body of `POST /password/reset`.
#[derive(Deserialize)]
pub(crate) struct ResetRequest {
    token: String,
    new_password: String,
    #[serde(default)]
    bearer: bool,
}

/// Body of `POST /password/change`.
#[derive(Deserialize)]
pub(crate) struct ChangeRequest {
    current_password: String,
    new_password: String,
    /// Sign out every other session (default true); this one stays.
    #[serde(default = "yes")]
    revoke_other_sessions: bool,
}

fn yes() -> bool {
    true
}

/// The one body every "send me a link" request gets.
#[derive(Serialize)]
pub(crate) struct Accepted {
    message: &'static str,
}

const ACCEPTED: Accepted =
    Accepted { message: "If an account uses this address, a message is on its way. Check your inbox." };

/// Body of `POST /password/change`.
#[derive(Serialize)]
pub(crate) struct ChangedResponse {
    revoked: u64,
    /// The session that replaced the caller's, when it had to end too (JWT sessions); its token is in
    /// the cookie, or in `token` for a bearer request.
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<SessionInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

/// `POST /magic-link`: 202 whether or not the address has an account, in the same time: everything
/// that depends on the account happens in the background after the answer (429 past the client's limit).
async fn request_magic_link<R: RepositoryProvider + MagicLinkStorage>(
    Extension(flows): Extension<EmailFlows<R>>,
    client: ClientInfo,
    ApiJson(body): ApiJson<EmailRequest>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    limit_client(flows.torii(), ClientAction::MagicLink, &client).await?;
    flows.queue_magic_link(&body.email)?;
    Ok((StatusCode::ACCEPTED, Json(ACCEPTED)))
}

/// `POST /magic-link/verify`: redeems the token and logs in like `POST /login` (a new session, the
/// request's old one revoked).
///
/// The first proof of an address removes the credentials added before it, unless the request is
/// signed in to that account (see `torii_core::proof`).
async fn verify_magic_link<R: RepositoryProvider + MagicLinkStorage>(
    State(state): State<RouteState<R>>,
    Extension(flows): Extension<EmailFlows<R>>,
    cookies: Cookies,
    client: ClientInfo,
    headers: HeaderMap,
    auth: Option<AuthUser>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let signed_in = auth.map(|auth| auth.id.clone());
    let login = flows.redeem_magic_link(&body.token, client.user_agent, client.ip_address, signed_in.as_ref()).await?;
    revoke_previous(&state, &headers).await;
    Ok(Json(login_response(&state, &cookies, login.user, &login.session, body.bearer)))
}

/// `POST /verify-email` → `{user, dropped}`.
///
/// The first proof of an address removes every credential added before it (an account someone else
/// created with this address keeps nothing of theirs), unless the person proving it is signed in to
/// that account, or enters the account's `email` and `password` (which keeps them). A wrong password
/// is refused with 401 `invalid_credentials` before the link is used.
async fn verify_email<R: RepositoryProvider + MagicLinkStorage>(
    State(state): State<RouteState<R>>,
    Extension(flows): Extension<EmailFlows<R>>,
    auth: Option<AuthUser>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Json<VerifiedResponse>, ApiError> {
    let mut signed_in = auth.map(|auth| auth.id.clone());
    if signed_in.is_none()
        && let (Some(email), Some(password)) = (body.email.as_deref(), body.password.as_deref())
    {
        // Checked before the link is used, so a typo costs nothing. Signing in to another account than
        // the link's keeps nothing: only the link's own account counts.
        signed_in = Some(state.torii.verify_password_login(email, password).await?.id);
    }
    let proven = flows.verify_email_as(&body.token, signed_in.as_ref()).await?;
    Ok(Json(VerifiedResponse { user: proven.user, dropped: proven.dropped }))
}

/// `POST /verify-email/resend` (logged in): 202; nothing is sent when the address is already verified
/// or over its rate limit.
async fn resend_verification<R: RepositoryProvider + MagicLinkStorage>(
    Extension(flows): Extension<EmailFlows<R>>,
    auth: AuthUser,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    flows.send_verification_email(&auth.id).await?;
    Ok((StatusCode::ACCEPTED, Json(ACCEPTED)))
}

/// `POST /password/forgot`: 202 whether or not the address has an account, in the same time (see
/// `POST /magic-link`; 429 past the client's limit).
async fn forgot_password<R: RepositoryProvider + MagicLinkStorage>(
    Extension(flows): Extension<EmailFlows<R>>,
    client: ClientInfo,
    ApiJson(body): ApiJson<EmailRequest>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    limit_client(flows.torii(), ClientAction::PasswordReset, &client).await?;
    flows.queue_password_reset(&body.email)?;
    Ok((StatusCode::ACCEPTED, Json(ACCEPTED)))
}

/// `POST /password/reset`: sets the new password and signs out every session. 204, or, when the flows
/// are configured to log in after a reset, 200 with a new session like `POST /login`.
async fn reset_password<R: RepositoryProvider + MagicLinkStorage>(
    State(state): State<RouteState<R>>,
    Extension(flows): Extension<EmailFlows<R>>,
    cookies: Cookies,
    client: ClientInfo,
    auth: Option<AuthUser>,
    ApiJson(body): ApiJson<ResetRequest>,
) -> Result<Response, ApiError> {
    let signed_in = auth.map(|auth| auth.id.clone());
    let user = flows.reset_password_as(&body.token, &body.new_password, signed_in.as_ref()).await?.user;
    if !flows.config().logs_in_after_reset() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let session = state.torii.create_session(&user.id, client.user_agent, client.ip_address).await?;
    Ok(Json(login_response(&state, &cookies, user, &session, body.bearer)).into_response())
}

/// `POST /password/change` (logged in recently: 403 `reauthentication_required` otherwise): requires the current password; by default signs out every
/// other session and keeps this one. With JWT sessions this one cannot outlive the others, so it is
/// replaced: the new token goes where the old one came from (the cookie, or `token` in the body for a
/// bearer request), and the old token stops working.
async fn change_password<R: RepositoryProvider + MagicLinkStorage>(
    State(state): State<RouteState<R>>,
    Extension(flows): Extension<EmailFlows<R>>,
    cookies: Cookies,
    headers: HeaderMap,
    FreshAuthUser(auth): FreshAuthUser,
    ApiJson(body): ApiJson<ChangeRequest>,
) -> Result<Json<ChangedResponse>, ApiError> {
    let others = if body.revoke_other_sessions {
        OtherSessions::RevokeOthersOf(Box::new(auth.session().clone()))
    } else {
        OtherSessions::Keep
    };
    let change = flows.change_password(&auth.id, &body.current_password, &body.new_password, others).await?;
    let Some(session) = change.new_session else {
        return Ok(Json(ChangedResponse { revoked: change.revoked, session: None, token: None }));
    };
    let bearer = matches!(find_token(&headers, &state.cookies), Some((_, TokenSource::Bearer)));
    let token = if bearer {
        Some(session.token.as_str().to_owned())
    } else {
        set_session_cookie(&cookies, &state.cookies, session.token.as_str(), session.expires_at);
        None
    };
    Ok(Json(ChangedResponse { revoked: change.revoked, session: Some(SessionInfo::from_session(&session)), token }))
}

async fn revoke_previous<R: RepositoryProvider>(state: &RouteState<R>, headers: &HeaderMap) {
    if let Some((previous, _)) = find_token(headers, &state.cookies)
        && let Err(err) = state.torii.delete_session(&previous).await
    {
        tracing::warn!(error = %err, "could not revoke the session replaced by a new login");
    }
}

fn login_response<R>(
    state: &RouteState<R>,
    cookies: &Cookies,
    user: User,
    session: &torii_core::Session,
    bearer: bool,
) -> LoginResponse {
    let token = if bearer {
        Some(session.token.as_str().to_owned())
    } else {
        set_session_cookie(cookies, &state.cookies, session.token.as_str(), session.expires_at);
        None
    };
    LoginResponse { user, session: SessionInfo::from_session(session), token }
}

/// `GET /magic-link?token=...`: a page with a "Sign in" button.
async fn magic_link_page() -> Response {
    confirm_page(
        "Sign in",
        "Press the button to finish signing in.",
        "",
        "magic-link/verify",
        "Signed in. Taking you to the app...",
    )
}

/// `GET /verify-email?token=...`: a page with a "Confirm" button.
async fn verify_email_page() -> Response {
    confirm_page(
        "Confirm your email address",
        "Press the button to confirm your email address. If you chose a password and are not signed in on \
         this device, enter it too, or it will be removed: confirming an address removes every way in that \
         nobody vouched for.",
        "<label>Email (optional) <input id=\"email\" type=\"email\" autocomplete=\"username\"></label>\
         <label>Password (optional) <input id=\"current-password\" type=\"password\" \
         autocomplete=\"current-password\"></label>",
        "verify-email",
        "Your email address is confirmed.",
    )
}

/// `GET /password/reset?token=...`: a form for the new password.
async fn reset_password_page() -> Response {
    confirm_page(
        "Choose a new password",
        "Enter your new password. Every device signed in to your account will be signed out.",
        "<label>New password <input id=\"password\" type=\"password\" autocomplete=\"new-password\" required \
         minlength=\"8\"></label>",
        "reset",
        "Your password was changed. You can sign in with it now.",
    )
}

/// A page whose button posts the `token` query parameter (and the password, when the page has that
/// field) as JSON to `action`, relative to the page. It embeds nothing from the request, so it is the
/// same for every visitor and needs no escaping; the token never leaves the page except in that POST.
fn confirm_page(title: &str, intro: &str, fields: &str, action: &str, done: &str) -> Response {
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title}</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}
input{{display:block;width:100%;margin:.5rem 0 1rem;padding:.4rem}}button{{padding:.5rem 1.2rem}}</style></head>
<body><h1>{title}</h1><p>{intro}</p>
<form id="confirm">{fields}<button type="submit">{title}</button></form>
<p id="result" role="status"></p>
<script>
document.getElementById("confirm").addEventListener("submit", async (event) => {{
  event.preventDefault();
  const token = new URLSearchParams(location.search).get("token") || "";
  const body = {{ token }};
  const password = document.getElementById("password");
  if (password) body.new_password = password.value;
  const email = document.getElementById("email");
  const current = document.getElementById("current-password");
  if (email && current && email.value && current.value) {{ body.email = email.value; body.password = current.value; }}
  const result = document.getElementById("result");
  const response = await fetch("{action}", {{
    method: "POST", headers: {{ "Content-Type": "application/json" }}, body: JSON.stringify(body),
  }});
  if (response.ok) {{
    result.textContent = "{done}";
    document.getElementById("confirm").hidden = true;
    if ("{action}" === "magic-link/verify") setTimeout(() => location.assign("/"), 500);
  }} else {{
    const error = await response.json().catch(() => ({{}}));
    result.textContent = error.message || "Something went wrong. Try again.";
  }}
}});
</script></body></html>
"#
    );
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    // The token is in this page's URL: keep it out of Referer headers and other sites' frames.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; \
             form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}
