//! The admin API driving the public API, as a new user does it: sign up, log in, create an
//! application and a recognition service, enrol and recognise with its key through api-service,
//! rename, clone, renew the key, read the statistics, delete the service.

use admin_service::testing::{json_of, TestAdmin, CLIENT_BASIC};
use api_service::testing::TestApp;
use serde_json::Value;
use visage_store::{Service, ServiceType};

use crate::helpers::*;

/// `method path` on the admin with the bearer token, with an optional JSON body.
async fn admin_call(admin: &TestAdmin, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = admin.client.request(method.parse().unwrap(), admin.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    json_of(request.send().await.expect("admin request failed")).await
}

/// The service an admin answer describes, for api-service calls with its key.
fn service_of(answer: &Value, app_id: uuid::Uuid) -> Service {
    Service {
        id: answer["id"].as_str().unwrap().parse().unwrap(),
        app_id,
        name: answer["name"].as_str().unwrap().to_string(),
        service_type: ServiceType::Recognition,
        api_key: answer["apiKey"].as_str().unwrap().parse().unwrap(),
        match_threshold: answer["matchThreshold"].as_f64(),
    }
}

async fn recognize_with(app: &TestApp, service: &Service, image: &str) -> (u16, Value) {
    post_image(app, service, "/api/v1/recognition/recognize", &[], image).await
}

#[tokio::test]
async fn a_new_user_goes_from_sign_up_to_recognition_and_cleans_up() {
    let api = spawn().await;
    let admin = TestAdmin::spawn_on(api.db.clone(), |_| {}).await;
    admin.register("founder@example.com", "founder-password", "Fay", "Founder").await;

    // Log in as the upstream UI does (multipart, cookie) and as a script does (bearer).
    let form = reqwest::multipart::Form::new()
        .text("username", "founder@example.com")
        .text("password", "founder-password")
        .text("grant_type", "password");
    let response = admin
        .client
        .post(admin.url("/oauth/token"))
        .header("authorization", CLIENT_BASIC)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("CFSESSION="))
        .expect("no session cookie");
    let (status, tokens) = json_of(response).await;
    assert_eq!(status, 200);
    let token = tokens["access_token"].as_str().unwrap();
    let me = admin.client.get(admin.url("/user/me")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(json_of(me).await.1["email"], "founder@example.com");

    let (status, app) = admin_call(&admin, "POST", "/app", token, Some(json!({"name": "Front door"}))).await;
    assert_eq!(status, 201, "{app}");
    let app_id: uuid::Uuid = app["id"].as_str().unwrap().parse().unwrap();
    let (status, created) = admin_call(
        &admin,
        "POST",
        &format!("/app/{app_id}/model"),
        token,
        Some(json!({"name": "residents", "type": "RECOGNITION"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let service = service_of(&created, app_id);

    // Enrol and recognise through api-service with the new key.
    for (subject, image) in [("Alice", "upstream-samples/001_A.jpg"), ("Bob", "upstream-samples/007_B.jpg")] {
        let request = api
            .client
            .post(api.url("/api/v1/recognition/faces"))
            .query(&[("subject", subject)])
            .multipart(image_form(image));
        let (status, body) = call(request, &service).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = recognize_with(&api, &service, "upstream-samples/002_A.jpg").await;
    assert_eq!((status, subjects_of(&body)), (200, vec!["Alice".to_string()]), "{body}");

    // Rename, then clone: the clone answers with the copied faces under its own key.
    let model_path = format!("/app/{app_id}/model/{}", service.id);
    let (status, renamed) =
        admin_call(&admin, "PUT", &model_path, token, Some(json!({"name": "residents 2026"}))).await;
    assert_eq!((status, renamed["name"].as_str()), (200, Some("residents 2026")));
    let (status, cloned) =
        admin_call(&admin, "POST", &model_path, token, Some(json!({"name": "residents copy"}))).await;
    assert_eq!(status, 201, "{cloned}");
    assert_eq!((cloned["subjectCount"].as_i64(), cloned["imageCount"].as_i64()), (Some(2), Some(2)));
    let clone = service_of(&cloned, app_id);
    let (status, body) = recognize_with(&api, &clone, "upstream-samples/008_B.jpg").await;
    assert_eq!((status, subjects_of(&body)), (200, vec!["Bob".to_string()]), "{body}");

    // A new key: the old one is refused at once, the new one finds the same collection.
    let (status, renewed) = admin_call(&admin, "PUT", &format!("{model_path}/apikey"), token, None).await;
    assert_eq!(status, 200);
    let renewed_service = service_of(&renewed, app_id);
    assert_ne!(renewed_service.api_key, service.api_key);
    let (status, body) = recognize_with(&api, &service, "upstream-samples/002_A.jpg").await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(10)), "{body}");
    let (status, body) = recognize_with(&api, &renewed_service, "upstream-samples/003_A.jpg").await;
    assert_eq!((status, subjects_of(&body)), (200, vec!["Alice".to_string()]), "{body}");

    // Statistics count the recognitions (counted without holding the answers up).
    let mut counted = Value::Null;
    for _ in 0..50 {
        counted = admin_call(&admin, "GET", &format!("{model_path}/statistics"), token, None).await.1;
        if counted[0]["requestCount"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(counted.as_array().map(Vec::len), Some(1), "{counted}");
    assert_eq!(counted[0]["requestCount"], 2, "two recognitions with this service's keys: {counted}");

    // Deleting the service deletes its faces and images; the clone keeps its own.
    assert_eq!(admin_call(&admin, "DELETE", &model_path, token, None).await.0, 200);
    let pool = api.db.pool();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM faces WHERE model_id = $1")
        .bind(service.id)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let images: i64 = sqlx::query_scalar("SELECT count(*) FROM images").fetch_one(pool).await.unwrap();
    assert_eq!(images, 2, "only the clone's images are left");
    let (status, body) = recognize_with(&api, &renewed_service, "upstream-samples/002_A.jpg").await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(10)));
    let (status, body) = recognize_with(&api, &clone, "upstream-samples/002_A.jpg").await;
    assert_eq!((status, subjects_of(&body)), (200, vec!["Alice".to_string()]));
}

/// CompreFace's well-known demo keys answer on a fresh installation and stop answering when its
/// first account takes it over.
#[tokio::test]
async fn the_demo_keys_stop_working_when_the_installation_is_taken_over() {
    let api = spawn().await;
    let admin = TestAdmin::spawn_on(api.db.clone(), |_| {}).await;
    let subjects = || {
        api.client
            .get(api.url("/api/v1/recognition/subjects"))
            .header("x-api-key", "00000000-0000-0000-0000-000000000002")
    };
    let (status, body) = json_of(subjects().send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    admin.register("owner@example.com", "a good password", "Olga", "Owner").await;
    let (status, body) = json_of(subjects().send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(10)), "{body}");
}
