//! [`no_store`]: keeps responses of authenticated routes out of every cache.

use axum::http::{HeaderValue, header};
use axum::response::Response;
use tower::util::MapResponseLayer;

/// The layer [`no_store`] returns.
pub type NoStoreLayer = MapResponseLayer<fn(Response) -> Response>;

/// A layer that marks every response of the routes it wraps `Cache-Control: no-store`, so no browser
/// or shared cache keeps a copy of a page rendered for one user (another person at the same computer
/// could otherwise see it with the back button, or a misconfigured proxy could serve it to someone
/// else). The auth routes already set it; add it to your own authenticated routes.
///
/// ```
/// use axum::{Router, routing::get};
/// use torii_axum::{AuthUser, no_store};
///
/// async fn account(user: AuthUser) -> String {
///     format!("Signed in as {}", user.email)
/// }
///
/// let app: Router<torii_axum::AuthContext> = Router::new().route("/account", get(account)).layer(no_store());
/// # let _ = app;
/// ```
pub fn no_store() -> NoStoreLayer {
    MapResponseLayer::new(set_no_store as fn(Response) -> Response)
}

/// Sets `Cache-Control: no-store`, replacing any other caching instruction.
pub(crate) fn set_no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
