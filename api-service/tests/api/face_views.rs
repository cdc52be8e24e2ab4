//! What the UI shows of a collection, without a running core-service: a face's details, its
//! square thumbnail, and the subjects with their counts and pictures (`/recognition/gallery`).
//! Faces are stored directly, with the boxes core-service would have found.

use api_service::testing::TestApp;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};
use uuid::Uuid;
use visage_store::{FaceBox, FaceRef, NewFace};

use crate::helpers::*;

const FACES: &str = "/api/v1/recognition/faces";
const GALLERY: &str = "/api/v1/recognition/gallery";

/// Stores a face with an image and a box.
async fn seed_boxed(app: &TestApp, subject: &str, image: Option<&[u8]>, face_box: Option<FaceBox>) -> FaceRef {
    let face = NewFace { subject, embedding: &[0.6, 0.8], calculator: "test.Calculator", image, face_box };
    app.db.store.add_face(app.recognition.id, face).await.expect("face not stored")
}

/// A PNG, `width` × `height`: white with a red rectangle at `red` (`[x_min, y_min, x_max, y_max]`).
fn photo(width: u32, height: u32, red: [u32; 4]) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let inside = (red[0]..red[2]).contains(&x) && (red[1]..red[3]).contains(&y);
        image::Rgb(if inside { [255, 0, 0] } else { [255, 255, 255] })
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).unwrap();
    png.into_inner()
}

/// `GET …/{image_id}/thumbnail?query` with the recognition key: status, content type, cache
/// control and body.
async fn thumbnail(app: &TestApp, image_id: impl std::fmt::Display, query: &str) -> (u16, String, String, Vec<u8>) {
    let response = app
        .client
        .get(app.url(&format!("{FACES}/{image_id}/thumbnail{query}")))
        .header("x-api-key", app.recognition.api_key.to_string())
        .send()
        .await
        .unwrap();
    let header = |name| response.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let (content_type, cache) = (header(CONTENT_TYPE), header(CACHE_CONTROL));
    (response.status().as_u16(), content_type, cache, response.bytes().await.unwrap().to_vec())
}

fn decoded(jpeg: &[u8]) -> image::RgbImage {
    image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).expect("a JPEG").into_rgb8()
}

fn is_red(p: &image::Rgb<u8>) -> bool {
    p[0] > 200 && p[1] < 60 && p[2] < 60
}

fn is_white(p: &image::Rgb<u8>) -> bool {
    p.0.iter().all(|c| *c > 200)
}

#[tokio::test]
async fn details_tell_the_box_the_time_and_whether_the_photo_is_stored() {
    let app = spawn().await;
    let key = &app.recognition;
    let face_box = FaceBox::new(10, 20, 110, 140);
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    let boxed = seed_boxed(&app, "Anna", Some(&photo(300, 200, [10, 20, 110, 140])), face_box).await.image_id;
    let bare = seed_boxed(&app, "Ben", None, None).await.image_id;

    let (status, body) = call(app.client.get(app.url(&format!("{FACES}/{boxed}/details"))), key).await;
    assert_eq!(status, 200, "{body}");
    let created_at = body["created_at"].as_str().unwrap().to_string();
    assert_eq!(
        body,
        json!({
            "image_id": boxed, "subject": "Anna",
            "box": {"x_min": 10, "y_min": 20, "x_max": 110, "y_max": 140},
            "created_at": created_at, "has_image": true
        })
    );
    let created = chrono::DateTime::parse_from_rfc3339(&created_at).unwrap();
    assert!(created_at.ends_with('Z') && created > before && created <= chrono::Utc::now(), "{created_at}");

    let (status, body) = call(app.client.get(app.url(&format!("{FACES}/{bare}/details"))), key).await;
    assert_eq!(
        (status, &body["subject"], &body["box"], &body["has_image"]),
        (200, &json!("Ben"), &json!(null), &json!(false))
    );

    // Unknown faces answer as deleting one does; another service's face is unknown here.
    let unknown = Uuid::new_v4();
    let expected = (404, error(&format!("Image {unknown} not found"), 44));
    assert_eq!(call(app.client.get(app.url(&format!("{FACES}/{unknown}/details"))), key).await, expected);
    assert_eq!(call(app.client.delete(app.url(&format!("{FACES}/{unknown}"))), key).await, expected);
    let other = app.db.create_service(visage_store::ServiceType::Recognition).await;
    let (status, body) = call(app.client.get(app.url(&format!("{FACES}/{boxed}/details"))), &other).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(44)));
    let bad = call(app.client.get(app.url(&format!("{FACES}/nope/details"))), key).await;
    assert_eq!(bad, (400, error("Parameter 'image_id' must be a UUID, got 'nope'", 26)));
    // Only a recognition service's key, as for the image.
    let wrong = call(app.client.get(app.url(&format!("{FACES}/{boxed}/details"))), &app.detection).await;
    let img = call(app.client.get(app.url(&format!("{FACES}/{boxed}/img"))), &app.detection).await;
    assert_eq!(wrong, img);
    assert_eq!(wrong.0, 404);
}

