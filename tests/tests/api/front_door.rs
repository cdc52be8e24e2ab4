//! Early refusals of uploads through the real front door (nginx with `deploy/nginx`): a refusal
//! that api-service or admin-service gives before it has read the whole body (a bad key, a wrong
//! content type, a limit passed) reaches the client as the service gave it, never as nginx's
//! 502 (nginx: `writev() failed (32: Broken pipe) while sending request to upstream` when the
//! service closed the connection on the unread rest). Large bodies, repeated, fast and slow.

use std::time::Duration;

use admin_service::testing::TestAdmin;
use bytes::Bytes;
use integration_tests::front_door::{FrontDoor, Upstreams};
use reqwest::multipart::{Form, Part};
use reqwest::RequestBuilder;

use crate::helpers::*;

/// How many times each refusal is sent: with the connection closed on the unread body, about
/// one in three 2.5 MB uploads came back as a 502.
const ROUNDS: usize = 12;

/// A body of `len` bytes that is no image.
fn junk(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn big_form(part: &str, bytes: Vec<u8>) -> Form {
    Form::new().part(part.to_string(), Part::bytes(bytes).file_name("photo.jpg"))
}

/// Sends the request made by `make` ROUNDS times; every answer must be `status` with `code`.
async fn refused_every_time(what: &str, make: impl Fn() -> RequestBuilder, status: u16, code: u32, door: &FrontDoor) {
    for round in 0..ROUNDS {
        let response = make().send().await.unwrap_or_else(|e| panic!("{what}, round {round}: {e}"));
        let (got, body) = json_of(response).await;
        assert_eq!(
            (got, body["code"].as_u64()),
            (status, Some(u64::from(code))),
            "{what}, round {round}: {body}\nnginx's error log:\n{}",
            door.error_log()
        );
    }
}

/// A body sent in `chunks` pieces of 64 KiB, one every `pause`.
fn slow_body(chunks: usize, pause: Duration) -> reqwest::Body {
    let stream = futures::stream::unfold(0usize, move |n| async move {
        if n == chunks {
            return None;
        }
        tokio::time::sleep(pause).await;
        Some((Ok::<_, std::io::Error>(Bytes::from(vec![0x42u8; 64 << 10])), n + 1))
    });
    reqwest::Body::wrap_stream(stream)
}

#[tokio::test]
async fn refused_uploads_reach_the_client_through_the_front_door() {
    let app = spawn_with(|s| s.max_file_size = 1 << 20).await;
    let admin = TestAdmin::spawn().await;
    let door = FrontDoor::start(&Upstreams::from_urls(&admin.address, &app.address, integration_tests::core::url()));
    let client = reqwest::Client::new();
    let photo = fixture("upstream-samples/001_A.jpg");
    let large = junk(9 << 20);
    let recognize = door.url("/api/v1/recognition/recognize");
    let unknown_key = uuid::Uuid::new_v4().to_string();
    let key = app.recognition.api_key.to_string();

    // An unknown API key, with a 2.5 MB photo and a 9 MB part.
    for (what, bytes) in [("unknown key, 2.5 MB photo", &photo), ("unknown key, 9 MB part", &large)] {
        let make =
            || client.post(&recognize).header("x-api-key", &unknown_key).multipart(big_form("file", bytes.clone()));
        refused_every_time(what, make, 404, 10, &door).await;
    }
    // No key at all.
    let make = || client.post(&recognize).multipart(big_form("file", photo.clone()));
    refused_every_time("no key", make, 400, 20, &door).await;
    // A content type that is neither multipart nor JSON.
    let make =
        || client.post(&recognize).header("x-api-key", &key).header("content-type", "text/plain").body(large.clone());
    refused_every_time("text/plain body", make, 415, 0, &door).await;
    // An image part above MAX_FILE_SIZE (1 MB here): refused after its first megabyte.
    let make = || client.post(&recognize).header("x-api-key", &key).multipart(big_form("file", large.clone()));
    refused_every_time("part above MAX_FILE_SIZE", make, 413, 0, &door).await;
    // base64 JSON with an unknown key.
    let json = format!("{{\"file\": \"{}\"}}", "A".repeat(8 << 20));
    let make = || {
        client
            .post(door.url("/api/v1/recognition/faces?subject=x"))
            .header("x-api-key", &unknown_key)
            .header("content-type", "application/json")
            .body(json.clone())
    };
    refused_every_time("base64 with an unknown key", make, 404, 10, &door).await;
    // A slow sender (3 MB over about a second), refused for its key.
    let make = || {
        client
            .post(&recognize)
            .header("x-api-key", &unknown_key)
            .header("content-type", "multipart/form-data; boundary=x")
            .body(slow_body(48, Duration::from_millis(20)))
    };
    for round in 0..3 {
        let (status, body) = json_of(make().send().await.expect("slow upload")).await;
        assert_eq!((status, body["code"].as_u64()), (404, Some(10)), "slow sender, round {round}: {body}");
    }

    // admin-service: no token, and a body above its JSON limit.
    let apps = door.url("/admin/app");
    let big_json = format!("{{\"name\": \"{}\"}}", "a".repeat(8 << 20));
    let make = || client.post(&apps).header("content-type", "application/json").body(big_json.clone());
    for round in 0..ROUNDS {
        let response = make().send().await.expect("admin upload");
        assert_eq!(response.status(), 401, "admin without a token, round {round}\n{}", door.error_log());
    }
    admin.register("owner@example.com", "password1", "Ow", "Ner").await;
    let token = admin.token("owner@example.com", "password1").await;
    for round in 0..ROUNDS {
        let response = make().bearer_auth(&token).send().await.expect("admin upload");
        assert_eq!(response.status(), 413, "admin body above its limit, round {round}\n{}", door.error_log());
    }

    // Nothing of it was stored.
    assert_eq!(count(&app, "faces").await, 0);
}

/// core-service behind api-service: an early refusal of a large upload leaves the connection
/// usable, so a client reusing its connections (as api-service's does) gets every answer.
#[tokio::test]
async fn core_refusals_of_large_uploads_arrive_on_a_reused_connection() {
    let core = integration_tests::core::url();
    let client = reqwest::Client::new();
    let large = junk(8 << 20);
    for round in 0..ROUNDS {
        let response = client
            .post(format!("{core}/find_faces"))
            .header("content-type", "text/plain")
            .body(large.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(response.status(), 400, "round {round}: {}", response.text().await.unwrap_or_default());
    }
}

/// The headers every answer of the front door carries, for browsers.
fn assert_browser_headers(response: &reqwest::Response, what: &str) {
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let csp = header("content-security-policy");
    for directive in ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"] {
        assert!(csp.contains(directive), "{what}: {directive} missing from the policy {csp:?}");
    }
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
}

#[tokio::test]
async fn the_front_door_answers_with_browser_headers_and_json_errors() {
    let app = spawn().await;
    let admin = TestAdmin::spawn().await;
    let door = FrontDoor::start(&Upstreams::from_urls(&admin.address, &app.address, integration_tests::core::url()));
    let client = reqwest::Client::new();

    // The UI's page (never cached), an API answer and an API error: all with the headers.
    let page = client.get(door.url("/")).send().await.expect("/");
    assert_browser_headers(&page, "the UI");
    assert_eq!(page.headers()["cache-control"], "no-cache");
    let config = client.get(door.url("/api/v1/config")).send().await.expect("config");
    assert_browser_headers(&config, "an API answer");
    assert!(config.headers().get("cache-control").is_none(), "the service's own caching is kept");
    // The services' metrics and probes stay off the front door.
    for path in ["/metrics", "/api/v1/metrics", "/admin/metrics", "/health/ready", "/core/metrics"] {
        let text = client.get(door.url(path)).send().await.expect(path).text().await.unwrap();
        assert!(!text.contains("# TYPE"), "{path} shows metrics");
    }
    let refused = client.get(door.url("/api/v1/recognition/subjects")).send().await.expect("no key");
    assert_browser_headers(&refused, "an API error");
    assert_eq!(json_of(refused).await.0, 400);

    // nginx's own refusals are {"message", "code"} JSON on the APIs' paths.
    let too_large = client
        .post(door.url("/api/v1/recognition/recognize"))
        .header("x-api-key", app.recognition.api_key.to_string())
        .header("content-type", "application/json")
        .body(vec![b' '; 11 << 20])
        .send()
        .await
        .expect("11 MB");
    assert_browser_headers(&too_large, "413");
    assert_eq!(too_large.headers()["content-type"], "application/json");
    let (status, body) = json_of(too_large).await;
    assert_eq!((status, body), (413, json!({"message": "The request exceeds its maximum allowed size", "code": 0})));
    let long = door.url(&format!("/admin/{}", "a".repeat(10_000)));
    let (status, body) = json_of(client.get(long).send().await.expect("long URI")).await;
    assert_eq!((status, body["code"].as_u64()), (414, Some(0)), "{body}");
    let (status, body) = json_of(client.delete(door.url("/core/status")).send().await.expect("DELETE")).await;
    assert_eq!((status, body), (403, json!({"message": "Forbidden", "code": 0})));

    // A collection archive may be larger than MAX_REQUEST_SIZE on its own path: the 11 MB body
    // reaches api-service, which refuses the unknown key.
    let (status, body) = json_of(
        client
            .post(door.url("/api/v1/recognition/import"))
            .header("x-api-key", uuid::Uuid::new_v4().to_string())
            .header("content-type", "application/zip")
            .body(junk(11 << 20))
            .send()
            .await
            .expect("import"),
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(10)), "{body}");
}

