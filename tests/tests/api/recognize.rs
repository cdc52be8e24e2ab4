//! `POST /recognition/recognize` and `POST /recognition/faces/{image_id}/verify` on the sample
//! photos: persons A (001–006), B (007–008) and C (009).

use serde_json::Value;

use crate::helpers::*;

/// Enrols A's 001, B's 007 and C's 009; returns their image ids.
async fn enrol_abc(app: &api_service::testing::TestApp) -> [uuid::Uuid; 3] {
    [
        enrol(app, "A", "upstream-samples/001_A.jpg").await,
        enrol(app, "B", "upstream-samples/007_B.jpg").await,
        enrol(app, "C", "upstream-samples/009_C.jpg").await,
    ]
}

/// The similarities of a face's `subjects`, in answer order.
fn similarities(face: &Value) -> Vec<f64> {
    face["subjects"]
        .as_array()
        .expect("subjects")
        .iter()
        .map(|s| s["similarity"].as_f64().expect("similarity"))
        .collect()
}

fn is_rounded_to_5(x: f64) -> bool {
    ((x * 1e5).round() / 1e5 - x).abs() < 1e-12
}

#[tokio::test]
async fn the_sample_people_are_recognised() {
    let app = spawn().await;
    enrol_abc(&app).await;
    for (image, person) in
        [("002_A", "A"), ("003_A", "A"), ("004_A", "A"), ("005_A", "A"), ("006_A", "A"), ("008_B", "B")]
    {
        let (status, body) = recognize(&app, &format!("upstream-samples/{image}.jpg"), &[]).await;
        assert_eq!(status, 200, "{image}: {body}");
        assert_eq!(body["result"].as_array().map(Vec::len), Some(1), "{image}: {body}");
        assert_eq!(subjects_of(&body), [person], "{image}: {body}");
    }
}

#[tokio::test]
async fn prediction_count_lists_the_nearest_faces_most_similar_first() {
    let app = spawn().await;
    enrol_abc(&app).await;
    enrol(&app, "A", "upstream-samples/003_A.jpg").await;

    let (_, one) = recognize(&app, "upstream-samples/002_A.jpg", &[]).await;
    assert_eq!(subjects_of(&one), ["A"]);
    let (_, three) = recognize(&app, "upstream-samples/002_A.jpg", &[("prediction_count", "3")]).await;
    let names = subjects_of(&three);
    assert_eq!(names.len(), 3, "{three}");
    assert_eq!(&names[..2], ["A", "A"], "both faces of A come first: {three}");
    let (_, all) = recognize(&app, "upstream-samples/002_A.jpg", &[("prediction_count", "-1")]).await;
    let mut names = subjects_of(&all);
    assert_eq!(&names[..2], ["A", "A"], "{all}");
    names.sort();
    assert_eq!(names, ["A", "A", "B", "C"], "-1 lists every stored face: {all}");

    let sims = similarities(&all["result"][0]);
    assert!(sims.windows(2).all(|w| w[0] >= w[1]), "most similar first: {sims:?}");
    assert!(sims.iter().all(|s| (0.0..=1.0).contains(s) && is_rounded_to_5(*s)), "{sims:?}");
    // The best match is the same whatever the count.
    assert_eq!(one["result"][0]["subjects"][0], all["result"][0]["subjects"][0]);
}

#[tokio::test]
async fn unknown_faces_score_lower_than_known_ones() {
    let app = spawn().await;
    enrol_abc(&app).await;
    let mut known = Vec::new();
    for image in ["002_A", "004_A", "006_A", "008_B"] {
        let (_, body) = recognize(&app, &format!("upstream-samples/{image}.jpg"), &[]).await;
        known.push(similarities(&body["result"][0])[0]);
    }
    // Five strangers.
    let (status, strangers) = recognize(&app, "upstream-samples/000_5.jpg", &[]).await;
    assert_eq!(status, 200, "{strangers}");
    let faces = strangers["result"].as_array().expect("result");
    assert_eq!(faces.len(), 5);
    let best_known_floor = known.iter().copied().fold(f64::INFINITY, f64::min);
    for face in faces {
        let best_stranger = similarities(face)[0];
        assert!(best_stranger < best_known_floor, "stranger {best_stranger} vs known {known:?}");
    }
}