#[tokio::test]
async fn thumbnails_are_squares_of_the_face_with_a_margin() {
    let app = spawn().await;
    // A small face off-centre in a landscape photo.
    let face = [500, 100, 600, 200];
    let bytes = photo(800, 600, face);
    let boxed = seed_boxed(&app, "Anna", Some(&bytes), FaceBox::new(500, 100, 600, 200)).await.image_id;

    let (status, content_type, cache, jpeg) = thumbnail(&app, boxed, "").await;
    assert_eq!(
        (status, content_type.as_str(), cache.as_str()),
        (200, "image/jpeg", "private, max-age=31536000, immutable")
    );
    let image = decoded(&jpeg);
    assert_eq!(image.dimensions(), (160, 160));
    // The face, 100 pixels of the 180 shown, in the middle, the white photo around it.
    assert!(is_red(image.get_pixel(80, 80)) && is_red(image.get_pixel(40, 40)) && is_red(image.get_pixel(120, 120)));
    assert!(is_white(image.get_pixel(8, 8)) && is_white(image.get_pixel(152, 152)));

    for (query, side) in [("?size=32", 32), ("?size=512", 512), ("?size=%20", 160), ("?size=200", 200)] {
        let (status, _, _, jpeg) = thumbnail(&app, boxed, query).await;
        assert_eq!((status, decoded(&jpeg).dimensions()), (200, (side, side)), "{query}");
    }
    for (query, value) in
        [("?size=0", "0"), ("?size=9999", "9999"), ("?size=31", "31"), ("?size=513", "513"), ("?size=-1", "-1")]
    {
        let (status, _, _, body) = thumbnail(&app, boxed, query).await;
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (status, body),
            (400, error(&format!("size must be between 32 and 512, got {value}"), 26)),
            "{query}"
        );
    }
    let (status, _, _, body) = thumbnail(&app, boxed, "?size=abc").await;
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, body), (400, error("Parameter 'size' must be an integer, got 'abc'", 26)));
}

