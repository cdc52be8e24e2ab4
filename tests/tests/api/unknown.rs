//! "Unknown" answers (the match threshold) and verification against a subject, on the sample
//! photos: persons A (001–006), B (007–008) and C (009), C never enrolled.

use serde_json::Value;

use crate::helpers::*;

/// The similarities of a face's `subjects`, in answer order.
fn similarities(face: &Value) -> Vec<f64> {
    face["subjects"].as_array().expect("subjects").iter().map(|s| s["similarity"].as_f64().unwrap()).collect()
}

#[tokio::test]
async fn a_threshold_answers_unknown_for_strangers_and_keeps_known_people() {
    let app = spawn().await;
    enrol(&app, "A", "upstream-samples/001_A.jpg").await;
    enrol(&app, "B", "upstream-samples/007_B.jpg").await;
    let all = [("prediction_count", "-1")];

    // No threshold anywhere: CompreFace's answer, the nearest faces whatever their similarity.
    let (status, stranger) = recognize(&app, "upstream-samples/009_C.jpg", &all).await;
    assert_eq!(status, 200, "{stranger}");
    let scores = similarities(&stranger["result"][0]);
    assert_eq!(scores.len(), 2, "{stranger}");
    assert!(scores.iter().all(|s| *s < 0.5), "C is like neither A nor B: {stranger}");

    // A threshold in the request leaves out whoever is below it.
    let strict = [("prediction_count", "-1"), ("similarity_threshold", "0.5")];
    let (_, stranger) = recognize(&app, "upstream-samples/009_C.jpg", &strict).await;
    assert_eq!(stranger["result"].as_array().map(Vec::len), Some(1), "the face is still reported: {stranger}");
    assert_eq!(stranger["result"][0]["subjects"], json!([]), "unknown: {stranger}");
    let (_, known) = recognize(&app, "upstream-samples/002_A.jpg", &strict).await;
    assert_eq!(subjects_of(&known), ["A"], "B is left out, A stays: {known}");
    assert!(similarities(&known["result"][0])[0] >= 0.5);

    // The service's threshold applies when the request gives none; the request's overrides it.
    app.db.store.set_match_threshold(app.recognition.id, Some(0.5)).await.unwrap();
    let (_, stranger) = recognize(&app, "upstream-samples/009_C.jpg", &all).await;
    assert_eq!(stranger["result"][0]["subjects"], json!([]), "{stranger}");
    let lenient = [("prediction_count", "-1"), ("similarity_threshold", "0")];
    let (_, stranger) = recognize(&app, "upstream-samples/009_C.jpg", &lenient).await;
    assert_eq!(similarities(&stranger["result"][0]).len(), 2, "{stranger}");
    let (_, group) = recognize(&app, "upstream-samples/000_5.jpg", &all).await;
    let faces = group["result"].as_array().expect("faces");
    assert_eq!(faces.len(), 5, "{group}");
    assert!(faces.iter().all(|f| f["subjects"] == json!([])), "nobody in the group photo is enrolled: {group}");

    // The embeddings endpoint answers the same way.
    let a = stored_embedding(&app, enrol(&app, "A", "upstream-samples/003_A.jpg").await).await;
    let (status, answer) = recognize_embeddings(&app, &[a]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(subjects_of(&answer), ["A", "A"], "B is left out: {answer}");

    for bad in ["1.5", "-0.2", "high"] {
        let (status, body) = recognize(&app, "upstream-samples/002_A.jpg", &[("similarity_threshold", bad)]).await;
        assert_eq!((status, body["code"].as_u64()), (400, Some(26)), "{bad}: {body}");
    }
}

#[tokio::test]
async fn a_face_is_verified_against_every_stored_face_of_a_subject() {
    let app = spawn().await;
    let a1 = enrol(&app, "A", "upstream-samples/001_A.jpg").await;
    let a3 = enrol(&app, "A", "upstream-samples/003_A.jpg").await;
    enrol(&app, "B", "upstream-samples/007_B.jpg").await;
    let verify = |subject: &'static str, image: &'static str, query: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let path = format!("/api/v1/recognition/subjects/{subject}/verify");
        async move { post_image(app, &app.recognition, &path, &query, image).await }
    };

    let (status, same) = verify("a", "upstream-samples/002_A.jpg", vec![]).await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(keys(&same), ["result"]);
    let face = &same["result"][0];
    assert_eq!(
        keys(face),
        ["box", "faces", "mean_similarity", "similarity", "subject", "threshold", "verified"],
        "{same}"
    );
    assert_eq!(face["subject"], "A", "the stored name, found in any letter case");
    let stored = face["faces"].as_array().expect("faces");
    let ids: Vec<&str> = stored.iter().map(|f| f["image_id"].as_str().unwrap()).collect();
    let mut expected = [a1.to_string(), a3.to_string()];
    expected.sort();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "A's two faces, B's not: {same}");
    let scores: Vec<f64> = stored.iter().map(|f| f["similarity"].as_f64().unwrap()).collect();
    assert!(scores[0] >= scores[1], "most similar first: {same}");
    assert_eq!(face["similarity"].as_f64(), Some(scores[0]));
    let mean = ((scores[0] + scores[1]) / 2.0 * 1e5).round() / 1e5;
    assert!((face["mean_similarity"].as_f64().unwrap() - mean).abs() < 2e-5, "{same}");
    assert_eq!(face["threshold"].as_f64(), Some(visage_common::similarity::DEFAULT_MATCH_THRESHOLD));
    assert_eq!(face["verified"], true, "{same}");

    // B's photo against A: not verified; with a threshold of 1 not even A is.
    let (_, other) = verify("A", "upstream-samples/008_B.jpg", vec![]).await;
    assert_eq!(
        (other["result"][0]["subject"].as_str(), other["result"][0]["verified"].as_bool()),
        (Some("A"), Some(false))
    );
    assert!(other["result"][0]["similarity"].as_f64().unwrap() < scores[1], "{other}");
    let (_, strict) = verify("A", "upstream-samples/002_A.jpg", vec![("similarity_threshold", "1")]).await;
    assert_eq!(
        (strict["result"][0]["verified"].as_bool(), strict["result"][0]["threshold"].as_f64()),
        (Some(false), Some(1.0))
    );
    // The service's threshold decides when the request gives none.
    app.db.store.set_match_threshold(app.recognition.id, Some(0.99999)).await.unwrap();
    let (_, service) = verify("A", "upstream-samples/002_A.jpg", vec![]).await;
    assert_eq!(service["result"][0]["threshold"].as_f64(), Some(0.99999), "{service}");
    assert_eq!(service["result"][0]["verified"], false, "{service}");
    app.db.store.set_match_threshold(app.recognition.id, None).await.unwrap();

    // One entry per face of the photo, with the plugins asked for.
    let query = vec![("face_plugins", "landmarks"), ("status", "true")];
    let (_, group) = verify("A", "upstream-samples/000_5.jpg", query).await;
    assert_eq!(group["result"].as_array().map(Vec::len), Some(5), "{group}");
    assert_eq!(keys(&group), ["plugins_versions", "result"]);
    assert!(group["result"].as_array().unwrap().iter().all(|f| f["verified"] == false), "{group}");
    assert!(group["result"][0].get("landmarks").is_some());

    // Base64, as every image endpoint.
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(fixture("upstream-samples/004_A.jpg"));
    let request = app.client.post(app.url("/api/v1/recognition/subjects/A/verify")).json(&json!({ "file": encoded }));
    let (status, body) = call(request, &app.recognition).await;
    assert_eq!((status, body["result"][0]["verified"].as_bool()), (200, Some(true)), "{body}");

    // Errors: unknown subject (before any inference), a subject without faces, no face.
    assert_eq!(
        verify("Nobody", "upstream-samples/002_A.jpg", vec![]).await,
        (404, error("Subject Nobody not found", 42))
    );
    let request = app.client.post(app.url("/api/v1/recognition/subjects")).json(&json!({"subject": "Empty"}));
    assert_eq!(call(request, &app.recognition).await.0, 201);
    assert_eq!(
        verify("Empty", "upstream-samples/002_A.jpg", vec![]).await,
        (404, error("Subject Empty has no stored faces", 44))
    );
    assert_eq!(
        verify("A", "upstream-samples/017_0.jpg", vec![]).await,
        (400, error("No face is found in the given image", 28))
    );
    // Another kind of key.
    let path = "/api/v1/recognition/subjects/A/verify";
    let (status, body) = post_image(&app, &app.detection, path, &[], "upstream-samples/002_A.jpg").await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(10)), "{body}");
}