#[tokio::test]
async fn a_service_that_is_down_is_a_json_502_with_retry_after() {
    let down = api_service::testing::closed_port_url();
    let door = FrontDoor::start(&Upstreams::from_urls(&down, &down, &down));
    let response = reqwest::get(door.url("/api/v1/config")).await.expect("config");
    assert_browser_headers(&response, "502");
    assert_eq!(response.headers()["retry-after"], "5");
    let (status, body) = json_of(response).await;
    assert_eq!((status, body), (502, json!({"message": "The service is unavailable: try again later", "code": 0})));
    let (status, body) = json_of(reqwest::get(door.url("/admin/status")).await.expect("admin")).await;
    assert_eq!((status, body["code"].as_u64()), (502, Some(0)));
}

/// Sends `make()` `count` times and returns how many answers were nginx's 429 (JSON, with
/// Retry-After), checking the others are the service's own.
async fn count_limited(count: usize, make: impl Fn() -> RequestBuilder, own: u16) -> usize {
    let mut limited = 0;
    for _ in 0..count {
        let response = make().send().await.expect("request");
        if response.status() == 429 {
            assert_eq!(response.headers()["retry-after"], "1");
            let (_, body) = json_of(response).await;
            assert_eq!(body, json!({"message": "Too many requests: try again later", "code": 0}));
            limited += 1;
        } else {
            assert_eq!(response.status(), own, "{:?}", response.text().await);
        }
    }
    limited
}

