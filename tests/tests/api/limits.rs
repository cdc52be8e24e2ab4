//! Bounded work per call: one recognition cannot make api-service build an answer of unbounded
//! size (MAX_EMBEDDINGS embeddings per call, MAX_MATCHES matches per answer; over either: 400
//! code 50, before any search), on a collection written in bulk.

use uuid::Uuid;

use crate::helpers::*;

/// Faces in the bulk-written collection: one more than half of MAX_MATCHES' default, so that one
/// embedding with `prediction_count=-1` fits and two do not.
const FACES: i64 = 5001;

/// Writes FACES faces of one subject with copies of `embedding` (as the bulk import would, in one
/// statement), computed by core's current embedder.
async fn bulk_collection(app: &api_service::testing::TestApp, embedding: &[f32]) {
    let pool = app.db.pool();
    let calculator: String = sqlx::query_scalar("SELECT calculator FROM faces LIMIT 1")
        .fetch_optional(pool)
        .await
        .expect("calculator")
        .unwrap_or_else(|| "arcface".to_string());
    let subject: Uuid = sqlx::query_scalar("INSERT INTO subjects (model_id, name) VALUES ($1, 'Crowd') RETURNING id")
        .bind(app.recognition.id)
        .fetch_one(pool)
        .await
        .expect("subject");
    let bytes: Vec<u8> = embedding.iter().flat_map(|x| x.to_le_bytes()).collect();
    sqlx::query(
        "INSERT INTO faces (model_id, subject_id, embedding, dimension, calculator) \
         SELECT $1, $2, $3, $4, $5 FROM generate_series(1, $6)",
    )
    .bind(app.recognition.id)
    .bind(subject)
    .bind(&bytes)
    .bind(i32::try_from(embedding.len()).expect("dimension"))
    .bind(calculator)
    .bind(FACES)
    .execute(pool)
    .await
    .expect("bulk faces");
}

async fn recognize_embeddings_with(
    app: &api_service::testing::TestApp,
    embeddings: &[Vec<f32>],
    prediction_count: &str,
) -> (u16, serde_json::Value) {
    let request = app
        .client
        .post(app.url("/api/v1/recognition/embeddings/recognize"))
        .query(&[("prediction_count", prediction_count), ("similarity_threshold", "0")])
        .json(&json!({ "embeddings": embeddings }));
    call(request, &app.recognition).await
}

#[tokio::test]
async fn recognitions_answer_at_most_max_matches_and_take_at_most_max_embeddings() {
    let app = spawn().await;
    // One real face first: its embedding fills the collection.
    let id = enrol(&app, "A", "upstream-samples/001_A.jpg").await;
    let embedding = stored_embedding(&app, id).await;
    bulk_collection(&app, &embedding).await;

    // 3000 embeddings: refused by count, whatever their length.
    let many = vec![vec![0.5f32; 4]; 3000];
    let (status, body) = recognize_embeddings_with(&app, &many, "-1").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body, error("The call has 3000 embeddings; one call takes at most 1000 (MAX_EMBEDDINGS)", 50));

    // A prediction_count above what one answer holds.
    let (status, body) = recognize_embeddings_with(&app, std::slice::from_ref(&embedding), "10001").await;
    assert_eq!(
        (status, body),
        (400, error("prediction_count is 10001; one answer holds at most 10000 matches (MAX_MATCHES)", 50))
    );

    // -1 keeps its meaning up to the cap: one embedding gets every face (once the collection in
    // memory has taken the bulk write's notification) ...
    let mut found = 0;
    for _ in 0..100 {
        let (status, body) = recognize_embeddings_with(&app, std::slice::from_ref(&embedding), "-1").await;
        assert_eq!(status, 200, "{body}");
        found = body["result"][0]["similarities"].as_array().map_or(0, Vec::len);
        if found == usize::try_from(FACES).unwrap() + 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(found, usize::try_from(FACES).unwrap() + 1);
    // ... two would answer 10 004 matches.
    let (status, body) = recognize_embeddings_with(&app, &[embedding.clone(), embedding.clone()], "-1").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], 50);
    assert_eq!(
        body["message"],
        "This search would answer 10004 matches (2 faces or embeddings, 5002 each); one answer holds at most 10000 \
         (MAX_MATCHES): ask for a smaller prediction_count or fewer faces"
    );
    // Embedding verification and comparison take at most MAX_EMBEDDINGS too.
    let (status, body) = call(
        app.client
            .post(app.url(&format!("/api/v1/recognition/embeddings/faces/{id}/verify")))
            .json(&json!({"embeddings": many})),
        &app.recognition,
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(50)), "{body}");
    let (status, body) = call(
        app.client
            .post(app.url("/api/v1/verification/embeddings/verify"))
            .json(&json!({"source": [0.5, 0.5, 0.5, 0.5], "targets": many})),
        &app.verification,
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(50)), "{body}");

    // A crowd photo with every face (limit=0) and every match: 5 faces x 5002.
    let (status, body) =
        recognize(&app, "upstream-samples/000_5.jpg", &[("limit", "0"), ("prediction_count", "-1")]).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(50)), "{body}");
    // One match per face is fine.
    let (status, body) = recognize(&app, "upstream-samples/000_5.jpg", &[("limit", "0")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"].as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn the_caps_are_settings() {
    let app = spawn_with(|s| {
        s.max_embeddings = 2;
        s.max_matches = 3;
    })
    .await;
    let id = enrol(&app, "A", "upstream-samples/001_A.jpg").await;
    let embedding = stored_embedding(&app, id).await;
    let (status, body) = recognize_embeddings_with(&app, &vec![embedding.clone(); 3], "1").await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(50)), "{body}");
    let (status, body) = recognize_embeddings_with(&app, &vec![embedding.clone(); 2], "4").await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(50)), "{body}");
    // prediction_count 3 on a collection of one face answers one match each.
    let (status, body) = recognize_embeddings_with(&app, &vec![embedding; 2], "3").await;
    assert_eq!(status, 200, "{body}");
}
