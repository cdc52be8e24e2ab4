//! `/metrics` and `/health/…` of admin-service.

use admin_service::testing::TestAdmin;
use reqwest::Method;

use crate::helpers::*;

#[tokio::test]
async fn admin_service_counts_requests_and_is_ready_with_its_database() {
    let admin = TestAdmin::spawn().await;
    let owner = with_owner(&admin).await;
    let (status, _) = call(&admin, Method::POST, "/app", Some(&owner), Some(json!({"name": "Secret app"}))).await;
    assert_eq!(status, 201);

    let response = reqwest::get(format!("{}/metrics", admin.address)).await.unwrap();
    assert_eq!(response.status(), 200);
    let metrics = response.text().await.unwrap();
    assert!(
        metrics.contains(r#"visage_http_requests_total{method="POST",route="/admin/app",status="201"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("visage_db_connections_max"), "{metrics}");
    assert!(!metrics.contains("Secret") && !metrics.contains(&owner), "no user data: {metrics}");

    let ready: serde_json::Value =
        reqwest::get(format!("{}/health/ready", admin.address)).await.unwrap().json().await.unwrap();
    assert_eq!(ready, json!({"status": "UP", "checks": {"database": "UP"}}));
    assert_eq!(reqwest::get(format!("{}/health/live", admin.address)).await.unwrap().status(), 200);
}
