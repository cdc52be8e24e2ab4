//! E-mail over a real SMTP server (aiosmtpd, `tests/smtp/sink.py`): registration confirmation,
//! password reset, and a mail server that is down.

use std::process::Stdio;
use std::time::Duration;

use admin_service::config::{MailSettings, MailTls};
use admin_service::testing::{json_of, TestAdmin};
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::helpers::*;

/// A running SMTP server and the messages it prints.
struct SmtpSink {
    port: u16,
    lines: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

impl SmtpSink {
    /// Starts the sink with the Python of `VISAGE_SMTP_PYTHON` (set by `scripts/test.sh`, made by
    /// `tests/smtp/setup.sh`), else `python3`.
    async fn start() -> Self {
        let python = std::env::var("VISAGE_SMTP_PYTHON").unwrap_or_else(|_| "python3".to_string());
        let script = repository_file("tests/smtp/sink.py");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(&python)
            .arg("-u")
            .arg(&script)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {python} (run tests/smtp/setup.sh and set VISAGE_SMTP_PYTHON): {e}")
            });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        match first {
            Ok(Ok(Some(line))) if line == "READY" => {}
            other => {
                panic!("the SMTP sink did not start ({other:?}); run tests/smtp/setup.sh and set VISAGE_SMTP_PYTHON")
            }
        }
        Self { port, lines, _child: child }
    }

    fn settings(&self) -> MailSettings {
        MailSettings {
            host: "127.0.0.1".to_string(),
            port: self.port,
            username: None,
            password: None,
            from: "Visage <visage@example.com>".to_string(),
            // The test server speaks plain SMTP.
            tls: MailTls::None,
        }
    }

    /// The next message received.
    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
            .await
            .expect("no e-mail arrived in 30 s")
            .expect("the sink failed")
            .expect("the sink stopped");
        serde_json::from_str(&line).expect("the sink printed no JSON")
    }
}

fn repository_file(relative: &str) -> std::path::PathBuf {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), std::path::PathBuf::from);
    dir.ancestors().map(|a| a.join(relative)).find(|p| p.exists()).unwrap_or_else(|| panic!("{relative} not found"))
}

/// The first `http…` link in a message's body.
fn link_in(message: &Value) -> String {
    let body = message["body"].as_str().unwrap();
    body.split_whitespace().find(|w| w.starts_with("http")).unwrap_or_else(|| panic!("no link in {body}")).to_string()
}

