//! `POST /detection/detect` on the sample photos.

use serde_json::Value;

use crate::helpers::*;

async fn detect(app: &api_service::testing::TestApp, image: &str, query: &[(&str, &str)]) -> (u16, Value) {
    post_image(app, &app.detection, "/api/v1/detection/detect", query, image).await
}

/// The annotated nose positions of a sample photo.
fn noses(image: &str) -> Vec<(i64, i64)> {
    let annotations: Value =
        serde_json::from_slice(&fixture("upstream-samples/annotations.json")).expect("annotations.json");
    annotations["images"][image]["noses"]
        .as_array()
        .expect("noses")
        .iter()
        .map(|n| (n[0].as_i64().expect("x"), n[1].as_i64().expect("y")))
        .collect()
}

#[tokio::test]
async fn every_face_is_found_with_only_its_box() {
    let app = spawn().await;
    let (status, body) = detect(&app, "upstream-samples/000_5.jpg", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), ["result"]);
    let faces = body["result"].as_array().expect("result");
    let mut noses = noses("000_5.jpg");
    assert_eq!(faces.len(), noses.len());
    for face in faces {
        assert_eq!(keys(face), ["box"]);
        let b = &face["box"];
        let inside = |(x, y): &(i64, i64)| {
            b["x_min"].as_i64() <= Some(*x)
                && Some(*x) <= b["x_max"].as_i64()
                && b["y_min"].as_i64() <= Some(*y)
                && Some(*y) <= b["y_max"].as_i64()
        };
        let nose = noses.iter().position(inside).unwrap_or_else(|| panic!("no nose in {b}"));
        noses.remove(nose);
    }
}

#[tokio::test]
async fn plugins_and_status_add_their_fields() {
    let app = spawn().await;
    let query = [("face_plugins", "calculator,landmarks"), ("status", "true"), ("limit", "2")];
    let (status, body) = detect(&app, "upstream-samples/000_5.jpg", &query).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), ["plugins_versions", "result"]);
    assert_eq!(keys(&body["plugins_versions"]), ["calculator", "detector", "landmarks"]);
    let faces = body["result"].as_array().expect("result");
    assert_eq!(faces.len(), 2);
    for face in faces {
        assert_eq!(keys(face), ["box", "embedding", "execution_time", "landmarks"]);
        assert_eq!(face["embedding"].as_array().map(Vec::len), Some(512));
        assert_eq!(face["landmarks"].as_array().map(Vec::len), Some(5));
    }
    let (_, landmarks) = detect(&app, "upstream-samples/007_B.jpg", &[("face_plugins", "landmarks")]).await;
    assert_eq!(keys(&landmarks["result"][0]), ["box", "landmarks"], "no embedding unless asked for");
}

#[tokio::test]
async fn detection_errors() {
    let app = spawn().await;
    assert_eq!(
        detect(&app, "upstream-samples/017_0.jpg", &[]).await,
        (400, error("No face is found in the given image", 28))
    );
    assert_eq!(
        detect(&app, "upstream-samples/007_B.jpg", &[("limit", "-3")]).await,
        (400, error("Limit should be equal or greater than 0; ", 26))
    );
    let wrong_key =
        post_image(&app, &app.recognition, "/api/v1/detection/detect", &[], "upstream-samples/007_B.jpg").await;
    let message = format!("Detection service with API Key {} not found", app.recognition.api_key);
    assert_eq!(wrong_key, (404, error(&message, 10)));
}
