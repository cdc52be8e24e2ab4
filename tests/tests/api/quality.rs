//! Enrolment that requires a good photo: `POST /recognition/faces?min_quality=…` refuses a face
//! whose quality (core's `quality` plugin) is lower, naming the reasons.

use std::io::Cursor;

use image::imageops;
use serde_json::Value;

use crate::helpers::*;

/// 009_C.jpg scaled down so that its face is about 28 pixels wide, as a JPEG.
fn small_face() -> Vec<u8> {
    let img = image::load_from_memory(&fixture("upstream-samples/009_C.jpg")).expect("fixture decodes").to_rgb8();
    // The face is about 135 pixels wide in the original.
    let (w, h) = (img.width() * 28 / 135, img.height() * 28 / 135);
    let small = imageops::resize(&img, w, h, imageops::FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    small.write_to(&mut out, image::ImageFormat::Jpeg).expect("encodes");
    out.into_inner()
}

async fn add(app: &api_service::testing::TestApp, image: Vec<u8>, query: &[(&str, &str)]) -> (u16, Value) {
    let form =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(image).file_name("face.jpg"));
    let request = app.client.post(app.url("/api/v1/recognition/faces")).query(query).multipart(form);
    call(request, &app.recognition).await
}

#[tokio::test]
async fn min_quality_refuses_poor_photos_and_says_why() {
    let app = spawn().await;
    let good = fixture("upstream-samples/009_C.jpg");

    let (status, body) = add(&app, good.clone(), &[("subject", "C"), ("min_quality", "0.5")]).await;
    assert_eq!(status, 201, "a sharp portrait passes: {body}");

    let (status, body) = add(&app, small_face(), &[("subject", "C"), ("min_quality", "0.5")]).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(49)), "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("small") && message.contains("min_quality 0.5"), "{message}");
    assert_eq!(count(&app, "faces").await, 1, "nothing stored");

    // Without min_quality the same photo is enrolled, as in CompreFace.
    let (status, body) = add(&app, small_face(), &[("subject", "C")]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(count(&app, "faces").await, 2);

    for bad in ["1.5", "-0.1", "good"] {
        let (status, body) = add(&app, good.clone(), &[("subject", "C"), ("min_quality", bad)]).await;
        assert_eq!((status, body["code"].as_u64()), (400, Some(26)), "{bad}: {body}");
    }
    assert_eq!(count(&app, "faces").await, 2);
}