#[tokio::test]
async fn answers_show_what_was_asked_for() {
    let app = spawn().await;
    let stored = enrol(&app, "B", "upstream-samples/007_B.jpg").await;

    let (status, plain) = recognize(&app, "upstream-samples/008_B.jpg", &[]).await;
    assert_eq!(status, 200, "{plain}");
    assert_eq!(keys(&plain), ["result"]);
    let face = &plain["result"][0];
    assert_eq!(keys(face), ["box", "subjects"]);
    assert_eq!(keys(&face["box"]), ["probability", "x_max", "x_min", "y_max", "y_min"]);
    // CompreFace's two fields, and the matched stored face (ours).
    assert_eq!(keys(&face["subjects"][0]), ["image_id", "similarity", "subject"]);
    assert_eq!(face["subjects"][0]["image_id"], stored.to_string());
    assert!(is_rounded_to_5(face["box"]["probability"].as_f64().unwrap()));

    let query = [("face_plugins", "calculator,age"), ("status", "true")];
    let (status, full) = recognize(&app, "upstream-samples/008_B.jpg", &query).await;
    assert_eq!(status, 200, "{full}");
    assert_eq!(keys(&full), ["plugins_versions", "result"]);
    assert_eq!(keys(&full["plugins_versions"]), ["age", "calculator", "detector"]);
    let face = &full["result"][0];
    assert_eq!(keys(face), ["age", "box", "embedding", "execution_time", "subjects"]);
    assert_eq!(face["embedding"].as_array().map(Vec::len), Some(512));
    assert_eq!(keys(&face["execution_time"]), ["age", "calculator", "detector"]);
    assert_eq!(face["subjects"], plain["result"][0]["subjects"]);

    // Age without the calculator: core computes the embedding, the answer leaves it out.
    let (_, aged) = recognize(&app, "upstream-samples/008_B.jpg", &[("face_plugins", "age")]).await;
    assert_eq!(keys(&aged["result"][0]), ["age", "box", "subjects"]);
}

#[tokio::test]
async fn an_empty_collection_matches_nobody() {
    let app = spawn().await;
    let (status, body) = recognize(&app, "upstream-samples/008_B.jpg", &[("prediction_count", "-1")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"][0]["subjects"], json!([]));
}

#[tokio::test]
async fn limit_keeps_the_largest_faces_and_detect_faces_false_takes_the_whole_image() {
    let app = spawn().await;
    let area = |face: &Value| {
        let b = &face["box"];
        (b["x_max"].as_i64().unwrap() - b["x_min"].as_i64().unwrap())
            * (b["y_max"].as_i64().unwrap() - b["y_min"].as_i64().unwrap())
    };
    let (_, all) = recognize(&app, "upstream-samples/000_5.jpg", &[]).await;
    let all = all["result"].as_array().expect("result").clone();
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| area(&w[0]) >= area(&w[1])), "largest first");
    let (_, two) = recognize(&app, "upstream-samples/000_5.jpg", &[("limit", "2")]).await;
    let two = two["result"].as_array().expect("result");
    assert_eq!(two.len(), 2);
    assert_eq!((&two[0]["box"], &two[1]["box"]), (&all[0]["box"], &all[1]["box"]));

    let (status, whole) = recognize(&app, "upstream-samples/000_5.jpg", &[("detect_faces", "false")]).await;
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["result"].as_array().map(Vec::len), Some(1), "{whole}");
}

#[tokio::test]
async fn base64_images_are_recognised_too() {
    use base64::Engine as _;
    let app = spawn().await;
    enrol(&app, "B", "upstream-samples/007_B.jpg").await;
    let encoded = base64::engine::general_purpose::STANDARD.encode(fixture("upstream-samples/008_B.jpg"));
    let request = app.client.post(app.url("/api/v1/recognition/recognize")).json(&json!({ "file": encoded }));
    let (status, body) = call(request, &app.recognition).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(subjects_of(&body), ["B"]);

    let request = app.client.post(app.url("/api/v1/recognition/recognize")).json(&json!({ "image": "x" }));
    assert_eq!(call(request, &app.recognition).await, (400, error("Field content cannot be empty", 5)));
}

