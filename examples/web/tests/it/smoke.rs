//! The example server over plain HTTP: the page and its headers, the protected route, the auth routes.

use serde_json::json;

use crate::support::Server;

const JSON: (&str, &str) = ("Content-Type", "application/json");

#[test]
fn page_is_served_with_security_headers() {
    let server = Server::start();
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = page.header("content-security-policy").expect("a Content-Security-Policy");
    assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(page.body.contains(r#"data-testid="status""#));
    assert!(page.body.contains(r#"<script src="/app.js" defer></script>"#));
    // The CSP forbids inline script, so the page must not contain any.
    assert!(page.body.contains(r#"<script src="/passkey.js" defer></script>"#));
    assert!(page.body.contains(r#"<script src="/email.js" defer></script>"#));
    assert!(page.body.contains(r#"<script src="/oauth.js" defer></script>"#));
    assert_eq!(page.body.matches("<script").count(), 4, "only the external scripts");

    for (path, content_type) in [
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/passkey.js", "text/javascript; charset=utf-8"),
        ("/email.js", "text/javascript; charset=utf-8"),
        ("/oauth.js", "text/javascript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
    ] {
        let asset = server.get(path);
        assert_eq!(asset.status, 200, "{path}");
        assert_eq!(asset.header("content-type"), Some(content_type), "{path}");
        assert_eq!(asset.header("x-content-type-options"), Some("nosniff"), "{path}");
    }
    // The script writes user-supplied text as text only.
    assert!(!server.get("/app.js").body.contains("innerHTML"));
    assert!(!server.get("/passkey.js").body.contains("innerHTML"));
    assert!(!server.get("/email.js").body.contains("innerHTML"));
    assert!(!server.get("/oauth.js").body.contains("innerHTML"));
}

#[test]
fn protected_route_needs_a_session() {
    let server = Server::start();
    let reply = server.get("/protected");
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json()["code"], "unauthenticated");
    assert_eq!(server.get("/auth/health").json(), json!({ "status": "ok" }));
}

#[test]
fn register_use_and_log_out_over_http() {
    let server = Server::start();
    let credentials = json!({ "email": "ada@example.com", "password": "analytical engine 1843" }).to_string();
    let registered = server.request("POST", "/auth/register", &[JSON], Some(&credentials));
    assert_eq!(registered.status, 201, "{}", registered.body);
    // Sign-ups conceal existing accounts in the example: nobody is logged in by one, and a second
    // sign-up with the address gets the same answer.
    assert!(registered.header("set-cookie").is_none(), "no session at sign-up");
    let again = server.request("POST", "/auth/register", &[JSON], Some(&credentials));
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.json()["user"]["email"], registered.json()["user"]["email"]);
    assert!(again.json().get("session").is_none() && again.header("set-cookie").is_none());

    let logged_in = server.request("POST", "/auth/login", &[JSON], Some(&credentials));
    assert_eq!(logged_in.status, 200, "{}", logged_in.body);
    let set_cookie = logged_in.header("set-cookie").expect("a session cookie");
    assert!(set_cookie.starts_with("torii_session=") && set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain-http development cookie by default: {set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let with_cookie = [("Cookie", cookie.as_str())];

    let me = server.request("GET", "/protected", &with_cookie, None);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["email"], "ada@example.com");
    assert_eq!(me.header("cache-control"), Some("no-store"), "a page for one user is never cached");
    // Just registered, so the login is recent enough for the route behind FreshAuthUser; password
    // re-authentication answers with a new token in the cookie.
    assert_eq!(server.request("GET", "/sensitive", &with_cookie, None).status, 200);
    assert_eq!(server.get("/sensitive").status, 401);
    let password = json!({ "password": "analytical engine 1843" }).to_string();
    let reauth = server.request("POST", "/auth/reauthenticate", &[with_cookie[0], JSON], Some(&password));
    assert_eq!(reauth.status, 200, "{}", reauth.body);
    let set_cookie = reauth.header("set-cookie").expect("the new session cookie");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let with_cookie = [("Cookie", cookie.as_str())];
    // Served with connect info, so the session records the client's address.
    let sessions = server.request("GET", "/auth/sessions", &with_cookie, None).json();
    assert_eq!(sessions["sessions"][0]["ip_address"], "127.0.0.1");
    // The page's "Recent security events" come from here, newest first: the re-authentication, the
    // login and the registration, each with the client's address.
    let events = server.request("GET", "/auth/security-events", &with_cookie, None).json();
    let kinds: Vec<&str> = events["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["login.succeeded", "login.succeeded", "user.registered"], "{events}");
    assert!(events["events"].as_array().unwrap().iter().all(|e| e["ip_address"] == "127.0.0.1"), "{events}");
    assert!(!events.to_string().contains("analytical engine"), "no secret in an event");

    // Cookie-authenticated state changes must be same-origin JSON.
    let form = server.request("POST", "/auth/logout", &[with_cookie[0], ("Content-Type", "text/plain")], Some("x"));
    assert_eq!(form.status, 415);
    let cross_site =
        server.request("POST", "/auth/logout", &[with_cookie[0], JSON, ("Origin", "https://evil.example")], None);
    assert_eq!(cross_site.status, 403);

    let logout = server.request("POST", "/auth/logout", &[with_cookie[0], JSON], None);
    assert_eq!(logout.status, 204);
    assert_eq!(server.request("GET", "/protected", &with_cookie, None).status, 401);
}

#[cfg(unix)]
#[test]
fn stops_cleanly_on_sigterm() {
    let mut server = Server::start();
    assert_eq!(server.get("/auth/health").status, 200);
    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}
