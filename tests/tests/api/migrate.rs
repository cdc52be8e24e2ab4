//! `POST /migrate`: faces of an old embedder are recomputed from their images in the background;
//! meanwhile another migration is refused (27) and collection writes are blocked (32).

use std::time::{Duration, Instant};

use visage_store::NewFace;

use crate::helpers::*;

const OLD: &str = "old.Calculator";

async fn migrate(app: &api_service::testing::TestApp) -> (u16, String) {
    let response = app.client.post(app.url("/api/v1/migrate")).send().await.expect("POST /migrate");
    (response.status().as_u16(), response.text().await.expect("body"))
}

#[tokio::test]
async fn outdated_faces_are_recomputed_while_writes_wait() {
    let app = spawn().await;
    let other = spawn_beside(&app).await;
    // Faces of an older, two-value embedder, with their images: enough large photos that the
    // migration takes a while.
    let photo_a = fixture("upstream-samples/001_A.jpg");
    let photo_b = fixture("upstream-samples/007_B.jpg");
    for i in 0..8 {
        let (subject, photo) = if i == 0 { ("B", &photo_b) } else { ("A", &photo_a) };
        let face = NewFace { subject, embedding: &[1.0, 0.0], calculator: OLD, image: Some(photo), face_box: None };
        app.db.store.add_face(app.recognition.id, face).await.expect("stored");
    }
    // A face without its image cannot be recomputed.
    let orphan = NewFace { subject: "Orphan", embedding: &[0.0, 1.0], calculator: OLD, image: None, face_box: None };
    app.db.store.add_face(app.recognition.id, orphan).await.expect("stored");
    // The collection is loaded with the old embeddings; the new ones replace them as they come.
    let (status, body) = recognize_embeddings(&app, &[vec![1.0, 0.0]]).await;
    assert_eq!((status, subjects_of(&body).len()), (200, 9), "{body}");
    let (status, _) = recognize_embeddings(&other, &[vec![1.0, 0.0]]).await;
    assert_eq!(status, 200);

    assert_eq!(migrate(&app).await, (200, "Migration started".to_string()));
    let refused = |(status, body): (u16, String)| (status, serde_json::from_str::<serde_json::Value>(&body).unwrap());
    assert_eq!(refused(migrate(&app).await), (400, error("Migration already executing", 27)));
    // Another process on the same database waits for it too.
    assert_eq!(refused(migrate(&other).await), (400, error("Migration already executing", 27)));

    let blocked = (405, error("Write operations during migration aren't allowed", 32));
    assert_eq!(add_face(&app, "C", "upstream-samples/009_C.jpg").await, blocked);
    let delete_subject = app.client.delete(app.url("/api/v1/recognition/subjects/A"));
    assert_eq!(call(delete_subject, &app.recognition).await, blocked);
    let create_subject = app.client.post(app.url("/api/v1/recognition/subjects")).json(&json!({ "subject": "D" }));
    assert_eq!(call(create_subject, &app.recognition).await, blocked);
    let delete_faces = app.client.delete(app.url("/api/v1/recognition/faces")).query(&[("subject", "A")]);
    assert_eq!(call(delete_faces, &app.recognition).await, blocked);
    // Reading is fine.
    let (status, _) = call(app.client.get(app.url("/api/v1/recognition/subjects")), &app.recognition).await;
    assert_eq!(status, 200);

    // Done when writes are admitted again.
    let started = Instant::now();
    let c = loop {
        let (status, body) = add_face(&app, "C", "upstream-samples/009_C.jpg").await;
        if status == 201 {
            break body;
        }
        assert_eq!((status, body), blocked.clone());
        assert!(started.elapsed() < Duration::from_secs(180), "the migration does not end");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(c["subject"], "C");

    let calculators: Vec<(String, String, i32)> = sqlx::query_as(
        "SELECT s.name, f.calculator, f.dimension FROM faces f JOIN subjects s ON s.id = f.subject_id ORDER BY f.seq",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let current = calculators.last().expect("C").1.clone();
    assert_ne!(current, OLD);
    let expected: Vec<(String, String, i32)> = std::iter::once(("B", current.as_str(), 512))
        .chain(std::iter::repeat_n(("A", current.as_str(), 512), 7))
        .chain([("Orphan", OLD, 2), ("C", current.as_str(), 512)])
        .map(|(s, c, d)| (s.to_string(), c.to_string(), d))
        .collect();
    assert_eq!(calculators, expected);

    // Both processes recognise with the recomputed embeddings.
    for instance in [&app, &other] {
        let (_, body) = recognize(instance, "upstream-samples/008_B.jpg", &[]).await;
        assert_eq!(subjects_of(&body), ["B"], "{body}");
        let (_, body) = recognize(instance, "upstream-samples/002_A.jpg", &[]).await;
        assert_eq!(subjects_of(&body), ["A"], "{body}");
    }
    // The database stays inconsistent only through the face without an image.
    let (_, status) = json_of(app.client.get(app.url("/api/v1/consistence/status")).send().await.unwrap()).await;
    assert_eq!(status["dbIsInconsistent"], true);
}
