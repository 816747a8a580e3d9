//! The per-client limits, one call for every route that takes them.

use torii_core::Torii;
use torii_core::storage::RateLimitStorage;
use torii_core::throttle::ClientAction;

use crate::client::ClientInfo;
use crate::error::ApiError;

/// Counts this request against the client's limits for `action` (and the overall ceiling); 429 with
/// `Retry-After` when one is exhausted.
pub(crate) async fn limit_client<R: RateLimitStorage>(
    torii: &Torii<R>,
    action: ClientAction,
    client: &ClientInfo,
) -> Result<(), ApiError> {
    torii.throttle_client(action, client.ip()).await.map_err(ApiError::from)
}
