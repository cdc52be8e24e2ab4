//! `/recognition/faces` without a running core-service: listing, deleting, images, and every
//! check an upload passes before core is called.

use api_service::testing::TestApp;
use reqwest::multipart::{Form, Part};
use uuid::Uuid;

use crate::helpers::*;

const FACES: &str = "/api/v1/recognition/faces";

fn image_form(file_name: &str, bytes: Vec<u8>) -> Form {
    Form::new().part("file", Part::bytes(bytes).file_name(file_name.to_string()))
}

#[tokio::test]
async fn faces_are_listed_by_page_with_spring_totals() {
    let app = spawn().await;
    let key = &app.recognition;
    let mut ids = Vec::new();
    for subject in ["A", "B", "A", "C", "A"] {
        ids.push(seed_face(&app, subject, None).await.image_id);
    }
    let page = call(app.client.get(app.url(&format!("{FACES}?page=1&size=2"))), key).await;
    assert_eq!(
        page,
        (
            200,
            json!({
                "faces": [{ "image_id": ids[2], "subject": "A" }, { "image_id": ids[3], "subject": "C" }],
                "page_number": 1, "page_size": 2, "total_pages": 3, "total_elements": 5
            })
        )
    );
    let only_a = call(app.client.get(app.url(&format!("{FACES}?subject=A&size=x&page=-3"))), key).await.1;
    assert_eq!(
        only_a,
        json!({
            "faces": [
                { "image_id": ids[0], "subject": "A" }, { "image_id": ids[2], "subject": "A" },
                { "image_id": ids[4], "subject": "A" }
            ],
            "page_number": 0, "page_size": 20, "total_pages": 1, "total_elements": 3
        })
    );
    // The subject filter is exact, as CompreFace's.
    let lower = call(app.client.get(app.url(&format!("{FACES}?subject=a"))), key).await.1;
    assert_eq!((lower["total_elements"].clone(), lower["total_pages"].clone()), (json!(0), json!(0)));
    let past_end = call(app.client.get(app.url(&format!("{FACES}?page=7&size=3"))), key).await.1;
    assert_eq!((past_end["faces"].clone(), past_end["page_number"].clone()), (json!([]), json!(7)));
}

#[tokio::test]
async fn delete_by_subject_removes_the_subject_and_without_one_everything() {
    let app = spawn().await;
    let key = &app.recognition;
    for subject in ["Semi;colon", "Semi;colon", "Other", "Third"] {
        seed_face(&app, subject, Some(b"x")).await;
    }
    let by_subject = app.client.delete(app.url(FACES)).query(&[("subject", "SEMI;COLON")]);
    assert_eq!(call(by_subject, key).await, (200, json!({ "deleted": 2 })));
    let unknown = app.client.delete(app.url(FACES)).query(&[("subject", "Nobody")]);
    assert_eq!(call(unknown, key).await, (200, json!({ "deleted": 0 })));
    assert_eq!(
        call(app.client.get(app.url("/api/v1/recognition/subjects")), key).await.1,
        json!({ "subjects": ["Other", "Third"] })
    );
    assert_eq!(
        call(app.client.delete(app.url(&format!("{FACES}?subject="))), key).await,
        (200, json!({ "deleted": 2 }))
    );
    assert_eq!((count(&app, "faces").await, count(&app, "subjects").await, count(&app, "images").await), (0, 0, 0));
}

#[tokio::test]
async fn delete_one_and_many() {
    let app = spawn().await;
    let key = &app.recognition;
    let a = seed_face(&app, "A", None).await.image_id;
    let b = seed_face(&app, "B", None).await.image_id;
    let c = seed_face(&app, "C", None).await.image_id;

    let one = call(app.client.delete(app.url(&format!("{FACES}/{a}"))), key).await;
    assert_eq!(one, (200, json!({ "image_id": a, "subject": "A" })));
    let again = call(app.client.delete(app.url(&format!("{FACES}/{a}"))), key).await;
    assert_eq!(again, (404, error(&format!("Image {a} not found"), 44)));
    let bad = call(app.client.delete(app.url(&format!("{FACES}/not-a-uuid"))), key).await;
    assert_eq!(bad, (400, error("Parameter 'image_id' must be a UUID, got 'not-a-uuid'", 26)));

    let unknown = Uuid::new_v4();
    let many = call(app.client.post(app.url(&format!("{FACES}/delete"))).json(&json!([c, unknown, b, a])), key).await;
    assert_eq!(many, (200, json!([{ "image_id": c, "subject": "C" }, { "image_id": b, "subject": "B" }])));
    let bad_many = call(app.client.post(app.url(&format!("{FACES}/delete"))).json(&json!(["zzz"])), key).await;
    assert_eq!(bad_many, (400, error("Parameter 'image_id' must be a UUID, got 'zzz'", 26)));
    assert_eq!(
        call(app.client.post(app.url(&format!("{FACES}/delete"))).json(&json!([])), key).await,
        (200, json!([]))
    );
}

