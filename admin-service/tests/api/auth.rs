//! Login, sessions (cookie and bearer), refresh, logout.

use admin_service::testing::{json_of, TestAdmin, CLIENT_BASIC};
use reqwest::multipart::Form;

use crate::helpers::*;

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect()
}

fn cookie_value<'a>(cookies: &'a [String], name: &str) -> &'a str {
    let cookie = cookies.iter().find(|c| c.starts_with(&format!("{name}="))).expect("cookie missing");
    cookie[name.len() + 1..].split(';').next().unwrap()
}

#[tokio::test]
async fn login_answers_oauth_tokens_and_session_cookies_and_both_authenticate() {
    let admin = TestAdmin::spawn().await;
    admin.register("alice@example.com", PASSWORD, "Alice", "A").await;
    let response = admin
        .client
        .post(admin.url("/oauth/token"))
        .header("authorization", CLIENT_BASIC)
        .form(&[("username", "alice@example.com"), ("password", PASSWORD), ("grant_type", "password")])
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&response);
    let (status, body) = json_of(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 2399);
    assert_eq!(body["scope"], "all");
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(access.len(), 43);
    assert_ne!(body["refresh_token"], body["access_token"]);
    let session = cookies.iter().find(|c| c.starts_with("CFSESSION=")).unwrap();
    assert_eq!(session, &format!("CFSESSION={access}; Path=/admin; Max-Age=2400; HttpOnly; SameSite=Lax"));
    let refresh = cookies.iter().find(|c| c.starts_with("REFRESH_TOKEN=")).unwrap();
    assert!(refresh.ends_with("; Path=/admin/oauth/token; Max-Age=1209600; HttpOnly; SameSite=Lax"), "{refresh}");

    let me = |request: reqwest::RequestBuilder| async move { json_of(request.send().await.unwrap()).await };
    let (status, body) = me(admin.client.get(admin.url("/user/me")).bearer_auth(access)).await;
    assert_eq!((status, body["email"].as_str()), (200, Some("alice@example.com")));
    assert_eq!(body["firstName"], "Alice");
    let (status, body) =
        me(admin.client.get(admin.url("/user/me")).header("cookie", format!("CFSESSION={access}"))).await;
    assert_eq!((status, body["lastName"].as_str()), (200, Some("A")));
    let unauthorized = json!({"error": "unauthorized", "error_description": "Full authentication is required to access this resource"});
    assert_eq!(me(admin.client.get(admin.url("/user/me"))).await, (401, unauthorized.clone()));
    assert_eq!(me(admin.client.get(admin.url("/user/me")).bearer_auth("not-a-token")).await, (401, unauthorized));
}

