//! The SMTP mailer against a small SMTP server in the test (enough of RFC 5321 for one client), so the
//! wire format and the error mapping are checked without an outside server. The end-to-end tests of
//! the HTTP flows against a real SMTP sink live in `torii-axum`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unreachable_pub, missing_docs)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;
use torii_core::email_flows::{EmailConfig, MailError, Mailer, MessageKind, templates};
use torii_mailer_smtp::{SmtpConfig, SmtpMailer, to_mime};

/// What the server answers to `RCPT TO`.
#[derive(Clone, Copy)]
enum Rcpt {
    Accept,
    Reply(&'static str),
}

struct Sink {
    port: u16,
    received: Arc<Mutex<Vec<String>>>,
}

async fn sink(rcpt: Rcpt) -> Sink {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink.test ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            store.lock().unwrap().push(std::mem::take(body));
                            data = None;
                            write.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink.test\r\n",
                        "RCPT" => match rcpt {
                            Rcpt::Accept => b"250 2.1.5 ok\r\n",
                            Rcpt::Reply(reply) => reply.as_bytes(),
                        },
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    Sink { port, received }
}

fn message(to: &str) -> torii_core::email_flows::EmailMessage {
    let config = EmailConfig::new("Acme", "https://app.example", "noreply@app.example").unwrap();
    let link = config.link(config.magic_link_path(), "TOKEN_abc-123");
    templates::render(&config, MessageKind::MagicLink, to, Some(link), chrono::Duration::minutes(10)).unwrap()
}

fn mailer(port: u16) -> SmtpMailer {
    SmtpMailer::new(&SmtpConfig::danger_plaintext("127.0.0.1", port).timeout(Duration::from_secs(5)).hello_name("t"))
        .unwrap()
}

#[tokio::test]
async fn sends_a_multipart_message() {
    let sink = sink(Rcpt::Accept).await;
    mailer(sink.port).send(&message("ada@example.com")).await.unwrap();
    let received = sink.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let data = &received[0];
    assert!(data.contains("To: ada@example.com"), "{data}");
    assert!(data.contains("From: noreply@app.example"), "{data}");
    assert!(data.contains("Subject: Your sign-in link for Acme"), "{data}");
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(data.contains("text/plain") && data.contains("text/html"), "{data}");
    assert!(data.contains("TOKEN_abc-123"), "{data}");
}

#[tokio::test]
async fn the_pool_reuses_the_mailer_for_several_messages() {
    let sink = sink(Rcpt::Accept).await;
    let mailer = mailer(sink.port);
    for _ in 0..3 {
        mailer.send(&message("ada@example.com")).await.unwrap();
    }
    assert_eq!(sink.received.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn permanent_refusals_are_rejected_and_temporary_ones_transient() {
    let sink = sink(Rcpt::Reply("550 5.1.1 no such mailbox\r\n")).await;
    let err = mailer(sink.port).send(&message("ada@example.com")).await.unwrap_err();
    assert!(matches!(err, MailError::Rejected(_)), "{err:?}");

    let sink = sink_with_451().await;
    let err = mailer(sink.port).send(&message("ada@example.com")).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

async fn sink_with_451() -> Sink {
    sink(Rcpt::Reply("451 4.3.0 try again later\r\n")).await
}

#[tokio::test]
async fn an_unreachable_or_silent_server_is_transient() {
    // A port nobody listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = mailer(port).send(&message("ada@example.com")).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");

    // A server that accepts and never greets: the timeout ends the attempt.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let silent =
        SmtpMailer::new(&SmtpConfig::danger_plaintext("127.0.0.1", port).send_timeout(Duration::from_millis(300)))
            .unwrap();
    let err = silent.send(&message("ada@example.com")).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

#[tokio::test]
async fn mime_headers_cannot_be_injected_and_debug_hides_secrets() {
    let mime = to_mime(&message("ada@example.com")).unwrap();
    let formatted = String::from_utf8(mime.formatted()).unwrap();
    assert_eq!(formatted.matches("\r\nTo: ").count() + usize::from(formatted.starts_with("To: ")), 1);
    let config = SmtpConfig::starttls("smtp.example.com").credentials("user", "s3cret-password");
    assert!(!format!("{config:?}").contains("s3cret"));
    assert!(SmtpMailer::new(&config).is_ok());
    assert!(SmtpMailer::new(&SmtpConfig::tls("smtp.example.com")).is_ok());
}
