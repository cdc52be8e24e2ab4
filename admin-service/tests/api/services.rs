//! Services of an application: create, read with counts, rename, clone with the collection, new
//! key, delete with the collection, statistics.

use admin_service::testing::TestAdmin;
use chrono::{Duration, Utc};
use reqwest::Method;

use crate::helpers::*;

#[tokio::test]
async fn services_are_listed_by_type_then_name_and_validated() {
    let admin = TestAdmin::spawn().await;
    let owner = with_owner(&admin).await;
    let (_, app) = call(&admin, Method::POST, "/app", Some(&owner), Some(json!({"name": "Shop"}))).await;
    let app = app["id"].as_str().unwrap().to_string();
    let create = |name: &str, kind: &str| {
        let (admin, owner, path) = (&admin, &owner, format!("/app/{app}/model"));
        let body = json!({"name": name, "type": kind});
        async move { call(admin, Method::POST, &path, Some(owner), Some(body)).await }
    };
    for (name, kind) in
        [("verify", "VERIFY"), ("b-faces", "RECOGNITION"), ("detect", "DETECTION"), ("a-faces", "RECOGNITION")]
    {
        assert_eq!(create(name, kind).await.0, 201, "{name}");
    }
    assert_eq!(create("a-faces", "DETECTION").await, (400, error("The name is not unique", 17)));
    assert_eq!(create("x", "FACES").await.1["code"], 26);
    assert_eq!(create("x;y", "DETECTION").await.1["code"], 26);
    let (_, list) = get(&admin, &format!("/app/{app}/models"), &owner).await;
    let listed: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_string(), s["type"].as_str().unwrap().to_string()))
        .collect();
    let expected =
        [("a-faces", "RECOGNITION"), ("b-faces", "RECOGNITION"), ("detect", "DETECTION"), ("verify", "VERIFY")];
    assert_eq!(listed, expected.map(|(n, t)| (n.to_string(), t.to_string())));
    let created = list[0]["createdDate"].as_str().unwrap();
    assert_eq!(created.len(), 19, "ISO local date-time: {created}");
    assert!(list[0].get("subjectCount").is_none());
    // A service of another application, and an unknown one.
    let demo_app = "00000000-0000-0000-0000-000000000001";
    let foreign = list[0]["id"].as_str().unwrap();
    assert_eq!(get(&admin, &format!("/app/{demo_app}/model/{foreign}"), &owner).await.1["code"], 3);
    assert_eq!(get(&admin, &format!("/app/{app}/model/{}", uuid::Uuid::new_v4()), &owner).await.1["code"], 10);
}

#[tokio::test]
async fn clone_copies_the_collection_and_delete_removes_faces_and_images() {
    let admin = TestAdmin::spawn().await;
    let owner = with_owner(&admin).await;
    let (_, app) = call(&admin, Method::POST, "/app", Some(&owner), Some(json!({"name": "Office"}))).await;
    let app = app["id"].as_str().unwrap().to_string();
    let (_, service) = call(
        &admin,
        Method::POST,
        &format!("/app/{app}/model"),
        Some(&owner),
        Some(json!({"name": "staff", "type": "RECOGNITION"})),
    )
    .await;
    let id: uuid::Uuid = service["id"].as_str().unwrap().parse().unwrap();
    fill_collection(&admin, id, 3, 2).await;
    let (status, read) = get(&admin, &format!("/app/{app}/model/{id}"), &owner).await;
    assert_eq!(status, 200);
    assert_eq!((read["subjectCount"].as_i64(), read["imageCount"].as_i64()), (Some(3), Some(6)));

    let (status, copy) = call(
        &admin,
        Method::POST,
        &format!("/app/{app}/model/{id}"),
        Some(&owner),
        Some(json!({"name": "staff copy"})),
    )
    .await;
    assert_eq!(status, 201, "{copy}");
    assert_eq!((copy["subjectCount"].as_i64(), copy["imageCount"].as_i64()), (Some(3), Some(6)));
    assert_ne!(copy["apiKey"], service["apiKey"]);
    assert_eq!(count(&admin, "SELECT count(*) FROM images").await, 12);

    let (_, renamed) =
        call(&admin, Method::PUT, &format!("/app/{app}/model/{id}"), Some(&owner), Some(json!({"name": "staff old"})))
            .await;
    assert_eq!(renamed["name"], "staff old");
    let (_, rekeyed) = call(&admin, Method::PUT, &format!("/app/{app}/model/{id}/apikey"), Some(&owner), None).await;
    assert_ne!(rekeyed["apiKey"], service["apiKey"]);
    assert_eq!(rekeyed["imageCount"], 6, "the collection stays with a new key");

    assert_eq!(call(&admin, Method::DELETE, &format!("/app/{app}/model/{id}"), Some(&owner), None).await.0, 200);
    let faces_left = count(&admin, &format!("SELECT count(*) FROM faces WHERE model_id = '{id}'")).await;
    assert_eq!(faces_left, 0);
    assert_eq!(count(&admin, "SELECT count(*) FROM images").await, 6, "the clone's images stay");
    assert_eq!(count(&admin, "SELECT count(*) FROM subjects").await, 3);
    // Deleting the application removes the clone's collection too.
    assert_eq!(call(&admin, Method::DELETE, &format!("/app/{app}"), Some(&owner), None).await.0, 200);
    assert_eq!(count(&admin, "SELECT count(*) FROM images").await, 0);
    assert_eq!(count(&admin, "SELECT count(*) FROM faces").await, 0);
}

