//! The browser side of the OAuth callback: what the binding cookie holds, and where a failed callback
//! sends a browser.
//!
//! The binding cookie holds the flow's `state` and, when the flow was started with an accepted
//! `next`, that `next` too (base64url, after a `.`, which the state's own alphabet never contains).
//! The server-side copy of `next` is only handed back by a *successful* flow; the cookie's copy lets a
//! failed callback send the browser back where the person started, without a storage read.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::oauth::safe_next;

/// The query parameter a failed callback adds to the error location.
pub(crate) const ERROR_PARAM: &str = "oauth_error";

/// The binding cookie's value for a flow.
pub(crate) fn encode_binding(state: &str, next: Option<&str>) -> String {
    match next {
        Some(next) => format!("{state}.{}", URL_SAFE_NO_PAD.encode(next)),
        None => state.to_owned(),
    }
}

/// The state and the `next` a binding cookie carries. The `next` is checked again as at the start
/// (a cookie is browser input), and dropped when it no longer passes.
pub(crate) fn decode_binding(value: &str, allowed_origins: &[String]) -> (String, Option<String>) {
    let Some((state, next)) = value.split_once('.') else {
        return (value.to_owned(), None);
    };
    let next = URL_SAFE_NO_PAD
        .decode(next)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|next| safe_next(&next, allowed_origins));
    (state.to_owned(), next)
}

/// True when the request is a browser navigation: its `Accept` header lists `text/html`. Scripts and
/// API clients (which ask for JSON or send no `Accept`) keep getting JSON errors.
pub(crate) fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|media| media.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("text/html")))
}

/// `location` with `oauth_error=<code>` added to its query (before any fragment). `code` is one of
/// the fixed machine codes, which need no escaping.
pub(crate) fn with_error_code(location: &str, code: &str) -> String {
    let (base, fragment) = match location.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (location, None),
    };
    let separator = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    let mut out = format!("{base}{separator}{ERROR_PARAM}={code}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_binding_cookie_round_trips_and_rechecks_next() {
        let value = encode_binding("abc-DEF_123", Some("/settings?tab=a b;c"));
        assert!(!value.contains([';', ' ', ',', '"']), "a valid cookie value: {value}");
        assert_eq!(decode_binding(&value, &[]), ("abc-DEF_123".to_owned(), Some("/settings?tab=a b;c".to_owned())));
        assert_eq!(decode_binding("abc", &[]), ("abc".to_owned(), None));
        // A planted cookie cannot turn the error redirect into an open redirect.
        let planted = encode_binding("abc", Some("https://evil.example/"));
        assert_eq!(decode_binding(&planted, &[]), ("abc".to_owned(), None));
        assert_eq!(decode_binding("abc.%%%", &[]), ("abc".to_owned(), None));
    }

    #[test]
    fn browsers_are_told_apart_from_api_clients() {
        let mut headers = HeaderMap::new();
        assert!(!accepts_html(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!accepts_html(&headers));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        );
        assert!(accepts_html(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json, TEXT/HTML;q=0.1"));
        assert!(accepts_html(&headers));
    }

    #[test]
    fn the_error_code_is_added_to_the_query() {
        assert_eq!(with_error_code("/", "oauth_denied"), "/?oauth_error=oauth_denied");
        assert_eq!(with_error_code("/a?b=1", "x"), "/a?b=1&oauth_error=x");
        assert_eq!(with_error_code("/a?", "x"), "/a?oauth_error=x");
        assert_eq!(with_error_code("/a?b=1#top", "x"), "/a?b=1&oauth_error=x#top");
        assert_eq!(with_error_code("https://app.example/#/login", "x"), "https://app.example/?oauth_error=x#/login");
    }
}
