//! Several api-service processes on one database: a change through one is seen by the others
//! within a second, without restarts (Postgres notifications), and a process whose listening
//! connection dropped catches up from the change log.

use std::future::Future;
use std::time::{Duration, Instant};

use api_service::testing::TestApp;

use crate::helpers::*;

/// Checks every 20 ms until `check` holds; fails the test after `limit`.
async fn within<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The subjects matching `embedding`, nearest first, as `app` answers.
async fn matches(app: &TestApp, embedding: &[f32]) -> Vec<String> {
    let (status, body) = recognize_embeddings(app, &[embedding.to_vec()]).await;
    assert_eq!(status, 200, "{body}");
    subjects_of(&body)
}

#[tokio::test]
async fn changes_through_one_instance_reach_the_other_within_a_second() {
    let one = spawn().await;
    let two = spawn_beside(&one).await;
    let second = Duration::from_secs(1);

    let b = enrol(&one, "B", "upstream-samples/007_B.jpg").await;
    let eb = stored_embedding(&one, b).await;
    // Both load the collection; from now on only notifications keep `two` current.
    assert_eq!(matches(&two, &eb).await, ["B"]);

    let c = enrol(&one, "C", "upstream-samples/009_C.jpg").await;
    let ec = stored_embedding(&one, c).await;
    // The writer sees its own change at once.
    assert_eq!(matches(&one, &ec).await[0], "C");
    within(second, "add", || async { matches(&two, &ec).await.first().map(String::as_str) == Some("C") }).await;

    // A rename, then a merge into an existing subject, through the other instance.
    let (status, body) = call(
        two.client.put(two.url("/api/v1/recognition/subjects/C")).json(&json!({ "subject": "Carla" })),
        &two.recognition,
    )
    .await;
    assert_eq!((status, body), (200, json!({ "updated": true })));
    assert_eq!(matches(&two, &ec).await[0], "Carla");
    within(second, "rename", || async { matches(&one, &ec).await.first().map(String::as_str) == Some("Carla") }).await;
    let (status, _) = call(
        two.client.put(two.url("/api/v1/recognition/subjects/Carla")).json(&json!({ "subject": "b" })),
        &two.recognition,
    )
    .await;
    assert_eq!(status, 200);
    within(second, "merge", || async { matches(&one, &ec).await == ["B", "B"] }).await;

    // Deleting a face, then a subject.
    let (status, _) =
        call(one.client.delete(one.url(&format!("/api/v1/recognition/faces/{c}"))), &one.recognition).await;
    assert_eq!(status, 200);
    assert_eq!(matches(&one, &ec).await, ["B"]);
    within(second, "delete face", || async { matches(&two, &ec).await == ["B"] }).await;
    let (status, _) = call(one.client.delete(one.url("/api/v1/recognition/subjects/B")), &one.recognition).await;
    assert_eq!(status, 200);
    within(second, "delete subject", || async { matches(&two, &eb).await.is_empty() }).await;
}

#[tokio::test]
async fn writes_of_any_client_of_the_database_are_seen() {
    let app = spawn().await;
    let embedding = [0.6, 0.8, 0.0];
    assert!(matches(&app, &embedding).await.is_empty());
    // Written with SQL, by no api-service at all: the triggers tell the listeners.
    let face =
        visage_store::NewFace { subject: "Sql", embedding: &embedding, calculator: "sql", image: None, face_box: None };
    app.db.store.add_face(app.recognition.id, face).await.expect("stored");
    within(Duration::from_secs(1), "SQL insert", || async { matches(&app, &embedding).await == ["Sql"] }).await;
    sqlx::query("DELETE FROM subjects WHERE model_id = $1")
        .bind(app.recognition.id)
        .execute(app.db.pool())
        .await
        .unwrap();
    within(Duration::from_secs(1), "SQL delete", || async { matches(&app, &embedding).await.is_empty() }).await;
}

/// A face written with the triggers off for this session, so that no notification is sent, as if
/// it had been sent while the listening connection was down; `logged`: with its change-log row,
/// as the trigger writes it.
async fn quiet_face(app: &TestApp, subject: &str, embedding: &[f32], logged: bool) -> uuid::Uuid {
    let mut tx = app.db.pool().begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.unwrap();
    let stored = sqlx::query_scalar::<_, uuid::Uuid>(
        "WITH s AS (INSERT INTO subjects (model_id, name) VALUES ($1, $2) RETURNING id) \
         INSERT INTO faces (model_id, subject_id, embedding, dimension, calculator) \
         SELECT $1, s.id, $3, 3, 'sql' FROM s RETURNING id",
    )
    .bind(app.recognition.id)
    .bind(subject)
    .bind(visage_store::embedding::to_bytes(embedding))
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    if logged {
        sqlx::query("INSERT INTO collection_changes (model_id, op, ids) VALUES ($1, 'faces', ARRAY[$2])")
            .bind(app.recognition.id)
            .bind(stored)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    stored
}

/// The value of counter `name` in `app`'s metrics.
async fn counter(app: &TestApp, name: &str) -> f64 {
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in the metrics"))
}

#[tokio::test]
async fn a_lost_listening_connection_is_made_again_and_what_was_missed_read_from_the_change_log() {
    let app = spawn().await;
    let logged = [0.0, 0.6, 0.8];
    let unlogged = [0.8, 0.0, 0.6];
    assert!(matches(&app, &logged).await.is_empty());
    // The replica's first mark (sent at start) is heard within milliseconds.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let stored = quiet_face(&app, "Missed", &logged, true).await;
    // Not in the log: only a reload would find it.
    quiet_face(&app, "Unlogged", &unlogged, false).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(matches(&app, &logged).await.is_empty(), "nothing told the collection");

    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(killed, [true], "one listening connection");
    within(Duration::from_secs(5), "catch up after reconnecting", || async {
        matches(&app, &logged).await == ["Missed"]
    })
    .await;
    // Caught up from the log, not reloaded.
    assert!(matches(&app, &unlogged).await.iter().all(|s| s != "Unlogged"));
    assert_eq!(counter(&app, "visage_collection_catch_ups_total").await, 1.0);
    assert_eq!(counter(&app, "visage_collection_reloads_total").await, 0.0);

    // Notifications flow again.
    sqlx::query("DELETE FROM faces WHERE id = $1").bind(stored).execute(app.db.pool()).await.unwrap();
    within(Duration::from_secs(1), "delete after reconnecting", || async { matches(&app, &logged).await.is_empty() })
        .await;
}

#[tokio::test]
async fn a_replica_opens_its_port_with_every_collection_loaded() {
    let one = spawn().await;
    for i in 0..5u8 {
        let embedding = [1.0, f32::from(i), 0.5];
        let face = visage_store::NewFace {
            subject: &format!("S{i}"),
            embedding: &embedding,
            calculator: "sql",
            image: None,
            face_box: None,
        };
        one.db.store.add_face(one.recognition.id, face).await.expect("stored");
    }
    // Another replica of the same database: before any request, its collection is in memory
    // already (the port opened only after the load).
    let two = spawn_beside(&one).await;
    assert_eq!(counter(&two, "visage_collections_loaded").await, 1.0);
    assert_eq!(counter(&two, "visage_collection_faces").await, 5.0);
}
