//! The embeddings endpoints: recognition and verification of client-computed embeddings.

use serde_json::Value;

use crate::helpers::*;

/// A unit vector of `n` values along axis `i`, as JSON numbers.
fn axis(n: usize, i: usize) -> Vec<f32> {
    (0..n).map(|k| if k == i { 1.0 } else { 0.0 }).collect()
}

/// A JSON array of numbers as `f32`s.
fn floats(value: &Value) -> Vec<f32> {
    value.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number") as f32).collect()
}

/// Persons A and B enrolled from one photo each: A's image id, both stored embeddings and the
/// distance between them.
struct Pair {
    a: uuid::Uuid,
    ea: Vec<f32>,
    eb: Vec<f32>,
    distance: f64,
}

async fn enrol_a_and_b(app: &api_service::testing::TestApp) -> Pair {
    let a = enrol(app, "A", "upstream-samples/001_A.jpg").await;
    let b = enrol(app, "B", "upstream-samples/007_B.jpg").await;
    let (ea, eb) = (stored_embedding(app, a).await, stored_embedding(app, b).await);
    let distance: f64 = ea.iter().zip(&eb).map(|(x, y)| f64::from(x - y).powi(2)).sum::<f64>().sqrt();
    Pair { a, ea, eb, distance }
}

async fn post(
    app: &api_service::testing::TestApp,
    service: &visage_store::Service,
    path: &str,
    body: Value,
) -> (u16, Value) {
    call(app.client.post(app.url(path)).json(&body), service).await
}

#[tokio::test]
async fn stored_embeddings_are_found_by_their_own_values() {
    let app = spawn().await;
    let Pair { ea, eb, distance, .. } = enrol_a_and_b(&app).await;
    let c = coefficients().await;

    let request = app
        .client
        .post(app.url("/api/v1/recognition/embeddings/recognize"))
        .query(&[("prediction_count", "2")])
        .json(&json!({ "embeddings": [ea, eb] }));
    let (status, body) = call(request, &app.recognition).await;
    assert_eq!(status, 200, "{body}");
    let result = body["result"].as_array().expect("result");
    assert_eq!(result.len(), 2);
    for (entry, own, other, sent) in [(&result[0], "A", "B", &ea), (&result[1], "B", "A", &eb)] {
        assert_eq!(keys(entry), ["embedding", "similarities"]);
        assert_eq!(&floats(&entry["embedding"]), sent, "echoed");
        let similarities = &entry["similarities"];
        assert_eq!(similarities.as_array().map(Vec::len), Some(2));
        assert_eq!(keys(&similarities[0]), ["similarity", "subject"]);
        assert_eq!((&similarities[0]["subject"], &similarities[1]["subject"]), (&json!(own), &json!(other)));
        // Stored faces are searched as f16: distances are exact to about 1e-4.
        let own = similarities[0]["similarity"].as_f64().expect("similarity");
        let across = similarities[1]["similarity"].as_f64().expect("similarity");
        assert!((own - expected_similarity(c, 0.0)).abs() < 2e-5, "{own}");
        assert!((across - expected_similarity(c, distance)).abs() < 2e-3, "{across}");
    }

    // The default is the single nearest face.
    let (_, one) =
        post(&app, &app.recognition, "/api/v1/recognition/embeddings/recognize", json!({ "embeddings": [eb] })).await;
    assert_eq!(one["result"][0]["similarities"].as_array().map(Vec::len), Some(1));
    assert_eq!(subjects_of(&one), ["B"]);
}

#[tokio::test]
async fn embeddings_are_echoed_as_sent() {
    let app = spawn().await;
    let body = json!({ "embeddings": [[0.1, 1, -2.5e-3]] });
    let (status, answer) = post(&app, &app.recognition, "/api/v1/recognition/embeddings/recognize", body).await;
    assert_eq!(
        (status, answer),
        (200, json!({ "result": [{ "embedding": [0.1, 1.0, -0.0025], "similarities": [] }] }))
    );
}