#[tokio::test]
async fn multipart_login_with_the_email_in_another_case() {
    let admin = TestAdmin::spawn().await;
    admin.register("Bob.Smith@Example.com", PASSWORD, "Bob", "Smith").await;
    let form = Form::new()
        .text("username", " bob.smith@EXAMPLE.com ")
        .text("password", PASSWORD)
        .text("grant_type", "password");
    let response = admin.client.post(admin.url("/oauth/token")).header("authorization", CLIENT_BASIC).multipart(form);
    let (status, body) = json_of(response.send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn bad_credentials_look_the_same_for_unknown_and_known_emails() {
    let admin = TestAdmin::spawn().await;
    admin.register("carol@example.com", PASSWORD, "Carol", "C").await;
    let bad = json!({"error": "invalid_grant", "error_description": "Bad credentials"});
    assert_eq!(admin.login("carol@example.com", "wrong-password").await, (400, bad.clone()));
    assert_eq!(admin.login("nobody@example.com", PASSWORD).await, (400, bad.clone()));
    assert_eq!(admin.login("", "").await, (400, bad));
    // The demo user cannot log in before anybody took it over, whatever the password.
    let (status, _) = admin.login("demo@example.com", "!").await;
    assert_eq!(status, 400);

    let without_client = admin.client.post(admin.url("/oauth/token")).form(&[
        ("username", "carol@example.com"),
        ("password", PASSWORD),
        ("grant_type", "password"),
    ]);
    let (status, body) = json_of(without_client.send().await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
    let other_grant = admin
        .client
        .post(admin.url("/oauth/token"))
        .header("authorization", CLIENT_BASIC)
        .form(&[("grant_type", "client_credentials")]);
    let (status, body) = json_of(other_grant.send().await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));
}

#[tokio::test]
async fn refresh_rotates_the_tokens_and_logout_ends_the_session() {
    let admin = TestAdmin::spawn().await;
    admin.register("dan@example.com", PASSWORD, "Dan", "D").await;
    let (_, first) = admin.login("dan@example.com", PASSWORD).await;
    let (access, refresh) = (first["access_token"].as_str().unwrap(), first["refresh_token"].as_str().unwrap());

    // As CompreFace's UI does it: the refresh token from its cookie, a multipart body.
    let response = admin
        .client
        .post(admin.url("/oauth/token?grant_type=refresh_token&scope=all"))
        .header("authorization", CLIENT_BASIC)
        .header("cookie", format!("REFRESH_TOKEN={refresh}"))
        .multipart(Form::new().text("grant_type", "refresh_token").text("scope", "all"))
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&response);
    let (status, second) = json_of(response).await;
    assert_eq!(status, 200, "{second}");
    let new_access = second["access_token"].as_str().unwrap();
    assert_eq!(cookie_value(&cookies, "CFSESSION"), new_access);
    assert_ne!(new_access, access);
    assert_eq!(get(&admin, "/user/me", new_access).await.0, 200);
    assert_eq!(get(&admin, "/user/me", access).await.0, 401, "the refreshed session's old token ends");
    let again = admin
        .client
        .post(admin.url("/oauth/token"))
        .header("authorization", CLIENT_BASIC)
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]);
    let (status, body) = json_of(again.send().await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "a refresh token works once");

    let response = admin
        .client
        .delete(admin.url("/oauth/token"))
        .header("authorization", CLIENT_BASIC)
        .header("cookie", format!("CFSESSION={new_access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let cookies = set_cookies(&response);
    assert!(cookies.iter().any(|c| c.starts_with("CFSESSION=; Path=/admin; Max-Age=0")), "{cookies:?}");
    assert!(cookies.iter().any(|c| c.starts_with("REFRESH_TOKEN=; Path=/admin/oauth/token; Max-Age=0")), "{cookies:?}");
    assert_eq!(get(&admin, "/user/me", new_access).await.0, 401);
    let refresh_after_logout = admin
        .client
        .post(admin.url("/oauth/token"))
        .header("authorization", CLIENT_BASIC)
        .form(&[("grant_type", "refresh_token"), ("refresh_token", second["refresh_token"].as_str().unwrap())]);
    assert_eq!(json_of(refresh_after_logout.send().await.unwrap()).await.0, 400);
}

#[tokio::test]
async fn a_compreface_bcrypt_hash_logs_in_and_is_replaced_by_argon2() {
    let admin = TestAdmin::spawn().await;
    admin.register("erin@example.com", "temporary-pass", "Erin", "E").await;
    let bcrypt = format!("{{bcrypt}}{}", bcrypt_hash("old-compreface-pass"));
    sqlx::query("UPDATE users SET password_hash = $1 WHERE email = 'erin@example.com'")
        .bind(&bcrypt)
        .execute(admin.db.pool())
        .await
        .unwrap();
    assert_eq!(admin.login("erin@example.com", "wrong").await.0, 400);
    assert_eq!(admin.login("erin@example.com", "old-compreface-pass").await.0, 200);
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'erin@example.com'")
        .fetch_one(admin.db.pool())
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert_eq!(admin.login("erin@example.com", "old-compreface-pass").await.0, 200);
}

/// A bcrypt hash as CompreFace's Spring Security writes it (`$2a$`; cost 4 keeps the test fast).
fn bcrypt_hash(password: &str) -> String {
    bcrypt::hash_with_result(password, 4).unwrap().format_for_version(bcrypt::Version::TwoA)
}

/// Logs in from client address `client` (the front door's X-Forwarded-For, trusted from a
/// local peer).
async fn login_from(admin: &TestAdmin, client: &str, email: &str, password: &str) -> (u16, serde_json::Value) {
    let response = admin
        .client
        .post(admin.url("/oauth/token"))
        .header("authorization", CLIENT_BASIC)
        .header("x-forwarded-for", client)
        .form(&[("username", email), ("password", password), ("grant_type", "password")])
        .send()
        .await
        .unwrap();
    json_of(response).await
}

#[tokio::test]
async fn failed_logins_slow_the_account_down_without_locking_it_and_every_instance_agrees() {
    let admin = TestAdmin::spawn().await;
    admin.register("fay@example.com", PASSWORD, "Fay", "F").await;
    admin.register("gus@example.com", PASSWORD, "Gus", "G").await;
    // Five free failures, from two client addresses: the account counts them all.
    for i in 0..5 {
        let client = if i % 2 == 0 { "203.0.113.1" } else { "203.0.113.2" };
        assert_eq!(login_from(&admin, client, "fay@example.com", "guess-again").await.0, 400);
    }
    // The next try, however the address is spelled and from a third address, must wait 1 s: even
    // the right password is not looked at.
    let (status, body) = login_from(&admin, "203.0.113.3", "FAY@Example.com ", PASSWORD).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("invalid_grant")), "{body}");
    assert_eq!(body["error_description"], "Too many failed logins: try again in 1 s");
    // Another instance on the same database sees the same count.
    let other = TestAdmin::spawn_on(admin.db.clone(), |_| {}).await;
    assert_eq!(login_from(&other, "203.0.113.4", "fay@example.com", PASSWORD).await.0, 429);
    assert_eq!(
        login_from(&admin, "203.0.113.1", "gus@example.com", PASSWORD).await.0,
        200,
        "other accounts are not affected"
    );
    // After the delay one more failure doubles it ...
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(login_from(&admin, "203.0.113.1", "fay@example.com", "guess-again").await.0, 400);
    let (status, body) = login_from(&admin, "203.0.113.1", "fay@example.com", PASSWORD).await;
    assert_eq!((status, body["error_description"].as_str()), (429, Some("Too many failed logins: try again in 2 s")));
    // ... and the right password works once it has passed: nothing is locked.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(login_from(&admin, "203.0.113.1", "fay@example.com", PASSWORD).await.0, 200);
    // The success cleared the account's count.
    assert_eq!(login_from(&admin, "203.0.113.1", "fay@example.com", "guess-again").await.0, 400);
    assert_eq!(login_from(&admin, "203.0.113.1", "fay@example.com", PASSWORD).await.0, 200);
}

