//! Bad input on every body: malformed JSON, wrong types, missing fields, over-long names, names
//! with `; / \`, unknown ids, bad UUIDs: a JSON `{message, code}` 4xx, never a 5xx, and nothing
//! changes.

use admin_service::testing::{json_of, TestAdmin};
use reqwest::Method;

use crate::helpers::*;

/// Every table the admin writes, for a before/after fingerprint.
async fn fingerprint(admin: &TestAdmin) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in ["users", "apps", "app_roles", "models", "subjects", "faces", "invitations", "user_tokens"] {
        counts.push(count(admin, &format!("SELECT count(*) FROM {table}")).await);
    }
    let names: i64 = count(admin, "SELECT count(DISTINCT name || api_key::text) FROM models").await;
    counts.push(names);
    counts
}

#[tokio::test]
async fn bad_bodies_are_4xx_json_and_change_nothing() {
    let admin = TestAdmin::spawn().await;
    let owner = with_owner(&admin).await;
    let (_, app) = call(&admin, Method::POST, "/app", Some(&owner), Some(json!({"name": "Kept"}))).await;
    let app = app["id"].as_str().unwrap().to_string();
    let (_, model) = call(
        &admin,
        Method::POST,
        &format!("/app/{app}/model"),
        Some(&owner),
        Some(json!({"name": "kept", "type": "RECOGNITION"})),
    )
    .await;
    let model = model["id"].as_str().unwrap().to_string();
    let before = fingerprint(&admin).await;
    let unknown = uuid::Uuid::new_v4();
    let bodies_for_writes: &[(&str, String)] = &[
        ("POST", "/app".into()),
        ("PUT", format!("/app/{app}")),
        ("POST", format!("/app/{app}/invite")),
        ("PUT", format!("/app/{app}/role")),
        ("POST", format!("/app/{app}/model")),
        ("PUT", format!("/app/{app}/model/{model}")),
        ("POST", format!("/app/{app}/model/{model}")),
        ("PUT", "/user/update".into()),
        ("PUT", "/user/me/password".into()),
        ("PUT", "/user/global/role".into()),
        ("POST", "/user/register".into()),
        ("POST", "/user/forgot-password".into()),
        ("POST", "/user/invite".into()),
        ("PUT", format!("/user/{unknown}/password")),
    ];
    let long = "l".repeat(51);
    let bad_bodies = [
        "{\"name\":".to_string(),
        "[]".to_string(),
        "null".to_string(),
        "{\"name\": 5, \"type\": [], \"userId\": {}, \"role\": 1, \"email\": true, \"userEmail\": 2, \"password\": 3, \
         \"firstName\": 7, \"lastName\": 8, \"oldPassword\": 1, \"newPassword\": 2}"
            .to_string(),
        format!(
            "{{\"name\": \"a;b\", \"type\": \"RECOGNITION\", \"userId\": \"not-a-uuid\", \"role\": \"KING\", \"email\": \"x\", \
             \"userEmail\": \"x\", \"lastName\": \"{long}\", \"password\": \"short\", \"newPassword\": \"short\"}}"
        ),
        format!("{{\"name\": \"a\\\\b\", \"firstName\": \"{long}\"}}"),
        "{\"name\": \"\\u0000\", \"firstName\": \"\\u0000\", \"email\": \"\\u0000\"}".to_string(),
    ];
    for (method, path) in bodies_for_writes {
        for body in &bad_bodies {
            let request = admin
                .client
                .request(method.parse().unwrap(), admin.url(path))
                .bearer_auth(&owner)
                .header("content-type", "application/json")
                .body(body.clone());
            let (status, answer) = json_of(request.send().await.unwrap()).await;
            assert!((400..500).contains(&status), "{method} {path} {body}: {status} {answer}");
            assert!(answer["message"].is_string() && answer["code"].is_u64(), "{method} {path} {body}: {answer}");
        }
        let long_name = json!({"name": "n".repeat(51), "firstName": "f".repeat(51), "lastName": "l", "email": "e"});
        let (status, _) = call(&admin, method.parse().unwrap(), path, Some(&owner), Some(long_name)).await;
        assert!((400..500).contains(&status), "{method} {path} with long names: {status}");
    }
    for path in [
        format!("/app/{unknown}"),
        format!("/app/{app}/model/{unknown}"),
        "/app/%27%3B--".to_string(),
        format!("/app/{app}/model/x"),
    ] {
        let (status, answer) = get(&admin, &path, &owner).await;
        assert!(matches!(status, 400 | 404), "{path}: {status}");
        assert!(answer["code"].is_u64(), "{path}: {answer}");
    }
    assert_eq!(fingerprint(&admin).await, before);
    // The admin still works.
    assert_eq!(get(&admin, &format!("/app/{app}"), &owner).await.1["name"], "Kept");
    let (status, answer) = call(&admin, Method::GET, "/no/such/path", None, None).await;
    assert_eq!((status, answer["code"].as_u64()), (404, Some(0)));
}