#[tokio::test]
async fn registration_is_confirmed_by_the_emailed_link_and_a_reset_link_sets_the_password() {
    let mut smtp = SmtpSink::start().await;
    let mail = smtp.settings();
    let admin = TestAdmin::spawn_with(|s| {
        s.mail = Some(mail);
        s.public_url = "http://visage.test:8000".to_string();
    })
    .await;
    assert_eq!(call(&admin, Method::GET, "/config", None, None).await.1["mailServiceEnabled"], true);
    // With e-mail on, a registration answers 200 and the user stays disabled until confirmed.
    let body = json!({"email": "Nora@Example.com", "password": PASSWORD, "firstName": "Nora", "lastName": "N"});
    assert_eq!(call(&admin, Method::POST, "/user/register", None, Some(body)).await, (200, serde_json::Value::Null));
    let message = smtp.next().await;
    assert_eq!(message["to"], json!(["Nora@Example.com"]));
    assert_eq!(message["from"], "visage@example.com");
    assert_eq!(message["subject"], "Confirm your registration");
    assert_eq!(
        admin.login("nora@example.com", PASSWORD).await,
        (400, json!({"error": "invalid_grant", "error_description": "User is disabled"}))
    );

    let link = link_in(&message);
    let prefix = "http://visage.test:8000/admin/user/registration/confirm?token=";
    assert!(link.starts_with(prefix), "{link}");
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = no_redirect.get(admin.url(&link["http://visage.test:8000/admin".len()..])).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(response.headers()["location"], "http://visage.test:8000/login");
    assert_eq!(admin.login("nora@example.com", PASSWORD).await.0, 200);
    // A link works once.
    let (status, again) =
        json_of(no_redirect.get(admin.url(&link["http://visage.test:8000/admin".len()..])).send().await.unwrap()).await;
    assert_eq!((status, again["code"].as_u64()), (403, Some(25)));

    // Password reset by e-mail.
    let forgot = json!({"email": "NORA@example.com"});
    assert_eq!(call(&admin, Method::POST, "/user/forgot-password", None, Some(forgot)).await.0, 200);
    let message = smtp.next().await;
    assert_eq!(message["subject"], "Reset your password");
    let link = link_in(&message);
    let token = link.strip_prefix("http://visage.test:8000/reset-password?token=").unwrap_or_else(|| panic!("{link}"));
    let reset = |token: &str, password: &str| {
        let admin = &admin;
        let path = format!("/user/reset-password?token={token}");
        let body = json!({"password": password});
        async move { call(admin, Method::PUT, &path, None, Some(body)).await }
    };
    assert_eq!(
        reset("forged-token", "brand-new-pass").await,
        (400, error("The password reset link is invalid or has expired", 30))
    );
    assert_eq!(reset(token, "brand-new-pass").await.0, 200);
    assert_eq!(reset(token, "another-new-pass").await.1["code"], 30, "a reset link works once");
    assert_eq!(admin.login("nora@example.com", PASSWORD).await.0, 400);
    assert_eq!(admin.login("nora@example.com", "brand-new-pass").await.0, 200);
    // Unknown addresses get the same answer and no e-mail.
    assert_eq!(
        call(&admin, Method::POST, "/user/forgot-password", None, Some(json!({"email": "ghost@example.com"}))).await.0,
        200
    );
}

#[tokio::test]
async fn a_mail_server_that_is_down_is_code_29_and_registers_nobody() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let admin = TestAdmin::spawn_with(|s| {
        s.mail = Some(MailSettings {
            host: "127.0.0.1".to_string(),
            port: closed,
            username: None,
            password: None,
            from: "visage@example.com".to_string(),
            tls: MailTls::None,
        })
    })
    .await;
    let users = count(&admin, "SELECT count(*) FROM users").await;
    let body = json!({"email": "lost@example.com", "password": PASSWORD});
    let (status, answer) = call(&admin, Method::POST, "/user/register", None, Some(body.clone())).await;
    assert_eq!((status, answer["code"].as_u64()), (500, Some(29)));
    assert_eq!(count(&admin, "SELECT count(*) FROM users").await, users);
    assert_eq!(count(&admin, "SELECT count(*) FROM user_tokens").await, 0);
    // The demo is still there to take over once mail works.
    assert_eq!(call(&admin, Method::GET, "/user/demo/model", None, None).await.0, 200);
}

/// STARTTLS is required by default (EMAIL_TLS=starttls): a server that does not offer it (the
/// test server speaks plain SMTP) gets no e-mail, so neither a link nor the SMTP password ever
/// travels in clear; EMAIL_TLS=none sends to the same server.
#[tokio::test]
async fn starttls_is_required_by_default_and_plain_smtp_only_when_asked_for() {
    let mut smtp = SmtpSink::start().await;
    let required =
        TestAdmin::spawn_with(|s| s.mail = Some(MailSettings { tls: MailTls::StartTls, ..smtp.settings() })).await;
    let body = json!({"email": "first@example.com", "password": PASSWORD});
    let (status, answer) = call(&required, Method::POST, "/user/register", None, Some(body)).await;
    assert_eq!((status, answer["code"].as_u64()), (500, Some(29)), "{answer}");
    assert_eq!(count(&required, "SELECT count(*) FROM user_tokens").await, 0);

    let plain = TestAdmin::spawn_with(|s| s.mail = Some(smtp.settings())).await;
    let body = json!({"email": "first@example.com", "password": PASSWORD});
    assert_eq!(call(&plain, Method::POST, "/user/register", None, Some(body)).await.0, 200);
    assert_eq!(smtp.next().await["to"], json!(["first@example.com"]));
}