#[tokio::test]
async fn failed_logins_from_one_client_address_slow_that_address_down() {
    let admin = TestAdmin::spawn().await;
    admin.register("hal@example.com", PASSWORD, "Hal", "H").await;
    // Twenty free failures on twenty unknown accounts from one address, then it must wait.
    for i in 0..20 {
        assert_eq!(login_from(&admin, "198.51.100.7", &format!("nobody{i}@example.com"), "x").await.0, 400);
    }
    assert_eq!(login_from(&admin, "198.51.100.7", "hal@example.com", PASSWORD).await.0, 429);
    assert_eq!(login_from(&admin, "198.51.100.8", "hal@example.com", PASSWORD).await.0, 200, "another address logs in");
}

#[tokio::test]
async fn password_reset_requests_are_limited_per_address_and_per_client() {
    let admin = TestAdmin::spawn().await;
    admin.register("ida@example.com", PASSWORD, "Ida", "I").await;
    let forgot = |client: &'static str, email: &'static str| {
        admin
            .client
            .post(admin.url("/user/forgot-password"))
            .header("x-forwarded-for", client)
            .json(&serde_json::json!({ "email": email }))
            .send()
    };
    for client in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        assert_eq!(forgot(client, "ida@example.com").await.unwrap().status(), 200);
    }
    let (status, body) = json_of(forgot("192.0.2.4", "IDA@example.com").await.unwrap()).await;
    assert_eq!(
        (status, body),
        (429, serde_json::json!({"message": "Too many password reset requests: try again later", "code": 0}))
    );
    // One client asking for many addresses: ten (one was for ida), then no more.
    for i in 0..9 {
        let email: &'static str = Box::leak(format!("someone{i}@example.com").into_boxed_str());
        assert_eq!(forgot("192.0.2.1", email).await.unwrap().status(), 200);
    }
    assert_eq!(forgot("192.0.2.1", "someone-else@example.com").await.unwrap().status(), 429);
}