#[tokio::test]
async fn embedding_recognition_errors() {
    let app = spawn().await;
    let a = enrol(&app, "A", "upstream-samples/001_A.jpg").await;
    let path = "/api/v1/recognition/embeddings/recognize";
    let empty = error("Field embeddings cannot be empty", 5);
    assert_eq!(post(&app, &app.recognition, path, json!({})).await, (400, empty.clone()));
    assert_eq!(post(&app, &app.recognition, path, json!({ "embeddings": [] })).await, (400, empty));
    assert_eq!(
        post(&app, &app.recognition, path, json!({ "embeddings": [[1.0, 2.0, 3.0]] })).await,
        (400, error("Embeddings of 3 values cannot be compared with the stored faces, which have 512 values", 0))
    );
    let zero = vec![0.0f32; 512];
    let (status, body) = post(&app, &app.recognition, path, json!({ "embeddings": [zero] })).await;
    assert_eq!((status, body["code"].clone()), (400, json!(0)), "{body}");
    let embedding = stored_embedding(&app, a).await;
    let request =
        app.client.post(app.url(path)).query(&[("prediction_count", "0")]).json(&json!({ "embeddings": [embedding] }));
    assert_eq!(
        call(request, &app.recognition).await,
        (400, error("Prediction count should be any positive number or -1", 12))
    );
    let (status, body) = post(&app, &app.recognition, path, json!({ "embeddings": "x" })).await;
    assert_eq!((status, body["code"].clone()), (400, json!(26)), "{body}");
}

#[tokio::test]
async fn embeddings_are_verified_against_a_stored_face_most_similar_first() {
    let app = spawn().await;
    let Pair { a, ea, eb, distance } = enrol_a_and_b(&app).await;
    let c = coefficients().await;

    let path = format!("/api/v1/recognition/embeddings/faces/{a}/verify");
    let (status, body) = post(&app, &app.recognition, &path, json!({ "embeddings": [eb, ea] })).await;
    assert_eq!(status, 200, "{body}");
    let result = body["result"].as_array().expect("result");
    assert_eq!(result.len(), 2, "{body}");
    assert_eq!((floats(&result[0]["embedding"]), floats(&result[1]["embedding"])), (ea.clone(), eb.clone()));
    let own = result[0]["similarity"].as_f64().expect("similarity");
    assert!((own - expected_similarity(c, 0.0)).abs() < 2e-5, "{own}");
    let across = result[1]["similarity"].as_f64().expect("similarity");
    assert!((across - expected_similarity(c, distance)).abs() < 2e-3, "{across}");

    let unknown = format!("/api/v1/recognition/embeddings/faces/{}/verify", uuid::Uuid::new_v4());
    assert_eq!(
        post(&app, &app.recognition, &unknown, json!({ "embeddings": [ea] })).await,
        (404, error("Image Id is incorrect", 44))
    );
    assert_eq!(
        post(&app, &app.recognition, &path, json!({ "embeddings": null })).await,
        (400, error("Field embeddings cannot be empty", 5))
    );
    let (status, body) = post(&app, &app.recognition, &path, json!({ "embeddings": [[1.0, 0.0]] })).await;
    assert_eq!((status, body["code"].clone()), (400, json!(0)), "{body}");
}

#[tokio::test]
async fn verification_compares_a_source_with_targets_most_similar_first() {
    let app = spawn().await;
    let c = coefficients().await;
    let path = "/api/v1/verification/embeddings/verify";
    // Lengths do not matter: both sides are normalised.
    let source = [3.0, 0.0, 0.0];
    let body = json!({ "source": source, "targets": [axis(3, 1), [2.0, 0.0, 0.0], [1.0, 1.0, 0.0]] });
    let (status, answer) = post(&app, &app.verification, path, body).await;
    assert_eq!(status, 200, "{answer}");
    let half_way = (2.0 - 2.0 * std::f64::consts::FRAC_1_SQRT_2).sqrt();
    assert_eq!(
        answer,
        json!({ "result": [
            { "embedding": [2.0, 0.0, 0.0], "similarity": expected_similarity(c, 0.0) },
            { "embedding": [1.0, 1.0, 0.0], "similarity": expected_similarity(c, half_way) },
            { "embedding": [0.0, 1.0, 0.0], "similarity": expected_similarity(c, 2f64.sqrt()) },
        ] })
    );

    assert_eq!(
        post(&app, &app.verification, path, json!({ "targets": [source] })).await,
        (400, error("Field source cannot be empty", 5))
    );
    assert_eq!(
        post(&app, &app.verification, path, json!({ "source": source, "targets": [] })).await,
        (400, error("Field targets cannot be empty", 5))
    );
    assert_eq!(
        post(&app, &app.verification, path, json!({ "source": source, "targets": [[1.0, 0.0]] })).await,
        (400, error("Embeddings of 2 values cannot be compared with embeddings of 3 values", 0))
    );
    let message = format!("Verification service with API Key {} not found", app.recognition.api_key);
    assert_eq!(
        post(&app, &app.recognition, path, json!({ "source": source, "targets": [source] })).await,
        (404, error(&message, 10))
    );
}
