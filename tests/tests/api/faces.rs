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

/// The box core-service detects in a photo (`POST /detection/detect`), as `[x_min, y_min, x_max, y_max]`.
async fn detected_box(app: &api_service::testing::TestApp, photo: Vec<u8>) -> [i64; 4] {
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(photo).file_name("p.jpg"));
    let request = app.client.post(app.url("/api/v1/detection/detect")).multipart(form);
    let (status, body) = call(request, &app.detection).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"].as_array().map(Vec::len), Some(1), "{body}");
    box_of(&body["result"][0]["box"])
}

fn box_of(b: &serde_json::Value) -> [i64; 4] {
    ["x_min", "y_min", "x_max", "y_max"].map(|k| b[k].as_i64().unwrap_or_else(|| panic!("{k} in {b}")))
}

/// `GET /recognition/faces/{id}/{what}` with the recognition key: status, content type, body.
async fn get_face_path(app: &api_service::testing::TestApp, id: Uuid, what: &str) -> (u16, String, Vec<u8>) {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/recognition/faces/{id}/{what}")))
        .header("x-api-key", app.recognition.api_key.to_string())
        .send()
        .await
        .unwrap();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    (response.status().as_u16(), content_type.unwrap_or_default(), response.bytes().await.unwrap().to_vec())
}

fn jpeg_pixels(bytes: &[u8]) -> image::RgbImage {
    image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg).expect("a JPEG").into_rgb8()
}

/// The mean absolute difference of two images of one size, per channel (0–255).
fn difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    sum as f64 / a.as_raw().len() as f64
}

#[tokio::test]
async fn a_stored_face_keeps_the_box_core_found_and_its_thumbnail_shows_it() {
    let app = spawn().await;
    let photo = "upstream-samples/007_B.jpg";
    let id = created(add_face(&app, "B", photo).await, "B");
    let detected = detected_box(&app, fixture(photo)).await;
    // The annotated nose is inside.
    let (x, y) = (205, 299);
    assert!(detected[0] <= x && x <= detected[2] && detected[1] <= y && y <= detected[3], "{detected:?}");

    let (status, details) =
        call(app.client.get(app.url(&format!("/api/v1/recognition/faces/{id}/details"))), &app.recognition).await;
    assert_eq!(status, 200, "{details}");
    assert_eq!(keys(&details), ["box", "created_at", "has_image", "image_id", "subject"]);
    assert_eq!(
        (box_of(&details["box"]), &details["subject"], &details["has_image"]),
        (detected, &json!("B"), &json!(true))
    );
    assert_eq!(details["image_id"], json!(id));

    let (status, content_type, jpeg) = get_face_path(&app, id, "thumbnail").await;
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"));
    let thumbnail = jpeg_pixels(&jpeg);
    assert_eq!(thumbnail.dimensions(), (160, 160));
    // The thumbnail is the face's square of the photo: core finds the face again in it, filling
    // the middle (the box is 1 / 1.8 of the square's side).
    let mut png = std::io::Cursor::new(Vec::new());
    image::imageops::resize(&thumbnail, 480, 480, image::imageops::FilterType::CatmullRom)
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    let again = detected_box(&app, png.into_inner()).await;
    let centre = |low: i64, high: i64| (low + high) / 2;
    assert!(
        (centre(again[0], again[2]) - 240).abs() < 40 && (centre(again[1], again[3]) - 240).abs() < 60,
        "{again:?}"
    );
    assert!((again[2] - again[0]) > 480 / 3, "{again:?}");

    let (status, _, jpeg) = get_face_path(&app, id, "thumbnail?size=48").await;
    assert_eq!((status, jpeg_pixels(&jpeg).dimensions()), (200, (48, 48)));
    for size in ["0", "9999", "abc"] {
        let (status, content_type, body) = get_face_path(&app, id, &format!("thumbnail?size={size}")).await;
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (status, content_type.as_str(), body["code"].as_u64()),
            (400, "application/json", Some(26)),
            "{size}"
        );
    }
    let unknown = Uuid::new_v4();
    let (status, _, body) = get_face_path(&app, unknown, "thumbnail").await;
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, body), (404, error(&format!("Image {unknown} not found"), 44)));
    // A detection service's key is refused as for the image.
    let path = |what: &str| app.url(&format!("/api/v1/recognition/faces/{id}/{what}"));
    let refused = call(app.client.get(path("thumbnail")), &app.detection).await;
    assert_eq!(refused, call(app.client.get(path("img")), &app.detection).await);
    assert_eq!((refused.0, refused.1["code"].as_u64()), (404, Some(10)));
}