#[tokio::test]
async fn recognition_errors() {
    let app = spawn().await;
    let image = "upstream-samples/008_B.jpg";
    for count in ["0", "-2"] {
        assert_eq!(
            recognize(&app, image, &[("prediction_count", count)]).await,
            (400, error("Prediction count should be any positive number or -1", 12)),
            "prediction_count={count}"
        );
    }
    assert_eq!(
        recognize(&app, image, &[("limit", "-1")]).await,
        (400, error("Limit should be equal or greater than 0; ", 26))
    );
    assert_eq!(
        recognize(&app, "upstream-samples/017_0.jpg", &[]).await,
        (400, error("No face is found in the given image", 28))
    );
    let (status, body) = recognize(&app, image, &[("status", "maybe")]).await;
    assert_eq!((status, body["code"].clone()), (400, json!(26)), "{body}");

    let no_file = reqwest::multipart::Form::new().text("limit", "1");
    let request = app.client.post(app.url("/api/v1/recognition/recognize")).multipart(no_file);
    assert_eq!(call(request, &app.recognition).await, (400, error("Required part file is missing", 34)));

    let wrong_key = post_image(&app, &app.detection, "/api/v1/recognition/recognize", &[], image).await;
    let message = format!("Recognition service with API Key {} not found", app.detection.api_key);
    assert_eq!(wrong_key, (404, error(&message, 10)));
}

#[tokio::test]
async fn recognize_detect_and_verify_requests_are_counted_per_service_and_day() {
    let app = spawn().await;
    recognize(&app, "upstream-samples/008_B.jpg", &[]).await;
    recognize(&app, "upstream-samples/017_0.jpg", &[]).await;
    post_image(&app, &app.detection, "/api/v1/detection/detect", &[], "upstream-samples/008_B.jpg").await;
    recognize_embeddings(&app, &[vec![1.0, 0.0]]).await;

    let counts = || async {
        sqlx::query_as::<_, (uuid::Uuid, i64)>(
            "SELECT model_id, request_count FROM model_statistics WHERE day = current_date ORDER BY request_count DESC",
        )
        .fetch_all(app.db.pool())
        .await
        .expect("statistics")
    };
    // Counting does not hold the answers up: give it a moment.
    let expected = vec![(app.recognition.id, 2), (app.detection.id, 1)];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while counts().await != expected && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(counts().await, expected);
}

#[tokio::test]
async fn a_face_is_verified_against_one_stored_face() {
    let app = spawn().await;
    let [a, _, _] = enrol_abc(&app).await;
    let verify = |image: &'static str, id: String, query: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            post_image(app, &app.recognition, &format!("/api/v1/recognition/faces/{id}/verify"), &query, image).await
        }
    };

    let (status, same) = verify("upstream-samples/002_A.jpg", a.to_string(), vec![]).await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(keys(&same), ["result"]);
    assert_eq!(keys(&same["result"][0]), ["box", "similarity", "subject"]);
    assert_eq!(same["result"][0]["subject"], "A");
    let (_, other) = verify("upstream-samples/008_B.jpg", a.to_string(), vec![]).await;
    assert_eq!(other["result"][0]["subject"], "A", "the stored face's subject");
    let (same, other) =
        (same["result"][0]["similarity"].as_f64().unwrap(), other["result"][0]["similarity"].as_f64().unwrap());
    assert!(same > other, "A vs A {same}, A vs B {other}");

    // One entry per face found, with what was asked for.
    let query = vec![("face_plugins", "landmarks"), ("status", "true")];
    let (_, group) = verify("upstream-samples/000_5.jpg", a.to_string(), query).await;
    assert_eq!(group["result"].as_array().map(Vec::len), Some(5));
    assert_eq!(keys(&group), ["plugins_versions", "result"]);
    assert_eq!(keys(&group["result"][0]), ["box", "execution_time", "landmarks", "similarity", "subject"]);

    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        verify("upstream-samples/002_A.jpg", unknown.clone(), vec![]).await,
        (404, error("Image Id is incorrect", 44))
    );
    assert_eq!(
        verify("upstream-samples/017_0.jpg", unknown, vec![]).await,
        (400, error("No face is found in the given image", 28)),
        "the image is looked at first"
    );
    assert_eq!(
        verify("upstream-samples/002_A.jpg", "nope".to_string(), vec![]).await,
        (400, error("Parameter 'image_id' must be a UUID, got 'nope'", 26))
    );
}