#[tokio::test]
async fn rate_limits_per_key_and_on_logins_answer_429_json() {
    let app = spawn().await;
    let admin = TestAdmin::spawn().await;
    let upstreams = Upstreams::from_urls(&admin.address, &app.address, integration_tests::core::url());
    let door = FrontDoor::start_configured(
        &upstreams,
        "10M",
        &[("RATE_PER_KEY", "1r/m"), ("BURST_PER_KEY", "3"), ("RATE_LOGIN", "1r/m"), ("BURST_LOGIN", "2")],
    );
    let client = reqwest::Client::new();
    let subjects = door.url("/api/v1/recognition/subjects");
    let key = app.recognition.api_key.to_string();
    // One key: the burst passes, the rest is refused; another key is not affected.
    assert_eq!(count_limited(6, || client.get(&subjects).header("x-api-key", &key), 200).await, 2);
    let other = app.detection.api_key.to_string();
    let (status, _) = json_of(client.get(&subjects).header("x-api-key", &other).send().await.unwrap()).await;
    assert_eq!(status, 404, "the detection key is no recognition key, but it reached api-service");
    // Logins from one address: the burst passes (wrong passwords: 400), then 429.
    let login = || {
        client
            .post(door.url("/admin/oauth/token"))
            .header("authorization", admin_service::testing::CLIENT_BASIC)
            .form(&[("username", "nobody@example.com"), ("password", "wrong"), ("grant_type", "password")])
    };
    assert_eq!(count_limited(5, login, 400).await, 2);
    // The rest of the admin API has its own, generous, limit.
    let (status, _) = json_of(client.get(door.url("/admin/status")).send().await.unwrap()).await;
    assert_eq!(status, 200);
}

/// `POST /api/v1/migrate` recomputes every stored face and takes no key (as in CompreFace): the
/// front door passes it on for a global administrator's session alone.
#[tokio::test]
async fn the_front_door_passes_migrate_on_for_a_global_administrator_only() {
    let app = spawn().await;
    let admin = TestAdmin::spawn().await;
    let door = FrontDoor::start(&Upstreams::from_urls(&admin.address, &app.address, integration_tests::core::url()));
    admin.register("owner@example.com", "a good password", "Olga", "Owner").await;
    admin.register("user@example.com", "a good password", "Ulla", "User").await;
    let owner = admin.token("owner@example.com", "a good password").await;
    let user = admin.token("user@example.com", "a good password").await;
    let client = reqwest::Client::new();
    let migrate = || client.post(door.url("/api/v1/migrate"));

    let (status, body) = json_of(migrate().send().await.unwrap()).await;
    assert_eq!((status, body), (401, json!({"message": "Log in as a global administrator", "code": 0})));
    let (status, body) = json_of(migrate().bearer_auth(&user).send().await.unwrap()).await;
    assert_eq!((status, body), (403, json!({"message": "Forbidden", "code": 0})));
    let answer = migrate().bearer_auth(&owner).send().await.unwrap();
    let status = answer.status();
    assert_eq!((status.as_u16(), answer.text().await.unwrap()), (200, "Migration started".to_string()));
    // On api-service's own port it is as in CompreFace: no session needed (started, or refused
    // as already running while the first one has not finished).
    let direct = client.post(app.url("/api/v1/migrate")).send().await.unwrap();
    let (status, body) = (direct.status().as_u16(), direct.text().await.unwrap());
    assert!(status == 200 || (status == 400 && body.contains("\"code\":27")), "{status} {body}");
}
