//! What operators scrape and probe: `/metrics` (Prometheus text) and `/health/live`,
//! `/health/ready` on api-service, core-service and admin-service.

use api_service::testing::TestApp;
use serde_json::Value;

use crate::helpers::*;

async fn text(url: String) -> (u16, String) {
    let response = reqwest::get(url).await.expect("request");
    (response.status().as_u16(), response.text().await.expect("body"))
}

async fn get_json(url: String) -> (u16, Value) {
    json_of(reqwest::get(url).await.expect("request")).await
}

/// The value of the sample line that starts with `series` (name and labels), if any.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.split(' ').next()?.parse().ok())
}

#[tokio::test]
async fn api_service_counts_requests_by_route_and_reports_its_collections() {
    let app = spawn().await;
    enrol(&app, "Alice Secret", "upstream-samples/001_A.jpg").await;
    enrol(&app, "Alice Secret", "upstream-samples/003_A.jpg").await;
    let (status, _) = recognize(&app, "upstream-samples/002_A.jpg", &[]).await;
    assert_eq!(status, 200);
    let (status, _) = recognize(&app, "upstream-samples/017_0.jpg", &[]).await;
    assert_eq!(status, 400, "no face");

    let (status, metrics) = text(app.url("/metrics")).await;
    assert_eq!(status, 200);
    let recognized = r#"visage_http_requests_total{method="POST",route="/api/v1/recognition/recognize",status="200"}"#;
    assert_eq!(sample(&metrics, recognized), Some(1.0), "{metrics}");
    let no_face = r#"visage_http_requests_total{method="POST",route="/api/v1/recognition/recognize",status="400"}"#;
    assert_eq!(sample(&metrics, no_face), Some(1.0));
    let enrolled = r#"visage_http_requests_total{method="POST",route="/api/v1/recognition/faces",status="201"}"#;
    assert_eq!(sample(&metrics, enrolled), Some(2.0));
    assert_eq!(sample(&metrics, "visage_search_seconds_count"), Some(1.0));
    assert_eq!(sample(&metrics, "visage_collections_loaded"), Some(1.0));
    assert_eq!(sample(&metrics, "visage_collection_faces"), Some(2.0));
    assert!(sample(&metrics, "visage_collection_index_bytes").is_some_and(|b| b > 0.0));
    assert!(sample(&metrics, r#"visage_db_connections{state="idle"}"#).is_some());
    assert!(sample(&metrics, "visage_db_connections_max").is_some_and(|m| m >= 1.0));
    // Labels never carry user data.
    let key = app.recognition.api_key.to_string();
    assert!(!metrics.contains("Secret") && !metrics.contains(&key), "{metrics}");
    // An unknown path is counted without its path.
    let _ = text(app.url("/api/v1/no/such/thing")).await;
    let (_, metrics) = text(app.url("/metrics")).await;
    assert!(metrics.contains(r#"route="unmatched",status="404""#), "{metrics}");
    assert!(!metrics.contains("such"), "{metrics}");

    assert_eq!(get_json(app.url("/health/live")).await, (200, json!({"status": "UP"})));
    assert_eq!(
        get_json(app.url("/health/ready")).await,
        (200, json!({"status": "UP", "checks": {"core": "UP", "database": "UP"}}))
    );
}

#[tokio::test]
async fn api_service_is_not_ready_without_core() {
    // Nothing listens on the discard port.
    let app = TestApp::spawn("http://127.0.0.1:9").await;
    let (status, body) = get_json(app.url("/health/ready")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!((body["status"].as_str(), body["checks"]["database"].as_str()), (Some("DOWN"), Some("UP")));
    assert!(body["checks"]["core"].as_str().is_some_and(|c| c.starts_with("DOWN: ")), "{body}");
    assert_eq!(get_json(app.url("/health/live")).await.0, 200, "alive all the same");
    // A failed call to core is counted by kind.
    let (status, _) = recognize(&app, "upstream-samples/002_A.jpg", &[]).await;
    assert_eq!(status, 500);
    let (_, metrics) = text(app.url("/metrics")).await;
    assert_eq!(sample(&metrics, r#"visage_core_call_failures_total{kind="unreachable"}"#), Some(1.0), "{metrics}");
}

#[tokio::test]
async fn core_service_reports_inference_time_per_stage_and_model() {
    let core = integration_tests::core::url();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(fixture("upstream-samples/000_5.jpg")).file_name("g.jpg"));
    let response = reqwest::Client::new()
        .post(format!("{core}/find_faces?face_plugins=calculator,quality"))
        .multipart(form)
        .send()
        .await
        .expect("find_faces");
    assert_eq!(response.status(), 200);

    let (status, metrics) = text(format!("{core}/metrics")).await;
    assert_eq!(status, 200);
    // Other tests share this core: counts only grow.
    let detector = r#"visage_inference_seconds_count{stage="detector",model="insightface.scrfd_500m_bnkps"}"#;
    assert!(sample(&metrics, detector).is_some_and(|n| n >= 1.0), "{metrics}");
    let calculator = r#"visage_inference_seconds_count{stage="calculator",model="insightface.w600k_mbf"}"#;
    assert!(sample(&metrics, calculator).is_some_and(|n| n >= 5.0), "five faces: {metrics}");
    assert!(metrics.contains(r#"stage="quality",model="visage.QualityAssessor""#), "{metrics}");
    assert!(sample(&metrics, "visage_faces_per_request_count").is_some_and(|n| n >= 1.0));
    assert!(sample(&metrics, "visage_inference_queue_length").is_some());
    assert!(sample(&metrics, r#"visage_http_requests_total{method="POST",route="/find_faces",status="200"}"#)
        .is_some_and(|n| n >= 1.0));
    assert_eq!(get_json(format!("{core}/health/live")).await, (200, json!({"status": "UP"})));
    assert_eq!(
        get_json(format!("{core}/health/ready")).await,
        (200, json!({"status": "UP", "checks": {"inference_queue": "UP"}}))
    );
}
