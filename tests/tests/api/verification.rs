//! `POST /verification/verify`: one source face against every face of a target image.

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::*;

fn pair(source: &str, target: &str) -> Form {
    let part = |path: &str| Part::bytes(fixture(path)).file_name(path.rsplit('/').next().unwrap_or(path).to_string());
    Form::new().part("source_image", part(source)).part("target_image", part(target))
}

async fn verify(app: &api_service::testing::TestApp, form: Form, query: &[(&str, &str)]) -> (u16, Value) {
    let request = app.client.post(app.url("/api/v1/verification/verify")).query(query).multipart(form);
    call(request, &app.verification).await
}

fn match_similarities(body: &Value) -> Vec<f64> {
    body["result"][0]["face_matches"]
        .as_array()
        .expect("face_matches")
        .iter()
        .map(|m| m["similarity"].as_f64().expect("similarity"))
        .collect()
}

#[tokio::test]
async fn the_same_person_is_more_similar_than_another() {
    let app = spawn().await;
    let (status, same) = verify(&app, pair("upstream-samples/001_A.jpg", "upstream-samples/002_A.jpg"), &[]).await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(keys(&same), ["result"]);
    assert_eq!(same["result"].as_array().map(Vec::len), Some(1));
    assert_eq!(keys(&same["result"][0]), ["face_matches", "source_image_face"]);
    assert_eq!(keys(&same["result"][0]["source_image_face"]), ["box"]);
    assert_eq!(keys(&same["result"][0]["face_matches"][0]), ["box", "similarity"]);
    let (_, other) = verify(&app, pair("upstream-samples/001_A.jpg", "upstream-samples/007_B.jpg"), &[]).await;
    let (same, other) = (match_similarities(&same), match_similarities(&other));
    assert_eq!((same.len(), other.len()), (1, 1));
    assert!(same[0] > other[0], "A–A {same:?}, A–B {other:?}");
}

#[tokio::test]
async fn every_target_face_is_matched_in_detection_order() {
    let app = spawn().await;
    let query = [("status", "true"), ("face_plugins", "calculator")];
    let (status, body) = verify(&app, pair("upstream-samples/007_B.jpg", "upstream-samples/000_5.jpg"), &query).await;
    assert_eq!(status, 200, "{body}");
    // The versions sit inside the result element.
    assert_eq!(keys(&body), ["result"]);
    assert_eq!(keys(&body["result"][0]), ["face_matches", "plugins_versions", "source_image_face"]);
    assert_eq!(keys(&body["result"][0]["plugins_versions"]), ["calculator", "detector"]);
    let matches = body["result"][0]["face_matches"].as_array().expect("face_matches");
    assert_eq!(matches.len(), 5);
    let area = |m: &Value| {
        let b = &m["box"];
        (b["x_max"].as_i64().unwrap() - b["x_min"].as_i64().unwrap())
            * (b["y_max"].as_i64().unwrap() - b["y_min"].as_i64().unwrap())
    };
    assert!(matches.windows(2).all(|w| area(&w[0]) >= area(&w[1])), "target faces in detection order");
    for m in matches {
        assert_eq!(keys(m), ["box", "embedding", "execution_time", "similarity"]);
    }
    assert_eq!(keys(&body["result"][0]["source_image_face"]), ["box", "embedding", "execution_time"]);
}

#[tokio::test]
async fn base64_json_images_work_too() {
    use base64::Engine as _;
    let app = spawn().await;
    let encode = |path: &str| base64::engine::general_purpose::STANDARD.encode(fixture(path));
    let body = json!({ "source_image": encode("upstream-samples/007_B.jpg"), "target_image": encode("upstream-samples/008_B.jpg") });
    let request = app.client.post(app.url("/api/v1/verification/verify")).json(&body);
    let (status, answer) = call(request, &app.verification).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(match_similarities(&answer).len(), 1);

    let body = json!({ "source_image": encode("upstream-samples/007_B.jpg") });
    let request = app.client.post(app.url("/api/v1/verification/verify")).json(&body);
    assert_eq!(call(request, &app.verification).await, (400, error("Field targetImageBase64 cannot be empty", 5)));
}

#[tokio::test]
async fn the_source_must_show_exactly_one_face() {
    let app = spawn().await;
    let one = "upstream-samples/007_B.jpg";
    assert_eq!(
        verify(&app, pair("upstream-samples/010_2.jpg", one), &[]).await,
        (400, error("More than one face in the source image", 31))
    );
    // With limit=1 core keeps only the largest face.
    let (status, body) = verify(&app, pair("upstream-samples/010_2.jpg", one), &[("limit", "1")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        verify(&app, pair("upstream-samples/017_0.jpg", one), &[]).await,
        (400, error("No face is found in the given image", 28))
    );
    assert_eq!(
        verify(&app, pair(one, "upstream-samples/017_0.jpg"), &[]).await,
        (400, error("No face is found in the given image", 28))
    );
    let source_only = Form::new().part("source_image", Part::bytes(fixture(one)).file_name("s.jpg"));
    assert_eq!(verify(&app, source_only, &[]).await, (400, error("Required part target_image is missing", 34)));
}