#[tokio::test]
async fn faces_without_a_box_show_the_centred_square_and_without_a_photo_none() {
    let app = spawn().await;
    // A portrait photo, red in its middle square: without a box that square is shown.
    let bytes = photo(200, 400, [0, 100, 200, 300]);
    let unboxed = seed_boxed(&app, "Anna", Some(&bytes), None).await.image_id;
    let (status, _, _, jpeg) = thumbnail(&app, unboxed, "?size=64").await;
    assert_eq!(status, 200);
    let image = decoded(&jpeg);
    assert_eq!(image.dimensions(), (64, 64));
    assert!(image.pixels().all(is_red), "the centred square is all red");

    let without = seed_boxed(&app, "Ben", None, FaceBox::new(1, 1, 5, 5)).await.image_id;
    let unknown = Uuid::new_v4();
    for (id, message) in
        [(without, format!("Image {without} is not stored")), (unknown, format!("Image {unknown} not found"))]
    {
        let (status, content_type, _, body) = thumbnail(&app, id, "").await;
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((status, content_type.as_str(), body), (404, "application/json", error(&message, 44)));
    }
    // The image of a face without a photo is an empty body, as CompreFace answers.
    let img = app
        .client
        .get(app.url(&format!("{FACES}/{without}/img")))
        .header("x-api-key", app.recognition.api_key.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(img.status(), 200);
    assert!(img.bytes().await.unwrap().is_empty());
    // Keys: none, another type's, as for the image.
    let missing = app.client.get(app.url(&format!("{FACES}/{unboxed}/thumbnail"))).send().await.unwrap();
    assert_eq!(json_of(missing).await, (400, error("Missing header: x-api-key", 20)));
    let path = |what: &str| app.url(&format!("{FACES}/{unboxed}/{what}"));
    let wrong = call(app.client.get(path("thumbnail")), &app.detection).await;
    assert_eq!(wrong, call(app.client.get(path("img")), &app.detection).await);
    let detection_key = app.detection.api_key;
    assert_eq!(wrong, (404, error(&format!("Recognition service with API Key {detection_key} not found"), 10)));
}

#[tokio::test]
async fn a_burst_of_thumbnails_is_answered_in_full() {
    let app = spawn().await;
    let bytes = photo(1200, 900, [100, 100, 400, 400]);
    let id = seed_boxed(&app, "Anna", Some(&bytes), FaceBox::new(100, 100, 400, 400)).await.image_id;
    // More requests at once than thumbnails are made at once: they wait for their turn.
    let answers = futures::future::join_all((0..12).map(|_| thumbnail(&app, id, "?size=96"))).await;
    for (status, _, _, jpeg) in answers {
        assert_eq!((status, decoded(&jpeg).dimensions()), (200, (96, 96)));
    }
}

#[tokio::test]
async fn the_gallery_pages_subjects_with_their_counts_and_pictures() {
    let app = spawn().await;
    let key = &app.recognition;
    let png = photo(40, 40, [10, 10, 30, 30]);
    // Carol: the first face has no photo, so the second is her picture.
    let mut ids = Vec::new();
    for (subject, image) in [("carol", None), ("Alice", Some(&png)), ("Bob", Some(&png)), ("carol", Some(&png))] {
        ids.push(seed_boxed(&app, subject, image.map(Vec::as_slice), None).await.image_id);
    }
    for subject in ["Bob", "carol", "Alice", "Bob"] {
        seed_boxed(&app, subject, Some(&png), None).await;
    }
    // Subjects without faces: created so, or emptied.
    let created = app.client.post(app.url("/api/v1/recognition/subjects")).json(&json!({ "subject": "Dave" }));
    assert_eq!(call(created, key).await.0, 201);
    let gone = seed_boxed(&app, "Eve 100%_", Some(&png), None).await.image_id;
    assert_eq!(call(app.client.delete(app.url(&format!("{FACES}/{gone}"))), key).await.0, 200);
    let (alice, bob, carol) = (ids[1], ids[2], ids[3]);

    let page = |query: &'static str| call(app.client.get(app.url(&format!("{GALLERY}{query}"))), key);
    assert_eq!(
        page("").await,
        (
            200,
            json!({
                "subjects": [
                    {"subject": "Alice", "faces": 2, "image_id": alice},
                    {"subject": "Bob", "faces": 3, "image_id": bob},
                    {"subject": "carol", "faces": 3, "image_id": carol},
                    {"subject": "Dave", "faces": 0, "image_id": null},
                    {"subject": "Eve 100%_", "faces": 0, "image_id": null},
                ],
                "page_number": 0, "page_size": 20, "total_pages": 1, "total_elements": 5
            })
        )
    );
    // The same pages, order, totals and parameter handling as the paged subjects listing.
    for query in
        ["?page=1&size=2", "?search=E", "?search=%25_", "?search=b&size=1", "?page=9", "?size=0&page=-2", "?size=x"]
    {
        let (status, gallery) = page(query).await;
        let (_, subjects) = call(app.client.get(app.url(&format!("/api/v1/recognition/subjects{query}"))), key).await;
        assert_eq!(status, 200, "{query}");
        let names: Vec<&serde_json::Value> =
            gallery["subjects"].as_array().unwrap().iter().map(|s| &s["subject"]).collect();
        assert_eq!(json!(names), subjects["subjects"], "{query}");
        for field in ["page_number", "page_size", "total_pages", "total_elements"] {
            assert_eq!(gallery[field], subjects[field], "{query}: {field}");
        }
    }
    assert_eq!(
        page("?page=1&size=2").await.1["subjects"],
        json!([
            {"subject": "carol", "faces": 3, "image_id": carol}, {"subject": "Dave", "faces": 0, "image_id": null}
        ])
    );
    // Wildcards and quotes are literal.
    assert_eq!(
        page("?search=%25_").await.1["subjects"],
        json!([{"subject": "Eve 100%_", "faces": 0, "image_id": null}])
    );
    assert_eq!(page("?search=_").await.1["total_elements"], json!(1));
    assert_eq!(
        page("?search=%27%3B--").await.1,
        json!({
            "subjects": [], "page_number": 0, "page_size": 20, "total_pages": 0, "total_elements": 0
        })
    );
    assert_eq!(page("?search=BO").await.1["subjects"], json!([{"subject": "Bob", "faces": 3, "image_id": bob}]));
    // Past the end: no subjects, the totals still told.
    let past = page("?page=3&size=2").await.1;
    assert_eq!(
        (past["subjects"].clone(), past["total_elements"].clone(), past["total_pages"].clone()),
        (json!([]), json!(5), json!(3))
    );

    // Another service's gallery is its own; only recognition keys.
    let other = app.db.create_service(visage_store::ServiceType::Recognition).await;
    assert_eq!(call(app.client.get(app.url(GALLERY)), &other).await.1["total_elements"], json!(0));
    assert_eq!(call(app.client.get(app.url(GALLERY)), &app.detection).await.0, 404);
}
