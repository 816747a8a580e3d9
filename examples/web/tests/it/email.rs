//! Email through the example server with its default console mailer: the links it writes to its log
//! are followed the way a person would (open the page, then the page's POST), and they sign in and
//! confirm the address.

use serde_json::json;

use crate::support::Server;

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// The link of the newest console-mailer line about `kind` (`magic_link`, `email_verification`, ...).
fn link_in_log(server: &Server, kind: &str) -> String {
    let line = server.wait_for_log(|l| l.contains("console mailer") && l.contains(&format!("\"{kind}\"")));
    let (_, rest) = line.split_once(" link=").expect("the line carries the link");
    rest.split_whitespace().next().unwrap().trim_matches('"').to_owned()
}

fn cookie_of(reply: &crate::support::Reply) -> String {
    reply.header("set-cookie").expect("a session cookie").split(';').next().unwrap().to_owned()
}

#[test]
fn a_magic_link_from_the_log_signs_in_once() {
    let server = Server::start();
    let credentials = json!({ "email": "ada@example.com", "password": "analytical engine 1843" }).to_string();
    assert_eq!(server.request("POST", "/auth/register", &[JSON], Some(&credentials)).status, 201);

    let asked = json!({ "email": "ada@example.com" }).to_string();
    let reply = server.request("POST", "/auth/magic-link", &[JSON], Some(&asked));
    assert_eq!(reply.status, 202, "{}", reply.body);
    let link = link_in_log(&server, "magic_link");
    let prefix = format!("http://{}/auth/magic-link?token=", server.addr);
    assert!(link.starts_with(&prefix), "{link}");
    let path = &link[format!("http://{}", server.addr).len()..];
    let token = &link[prefix.len()..];

    // Opening the link shows a page whose button POSTs the token; the GET itself uses nothing up.
    for _ in 0..2 {
        let page = server.get(path);
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<form") && page.body.contains("magic-link/verify"), "{}", page.body);
    }
    let body = json!({ "token": token }).to_string();
    let signed_in = server.request("POST", "/auth/magic-link/verify", &[JSON], Some(&body));
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let cookie = cookie_of(&signed_in);
    let me = server.request("GET", "/protected", &[("Cookie", cookie.as_str())], None);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["email"], "ada@example.com");

    let replay = server.request("POST", "/auth/magic-link/verify", &[JSON], Some(&body));
    assert_eq!(replay.status, 400);
    assert_eq!(replay.json()["code"], "invalid_token");
}

#[test]
fn registering_logs_a_link_that_confirms_the_address() {
    let server = Server::start();
    let credentials = json!({ "email": "ada@example.com", "password": "analytical engine 1843" }).to_string();
    let registered = server.request("POST", "/auth/register", &[JSON], Some(&credentials));
    assert_eq!(registered.status, 201, "{}", registered.body);
    let cookie = cookie_of(&server.request("POST", "/auth/login", &[JSON], Some(&credentials)));
    let link = link_in_log(&server, "email_verification");
    let (path_and_query, token) = link.split_once("?token=").unwrap();
    assert!(path_and_query.ends_with("/auth/verify-email"), "{link}");
    assert_eq!(server.get(&format!("/auth/verify-email?token={token}")).status, 200);

    // Confirmed in the browser that signed up, so nothing is removed.
    let body = json!({ "token": token }).to_string();
    let confirmed = server.request("POST", "/auth/verify-email", &[JSON, ("Cookie", cookie.as_str())], Some(&body));
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let user = server.request("GET", "/auth/user", &[("Cookie", cookie.as_str())], None).json();
    assert!(user["user"]["email_verified_at"].is_string(), "{user}");
}