/// 300 bad logins at once (each an argon2 verification, unknown e-mails against the dummy hash):
/// as many run as there are CPUs, a short queue waits, the rest are answered 503 at once; the
/// service keeps answering its other calls, and a right password works right after.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_bad_logins_is_queued_briefly_then_refused_and_the_rest_keeps_answering() {
    let admin = TestAdmin::spawn().await;
    admin.register("alice@example.com", PASSWORD, "Alice", "A").await;
    let flood: Vec<_> = (0..300)
        .map(|i| {
            let (client, url) = (admin.client.clone(), admin.url("/oauth/token"));
            tokio::spawn(async move {
                let email = format!("nobody{i}@example.com");
                let response = client
                    .post(url)
                    .header("authorization", CLIENT_BASIC)
                    .form(&[("username", email.as_str()), ("password", "wrong password"), ("grant_type", "password")])
                    .send()
                    .await
                    .expect("login");
                json_of(response).await
            })
        })
        .collect();
    // While the flood runs: the status answers.
    for _ in 0..5 {
        let response = admin.client.get(admin.url("/status")).send().await.expect("status");
        let (status, body) = json_of(response).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("OK")), "{body}");
    }
    let (mut refused, mut bad, mut slowed) = (0, 0, 0);
    for login in flood {
        let (status, body) = login.await.expect("task");
        match status {
            400 => {
                assert_eq!(body["error"], "invalid_grant", "{body}");
                bad += 1;
            }
            // Those that came after the address's free failures were counted.
            429 => {
                assert_eq!(body["error"], "invalid_grant", "{body}");
                slowed += 1;
            }
            503 => {
                assert_eq!(body["message"], "Too many logins at once: try again in a moment");
                refused += 1;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(refused > 0 && bad > 0, "{bad} checked, {refused} refused, {slowed} slowed");
    assert_eq!(bad + refused + slowed, 300);
    // The flood's address now waits; the account, and everyone else, logs in.
    let (status, body) = login_from(&admin, "203.0.113.50", "alice@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_password_in_the_url_is_refused_and_the_body_works() {
    let admin = TestAdmin::spawn().await;
    admin.register("alice@example.com", PASSWORD, "Alice", "A").await;
    let query = [("username", "alice@example.com"), ("password", PASSWORD), ("grant_type", "password")];
    let response = admin
        .client
        .post(admin.url("/oauth/token"))
        .header("authorization", CLIENT_BASIC)
        .query(&query)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(
        (status, body),
        (
            400,
            serde_json::json!({"error": "invalid_request", "error_description": "The password goes in the request body, not in the URL"})
        )
    );
    // Even with the right form in the body beside it.
    let response = admin
        .client
        .post(admin.url("/oauth/token"))
        .header("authorization", CLIENT_BASIC)
        .query(&[("password", "x")])
        .form(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let (status, _) = admin.login("alice@example.com", PASSWORD).await;
    assert_eq!(status, 200);
}

/// `grant_type=refresh_token` with `refresh`: the answer's status and JSON.
async fn refresh_with(admin: &TestAdmin, refresh: &str) -> (u16, serde_json::Value) {
    let request = admin
        .client
        .post(admin.url("/oauth/token"))
        .header("authorization", CLIENT_BASIC)
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]);
    json_of(request.send().await.unwrap()).await
}

/// A refresh token presented twice means two holders of one session (a stolen token, or a
/// replay): the whole session ends, the legitimate holder's new tokens included.
#[tokio::test]
async fn a_refresh_token_used_twice_ends_its_session() {
    let admin = TestAdmin::spawn().await;
    admin.register("eve@example.com", PASSWORD, "Eve", "E").await;
    let (_, first) = admin.login("eve@example.com", PASSWORD).await;
    let (_, other) = admin.login("eve@example.com", PASSWORD).await;
    let refresh = first["refresh_token"].as_str().unwrap().to_string();
    let (status, second) = refresh_with(&admin, &refresh).await;
    assert_eq!(status, 200, "{second}");
    let (access2, refresh2) = (second["access_token"].as_str().unwrap(), second["refresh_token"].as_str().unwrap());
    assert_eq!(get(&admin, "/user/me", access2).await.0, 200);
    // The old token again: refused, and the session it belongs to is over.
    assert_eq!(refresh_with(&admin, &refresh).await.0, 400);
    assert_eq!(get(&admin, "/user/me", access2).await.0, 401, "the rotated session ended");
    assert_eq!(refresh_with(&admin, refresh2).await.0, 400, "its newest refresh token too");
    // Another login of the same user is another session: untouched.
    assert_eq!(get(&admin, "/user/me", other["access_token"].as_str().unwrap()).await.0, 200);
    assert_eq!(refresh_with(&admin, other["refresh_token"].as_str().unwrap()).await.0, 200);
}

/// Changing one's password ends one's other sessions; the one that changed it goes on.
#[tokio::test]
async fn changing_ones_password_ends_ones_other_sessions() {
    let admin = TestAdmin::spawn().await;
    admin.register("fred@example.com", PASSWORD, "Fred", "F").await;
    let (_, here) = admin.login("fred@example.com", PASSWORD).await;
    let (_, there) = admin.login("fred@example.com", PASSWORD).await;
    let here_access = here["access_token"].as_str().unwrap();
    let response = admin
        .client
        .put(admin.url("/user/me/password"))
        .bearer_auth(here_access)
        .json(&serde_json::json!({"oldPassword": PASSWORD, "newPassword": "a brand new password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(get(&admin, "/user/me", here_access).await.0, 200, "this session goes on");
    assert_eq!(refresh_with(&admin, here["refresh_token"].as_str().unwrap()).await.0, 200, "and can be refreshed");
    assert_eq!(get(&admin, "/user/me", there["access_token"].as_str().unwrap()).await.0, 401, "the other one ended");
    assert_eq!(refresh_with(&admin, there["refresh_token"].as_str().unwrap()).await.0, 400);
}