#[tokio::test]
async fn statistics_are_per_day_newest_first_for_six_months() {
    let admin = TestAdmin::spawn().await;
    let owner = with_owner(&admin).await;
    let demo_app = "00000000-0000-0000-0000-000000000001";
    let service = uuid::Uuid::from_u128(1);
    let today = Utc::now().date_naive();
    for (days_ago, requests) in [(0, 5), (3, 2), (200, 9)] {
        admin.db.store.add_requests(service, today - Duration::days(days_ago), requests).await.unwrap();
    }
    let (status, stats) = get(&admin, &format!("/app/{demo_app}/model/{service}/statistics"), &owner).await;
    assert_eq!(status, 200);
    assert_eq!(
        stats,
        json!([
            {"requestCount": 5, "createdDate": today.to_string()},
            {"requestCount": 2, "createdDate": (today - Duration::days(3)).to_string()},
        ])
    );
}

#[tokio::test]
async fn recognition_services_have_a_match_threshold() {
    let admin = TestAdmin::spawn().await;
    let owner = with_owner(&admin).await;
    let (_, app) = call(&admin, Method::POST, "/app", Some(&owner), Some(json!({"name": "Door"}))).await;
    let app = app["id"].as_str().unwrap().to_string();
    let create = |body: serde_json::Value| {
        let (admin, owner, path) = (&admin, &owner, format!("/app/{app}/model"));
        async move { call(admin, Method::POST, &path, Some(owner), Some(body)).await }
    };
    let (status, faces) = create(json!({"name": "faces", "type": "RECOGNITION"})).await;
    assert_eq!(status, 201, "{faces}");
    let default = visage_common::similarity::DEFAULT_MATCH_THRESHOLD;
    assert_eq!(faces["matchThreshold"].as_f64(), Some(default), "new recognition services get the default");
    let (_, strict) = create(json!({"name": "strict", "type": "RECOGNITION", "matchThreshold": 0.8})).await;
    assert_eq!(strict["matchThreshold"].as_f64(), Some(0.8));
    let (_, open) = create(json!({"name": "open", "type": "RECOGNITION", "matchThreshold": null})).await;
    assert_eq!(open["matchThreshold"], serde_json::Value::Null);
    assert!(open.as_object().unwrap().contains_key("matchThreshold"), "null is shown: {open}");
    let (_, detect) = create(json!({"name": "detect", "type": "DETECTION"})).await;
    assert!(detect.get("matchThreshold").is_none(), "{detect}");
    for bad in [json!(1.5), json!(-0.1), json!("high")] {
        let (status, body) = create(json!({"name": "bad", "type": "RECOGNITION", "matchThreshold": bad})).await;
        assert_eq!((status, body["code"].as_u64()), (400, Some(26)), "{bad}: {body}");
    }
    let (status, body) = create(json!({"name": "bad", "type": "DETECTION", "matchThreshold": 0.5})).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(26)), "{body}");

    let path = format!("/app/{app}/model/{}", faces["id"].as_str().unwrap());
    let put = |body: serde_json::Value| {
        let (admin, owner, path) = (&admin, &owner, path.clone());
        async move { call(admin, Method::PUT, &path, Some(owner), Some(body)).await }
    };
    let (status, changed) = put(json!({"matchThreshold": 0.65})).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!((changed["name"].as_str(), changed["matchThreshold"].as_f64()), (Some("faces"), Some(0.65)));
    let (_, renamed) = put(json!({"name": "front door"})).await;
    assert_eq!((renamed["name"].as_str(), renamed["matchThreshold"].as_f64()), (Some("front door"), Some(0.65)));
    let (_, both) = put(json!({"name": "door", "matchThreshold": null})).await;
    assert_eq!((both["name"].as_str(), both["matchThreshold"].clone()), (Some("door"), serde_json::Value::Null));
    // Nothing changes when any part is wrong.
    let (status, body) = put(json!({"name": "x;y", "matchThreshold": 0.9})).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(26)), "{body}");
    let (status, body) = put(json!({"name": "renamed", "matchThreshold": 7})).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(26)), "{body}");
    assert_eq!(put(json!({})).await.1["code"], 5, "a name or a threshold is needed");
    let (_, read) = get(&admin, &path, &owner).await;
    assert_eq!((read["name"].as_str(), read["matchThreshold"].clone()), (Some("door"), serde_json::Value::Null));
    // Clones keep the threshold.
    let strict_path = format!("/app/{app}/model/{}", strict["id"].as_str().unwrap());
    let (status, copy) =
        call(&admin, Method::POST, &strict_path, Some(&owner), Some(json!({"name": "strict copy"}))).await;
    assert_eq!((status, copy["matchThreshold"].as_f64()), (201, Some(0.8)), "{copy}");
}
