//! `POST /recognition/faces` with a real core-service.

use base64::Engine as _;
use uuid::Uuid;

use crate::helpers::*;

/// Asserts a 201 for `subject` and returns the new image id.
fn created(answer: (u16, serde_json::Value), subject: &str) -> Uuid {
    assert_eq!(answer.0, 201, "{}", answer.1);
    assert_eq!(answer.1["subject"], subject);
    assert_eq!(answer.1.as_object().map(|o| o.len()), Some(2), "{}", answer.1);
    Uuid::parse_str(answer.1["image_id"].as_str().expect("image_id")).expect("image_id is a UUID")
}

#[tokio::test]
async fn a_face_is_stored_with_its_normalised_embedding_and_image() {
    let app = spawn().await;
    let id = created(add_face(&app, "Person B", "upstream-samples/007_B.jpg").await, "Person B");

    let face = app.db.store.get_face(app.recognition.id, id).await.unwrap().expect("stored");
    assert_eq!((face.subject.as_str(), face.embedding.len()), ("Person B", 512));
    let norm: f32 = face.embedding.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    let status = reqwest::get(format!("{}/status", integration_tests::core::url())).await.unwrap();
    let status: serde_json::Value = status.json().await.unwrap();
    assert_eq!(face.calculator, status["calculator_version"].as_str().unwrap());

    let image = app
        .client
        .get(app.url(&format!("/api/v1/recognition/faces/{id}/img")))
        .header("x-api-key", app.recognition.api_key.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(image.headers()["content-type"], "image/jpeg");
    assert_eq!(image.bytes().await.unwrap(), fixture("upstream-samples/007_B.jpg"));

    // The same person again, spelled otherwise: the existing subject, the client's spelling.
    let again = created(add_face(&app, "PERSON B", "upstream-samples/008_B.jpg").await, "PERSON B");
    let listed = call(app.client.get(app.url("/api/v1/recognition/faces")), &app.recognition).await.1;
    assert_eq!(
        listed["faces"],
        json!([{ "image_id": id, "subject": "Person B" }, { "image_id": again, "subject": "Person B" }])
    );
    assert_eq!(count(&app, "subjects").await, 1);
}

#[tokio::test]
async fn any_subject_text_is_data() {
    let app = spawn().await;
    let name = "Robert'); DROP TABLE subjects;-- \"王\" %_";
    created(add_face(&app, name, "upstream-samples/009_C.jpg").await, name);
    let subjects = call(app.client.get(app.url("/api/v1/recognition/subjects")), &app.recognition).await;
    assert_eq!(subjects, (200, json!({ "subjects": [name] })));
}

#[tokio::test]
async fn base64_json_uploads_work_like_multipart() {
    let app = spawn().await;
    let encoded = base64::engine::general_purpose::STANDARD.encode(fixture("image-formats/einstein.png"));
    let request = app
        .client
        .post(app.url("/api/v1/recognition/faces"))
        .query(&[("subject", "Einstein"), ("det_prob_threshold", "0.5")])
        .json(&json!({ "file": encoded, "ignored": true }));
    let id = created(call(request, &app.recognition).await, "Einstein");
    let stored = app.db.store.face_image(app.recognition.id, id).await.unwrap();
    assert_eq!(stored, Some(Some(fixture("image-formats/einstein.png"))));
}

#[tokio::test]
async fn every_image_format_is_accepted() {
    let app = spawn().await;
    for format in ["bmp", "gif", "ico", "jpeg", "png", "tiff", "webp"] {
        let answer = add_face(&app, "Einstein", &format!("image-formats/einstein.{format}")).await;
        assert_eq!(answer.0, 201, "{format}: {}", answer.1);
    }
    assert_eq!(count(&app, "faces").await, 7);
}

#[tokio::test]
async fn exactly_one_face_is_required() {
    let app = spawn().await;
    assert_eq!(
        add_face(&app, "Nobody", "upstream-samples/017_0.jpg").await,
        (400, error("No face is found in the given image", 28))
    );
    assert_eq!(
        add_face(&app, "Two", "upstream-samples/010_2.jpg").await,
        (400, error("More than one face in the source image", 31))
    );
    assert_eq!((count(&app, "subjects").await, count(&app, "faces").await), (0, 0));
}

#[tokio::test]
async fn a_corrupt_image_is_a_clear_400() {
    let app = spawn().await;
    let (status, body) = add_face(&app, "Broken", "image-formats/corrupted.png").await;
    assert_eq!((status, body["code"].clone()), (400, json!(28)), "{body}");
    assert_ne!(body["message"], "No face is found in the given image", "the message should say what is wrong");
    assert_eq!(count(&app, "faces").await, 0);
}

#[tokio::test]
async fn a_threshold_out_of_range_is_refused_by_core() {
    let app = spawn().await;
    let request = app
        .client
        .post(app.url("/api/v1/recognition/faces"))
        .query(&[("subject", "X"), ("det_prob_threshold", "1.5")])
        .multipart(image_form("upstream-samples/007_B.jpg"));
    let (status, body) = call(request, &app.recognition).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(count(&app, "faces").await, 0);
}

#[tokio::test]
async fn images_are_not_kept_when_save_images_to_db_is_off() {
    let app = spawn_with(|s| s.save_images_to_db = false).await;
    let id = created(add_face(&app, "C", "upstream-samples/009_C.jpg").await, "C");
    assert_eq!(app.db.store.face_image(app.recognition.id, id).await.unwrap(), Some(None));
    assert_eq!(count(&app, "images").await, 0);
}