/// An APP1 segment holding a big-endian TIFF directory with one Orientation entry.
fn exif_orientation_segment(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a");
    tiff.extend_from_slice(&8u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&u16::try_from(2 + 6 + tiff.len()).unwrap().to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    segment
}

#[tokio::test]
async fn boxes_and_thumbnails_of_a_rotated_photo_are_upright() {
    let app = spawn().await;
    let upright = jpeg_pixels(&fixture("upstream-samples/009_C.jpg"));
    // Stored turned a quarter to the left, with EXIF orientation 6 (turn right to show): upright
    // once the orientation is applied, as core-service decodes it.
    let mut sideways = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::imageops::rotate270(&upright))
        .write_to(&mut sideways, image::ImageFormat::Jpeg)
        .unwrap();
    let sideways = sideways.into_inner();
    let rotated = [&sideways[..2], &exif_orientation_segment(6)[..], &sideways[2..]].concat();
    let mut plain = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(upright.clone()).write_to(&mut plain, image::ImageFormat::Jpeg).unwrap();
    let plain = plain.into_inner();

    let mut ids = Vec::new();
    for bytes in [&rotated, &plain] {
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(bytes.clone()).file_name("c.jpg"));
        let request = app.client.post(app.url("/api/v1/recognition/faces")).query(&[("subject", "C")]).multipart(form);
        ids.push(created(call(request, &app.recognition).await, "C"));
    }
    let details =
        |id: Uuid| call(app.client.get(app.url(&format!("/api/v1/recognition/faces/{id}/details"))), &app.recognition);
    let (rotated_box, plain_box) = (box_of(&details(ids[0]).await.1["box"]), box_of(&details(ids[1]).await.1["box"]));
    // Upright coordinates (the photo is 348 wide, 522 high; the nose at 166, 236), the same face.
    assert!(rotated_box[2] <= 348 && rotated_box[3] <= 522, "{rotated_box:?}");
    assert!(rotated_box.iter().zip(plain_box).all(|(a, b)| (a - b).abs() <= 6), "{rotated_box:?} {plain_box:?}");
    assert!(rotated_box[0] <= 166 && 166 <= rotated_box[2] && rotated_box[1] <= 236 && 236 <= rotated_box[3]);

    let of_rotated = jpeg_pixels(&get_face_path(&app, ids[0], "thumbnail?size=96").await.2);
    let of_plain = jpeg_pixels(&get_face_path(&app, ids[1], "thumbnail?size=96").await.2);
    let same = difference(&of_rotated, &of_plain);
    let turned = difference(&image::imageops::rotate90(&of_rotated), &of_plain);
    assert!(same < 12.0 && turned > 2.0 * same, "upright: {same:.1}, turned: {turned:.1}");
}

#[tokio::test]
async fn faces_stored_without_their_photo_keep_their_box_and_have_no_thumbnail() {
    let app = spawn_with(|s| s.save_images_to_db = false).await;
    let id = created(add_face(&app, "C", "upstream-samples/009_C.jpg").await, "C");
    let (status, details) =
        call(app.client.get(app.url(&format!("/api/v1/recognition/faces/{id}/details"))), &app.recognition).await;
    assert_eq!((status, &details["has_image"]), (200, &json!(false)), "{details}");
    assert_eq!(box_of(&details["box"]), detected_box(&app, fixture("upstream-samples/009_C.jpg")).await);
    let (status, _, body) = get_face_path(&app, id, "thumbnail").await;
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, body), (404, error(&format!("Image {id} is not stored"), 44)));
    let gallery = call(app.client.get(app.url("/api/v1/recognition/gallery")), &app.recognition).await.1;
    assert_eq!(gallery["subjects"], json!([{"subject": "C", "faces": 1, "image_id": null}]));
}
