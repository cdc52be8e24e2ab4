//! Routes without a key, unknown routes and CORS.

use api_service::testing::{closed_port_url, TestApp};

use crate::helpers::*;

#[tokio::test]
async fn config_reports_the_upload_limits() {
    let app = spawn().await;
    let answer = app.client.get(app.url("/api/v1/config")).send().await.unwrap();
    assert_eq!(json_of(answer).await, (200, json!({ "clientMaxFileSize": 5242880, "clientMaxBodySize": 10485760 })));
    let small = TestApp::spawn_with(&closed_port_url(), |s| {
        s.max_file_size = 1024;
        s.max_request_size = 2048;
    })
    .await;
    let answer = small.client.get(small.url("/api/v1/config")).send().await.unwrap();
    assert_eq!(json_of(answer).await, (200, json!({ "clientMaxFileSize": 1024, "clientMaxBodySize": 2048 })));
}

#[tokio::test]
async fn consistence_needs_core() {
    let app = spawn().await;
    let (status, body) = json_of(app.client.get(app.url("/api/v1/consistence/status")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].clone()), (500, json!(41)), "{body}");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_404s() {
    let app = spawn().await;
    let unknown = app.client.get(app.url("/api/v1/nothing/here")).send().await.unwrap();
    assert_eq!(json_of(unknown).await, (404, error("No handler found for GET /api/v1/nothing/here", 0)));
    let outside = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(json_of(outside).await, (404, error("No handler found for GET /", 0)));
    let method = app.client.patch(app.url("/api/v1/recognition/subjects")).send().await.unwrap();
    assert_eq!(json_of(method).await, (404, error("Request method 'PATCH' not supported", 0)));
}

#[tokio::test]
async fn cors_allows_any_origin_with_the_api_key_header() {
    let app = spawn().await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/recognition/subjects"))
        .header("origin", "http://example.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-api-key, content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["access-control-max-age"], "1728000");
    assert!(headers["access-control-allow-headers"].to_str().unwrap().contains("x-api-key"));
    assert!(headers["access-control-allow-methods"].to_str().unwrap().contains("DELETE"));

    // Error answers carry the header too, so browsers can read them.
    let error = app
        .client
        .get(app.url("/api/v1/recognition/subjects"))
        .header("origin", "http://example.test")
        .send()
        .await
        .unwrap();
    assert_eq!(error.status(), 400);
    assert_eq!(error.headers()["access-control-allow-origin"], "*");
}
