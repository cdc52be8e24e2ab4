//! The `x-api-key` check.

use crate::helpers::*;

#[tokio::test]
async fn a_missing_key_is_code_20() {
    let app = spawn().await;
    let response = app.client.get(app.url("/api/v1/recognition/subjects")).send().await.unwrap();
    assert_eq!(json_of(response).await, (400, error("Missing header: x-api-key", 20)));
}

#[tokio::test]
async fn a_key_that_is_no_uuid_is_code_26() {
    let app = spawn().await;
    for key in ["abc", "", "00000000000000000000000000000000002", "00000000-0000-0000-0000-00000000000g"] {
        let request = app.client.get(app.url("/api/v1/recognition/subjects")).header("x-api-key", key);
        assert_eq!(
            json_of(request.send().await.unwrap()).await,
            (400, error("Service API key should be UUID", 26)),
            "{key}"
        );
    }
}

#[tokio::test]
async fn an_unknown_key_or_one_of_another_type_is_code_10() {
    let app = spawn().await;
    let unknown = "11111111-2222-3333-4444-555555555555";
    let request = app.client.get(app.url("/api/v1/recognition/subjects")).header("x-api-key", unknown);
    assert_eq!(
        json_of(request.send().await.unwrap()).await,
        (404, error(&format!("Recognition service with API Key {unknown} not found"), 10))
    );
    let (status, body) = call(app.client.get(app.url("/api/v1/recognition/subjects")), &app.detection).await;
    assert_eq!(
        (status, body),
        (404, error(&format!("Recognition service with API Key {} not found", app.detection.api_key), 10))
    );
}

#[tokio::test]
async fn the_demo_recognition_key_works_from_the_first_run() {
    let app = spawn().await;
    let request = app
        .client
        .get(app.url("/api/v1/recognition/subjects"))
        .header("x-api-key", "00000000-0000-0000-0000-000000000002");
    assert_eq!(json_of(request.send().await.unwrap()).await, (200, json!({ "subjects": [] })));
}