#[tokio::test]
async fn images_download_with_and_without_the_key() {
    let app = spawn().await;
    let jpeg = fixture("image-formats/einstein.jpeg");
    let with = seed_face(&app, "A", Some(&jpeg)).await.image_id;
    let without = seed_face(&app, "B", None).await.image_id;

    let response = app
        .client
        .get(app.url(&format!("{FACES}/{with}/img")))
        .header("x-api-key", app.recognition.api_key.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.headers()["cache-control"], "private, max-age=31536000");
    assert_eq!(response.bytes().await.unwrap(), jpeg);

    let empty = app
        .client
        .get(app.url(&format!("{FACES}/{without}/img")))
        .header("x-api-key", app.recognition.api_key.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 200);
    assert!(empty.bytes().await.unwrap().is_empty());

    // `/static` needs no header, only the key in the path: for `<img src>`.
    let key = app.recognition.api_key;
    let public = app.client.get(app.url(&format!("/api/v1/static/{key}/images/{with}"))).send().await.unwrap();
    assert_eq!(public.status(), 200);
    assert_eq!(public.headers()["cache-control"], "private, max-age=31536000");
    assert_eq!(public.bytes().await.unwrap(), jpeg);
    for path in [
        format!("/api/v1/static/{}/images/{with}", app.detection.api_key),
        format!("/api/v1/static/not-a-key/images/{with}"),
        format!("/api/v1/static/{key}/images/{}", Uuid::new_v4()),
    ] {
        let answer = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        assert!(answer.bytes().await.unwrap().is_empty(), "{path}");
    }
    let bad = app.client.get(app.url(&format!("/api/v1/static/{key}/images/nope"))).send().await.unwrap();
    assert_eq!(json_of(bad).await, (400, error("Parameter 'image_id' must be a UUID, got 'nope'", 26)));
}

#[tokio::test]
async fn add_face_with_core_down_is_41_and_stores_nothing() {
    let app = spawn().await;
    let jpeg = fixture("upstream-samples/000_5.jpg");
    let request = app.client.post(app.url(FACES)).query(&[("subject", "Nobody")]).multipart(image_form("a.jpg", jpeg));
    let (status, body) = call(request, &app.recognition).await;
    assert_eq!((status, body["code"].clone()), (500, json!(41)), "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("Error during synchronization between servers: "), "{message}");
    assert_eq!((count(&app, "subjects").await, count(&app, "faces").await, count(&app, "images").await), (0, 0, 0));
}

#[tokio::test]
async fn uploads_are_checked_before_core_is_asked() {
    let app = spawn().await;
    let key = &app.recognition;
    let jpeg = || fixture("image-formats/einstein.jpeg");
    let add = |query: &[(&str, &str)]| app.client.post(app.url(FACES)).query(query);

    let no_part = add(&[("subject", "A")]).multipart(Form::new().text("other", "x"));
    assert_eq!(call(no_part, key).await, (400, error("Required part file is missing", 34)));
    let no_subject = add(&[]).multipart(image_form("a.jpg", jpeg()));
    assert_eq!(call(no_subject, key).await, (400, error("Required parameter subject is missing", 33)));
    let blank = add(&[("subject", " ")]).multipart(image_form("a.jpg", jpeg()));
    assert_eq!(call(blank, key).await, (400, error("Subject name is empty; ", 26)));
    let threshold = add(&[("subject", "A"), ("det_prob_threshold", "high")]).multipart(image_form("a.jpg", jpeg()));
    assert_eq!(
        call(threshold, key).await,
        (400, error("Parameter 'det_prob_threshold' must be a number, got 'high'", 26))
    );
    let text = add(&[("subject", "A")]).multipart(image_form("notes.txt", b"just text".to_vec()));
    assert_eq!(call(text, key).await, (400, error("File [notes.txt] has an unavailable extension", 21)));
    let empty = add(&[("subject", "A")]).multipart(image_form("empty.png", Vec::new()));
    assert_eq!(call(empty, key).await, (400, error("File [empty.png] is empty", 21)));

    // The subject may come as a form field too.
    let form_subject = add(&[]).multipart(image_form("a.txt", b"text".to_vec()).text("subject", "A"));
    assert_eq!(call(form_subject, key).await, (400, error("File [a.txt] has an unavailable extension", 21)));

    // Base64 JSON.
    let bad_base64 = add(&[("subject", "A")]).json(&json!({ "file": "###" }));
    assert_eq!(call(bad_base64, key).await, (400, error("Provided value is not Base64", 21)));
    let no_file = add(&[("subject", "A")]).json(&json!({ "image": "aGVsbG8=" }));
    assert_eq!(call(no_file, key).await, (400, error("Field content cannot be empty", 5)));
    let not_image = add(&[("subject", "A")]).json(&json!({ "file": "aGVsbG8=" }));
    assert_eq!(call(not_image, key).await, (400, error("File [file] has an unavailable extension", 21)));
    let plain = add(&[("subject", "A")]).header("content-type", "text/plain").body("x");
    assert_eq!(call(plain, key).await, (415, error("Content type 'text/plain' not supported", 0)));
    assert_eq!(count(&app, "subjects").await, 0);
}

#[tokio::test]
async fn sizes_above_the_limits_are_413() {
    let app = TestApp::spawn_with(&api_service::testing::closed_port_url(), |s| {
        s.max_file_size = 1000;
        s.max_request_size = 4000;
    })
    .await;
    let key = &app.recognition;
    let mut big = fixture("image-formats/einstein.jpeg");
    big.resize(2000, 0);
    let file = app.client.post(app.url(FACES)).query(&[("subject", "A")]).multipart(image_form("a.jpg", big.clone()));
    assert_eq!(call(file, key).await, (413, error("The file exceeds its maximum allowed size of 1000 bytes", 0)));
    big.resize(5000, 0);
    let request = app.client.post(app.url(FACES)).query(&[("subject", "A")]).multipart(image_form("a.jpg", big));
    assert_eq!(call(request, key).await, (413, error("The request exceeds its maximum allowed size of 4000 bytes", 0)));
    let encoded = json!({ "file": base64_of(&[0xffu8; 1500]) });
    let json_file = app.client.post(app.url(FACES)).query(&[("subject", "A")]).json(&encoded);
    assert_eq!(call(json_file, key).await, (413, error("The file exceeds its maximum allowed size of 1000 bytes", 0)));
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
