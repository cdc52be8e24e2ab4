//! Deletions of large collections through the public and the admin API: they answer at once,
//! the deleted service's key is refused at once, the purge finishes in the background, other
//! collections keep answering, and a name being purged is free for a new subject.

use std::time::{Duration, Instant};

use admin_service::testing::{json_of, TestAdmin};
use visage_store::ServiceType;

use crate::helpers::*;

/// Waits (at most 20 s) until no deletion is left to purge.
async fn purged(app: &api_service::testing::TestApp) {
    for _ in 0..200 {
        if count(app, "deletions").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the purge did not finish in 20 s");
}

/// `SUBJECTS` × 10 faces written with SQL into `model` (more than the store deletes at once).
const SUBJECTS: i64 = 150;

#[tokio::test]
async fn a_large_service_deleted_through_the_admin_answers_at_once_and_is_purged_in_the_background() {
    let api = spawn().await;
    let admin = TestAdmin::spawn_on(api.db.clone(), |_| {}).await;
    admin.register("owner@example.com", "owner-password", "Olga", "Owner").await;
    let token = admin.token("owner@example.com", "owner-password").await;
    enrol(&api, "Alice", "upstream-samples/001_A.jpg").await;
    let big = api.db.create_service(ServiceType::Recognition).await;
    api.db.write_bulk_collection(big.id, SUBJECTS, 10).await;
    // Loaded in memory, as a service in use is.
    let (status, body) =
        post_image(&api, &big, "/api/v1/recognition/recognize", &[], "upstream-samples/002_A.jpg").await;
    assert_eq!(status, 200, "{body}");

    let path = format!("/app/{}/model/{}", big.app_id, big.id);
    let started = Instant::now();
    let response = admin.client.delete(admin.url(&path)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answered = started.elapsed();
    assert!(answered < Duration::from_secs(2), "the deletion took {answered:?}");

    // The key is refused at once.
    let (status, body) =
        post_image(&api, &big, "/api/v1/recognition/recognize", &[], "upstream-samples/002_A.jpg").await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(10)), "{body}");
    let (status, list) = json_of(
        admin.client.get(admin.url(&format!("/app/{}/models", big.app_id))).bearer_auth(&token).send().await.unwrap(),
    )
    .await;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(0)), "{list}");
    // Its progress is listed until the purge ends (which may be already).
    let (status, progress) = json_of(
        admin
            .client
            .get(admin.url(&format!("/app/{}/deletions", big.app_id)))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{progress}");
    for deletion in progress.as_array().unwrap() {
        assert_eq!((deletion["kind"].as_str(), deletion["name"].as_str()), (Some("SERVICE"), Some(big.name.as_str())));
    }
    let (status, all) =
        json_of(admin.client.get(admin.url("/deletions")).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!((status, all.as_array().map(Vec::len) <= Some(1)), (200, true), "{all}");

    purged(&api).await;
    let left: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM models WHERE id = $1), (SELECT count(*) FROM subjects WHERE model_id = $1), \
         (SELECT count(*) FROM faces WHERE model_id = $1)",
    )
    .bind(big.id)
    .fetch_one(api.db.pool())
    .await
    .unwrap();
    assert_eq!(left, (0, 0, 0));
    assert_eq!(count(&api, "images").await, 1, "only Alice's photo is left");
    // The other collection answers as before.
    let (status, body) = recognize(&api, "upstream-samples/002_A.jpg", &[]).await;
    assert_eq!((status, subjects_of(&body)), (200, vec!["Alice".to_string()]), "{body}");
}

#[tokio::test]
async fn a_subject_created_again_while_its_faces_are_purged_is_a_new_subject() {
    let api = spawn().await;
    let pool = api.db.pool();
    // Alice with more faces than the store deletes at once.
    sqlx::query("INSERT INTO subjects (model_id, name) VALUES ($1, 'Alice')")
        .bind(api.recognition.id)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO faces (model_id, subject_id, embedding, dimension, calculator) \
         SELECT $1, s.id, decode(repeat(md5(g::text), 128), 'hex'), 512, 'bulk' \
         FROM subjects s CROSS JOIN generate_series(1, 1200) g WHERE s.model_id = $1",
    )
    .bind(api.recognition.id)
    .execute(pool)
    .await
    .unwrap();
    enrol(&api, "Bob", "upstream-samples/007_B.jpg").await;

    let subject = |name: &str| api.url(&format!("/api/v1/recognition/subjects/{name}"));
    let (status, body) = call(api.client.delete(subject("alice")), &api.recognition).await;
    assert_eq!((status, body), (200, json!({"subject": "Alice"})));
    let (status, body) = call(api.client.delete(subject("Alice")), &api.recognition).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(42)), "{body}");

    // The name is free at once: a new subject, without the old faces.
    let request = api.client.post(api.url("/api/v1/recognition/subjects")).json(&json!({"subject": "Alice"}));
    let (status, body) = call(request, &api.recognition).await;
    assert_eq!((status, body), (201, json!({"subject": "Alice"})));
    let request = api.client.get(api.url("/api/v1/recognition/faces")).query(&[("subject", "Alice")]);
    let (status, body) = call(request, &api.recognition).await;
    assert_eq!((status, body["total_elements"].as_u64()), (200, Some(0)), "{body}");
    let alice = enrol(&api, "Alice", "upstream-samples/001_A.jpg").await;
    let (status, body) = recognize(&api, "upstream-samples/002_A.jpg", &[("prediction_count", "5")]).await;
    assert_eq!(status, 200, "{body}");
    let found: Vec<&str> =
        body["result"][0]["subjects"].as_array().unwrap().iter().filter_map(|s| s["subject"].as_str()).collect();
    assert_eq!(found, ["Alice", "Bob"], "the purged faces are not searched: {body}");

    purged(&api).await;
    let request = api.client.get(api.url("/api/v1/recognition/faces")).query(&[("subject", "Alice")]);
    let (status, body) = call(request, &api.recognition).await;
    assert_eq!((status, body["faces"][0]["image_id"].as_str()), (200, Some(alice.to_string().as_str())), "{body}");
    assert_eq!(count(&api, "faces").await, 2);

    // Deleting every subject answers with their number.
    let (status, body) = call(api.client.delete(api.url("/api/v1/recognition/subjects")), &api.recognition).await;
    assert_eq!((status, body), (200, json!({"deleted": 2})));
}
