//! `POST /recognition/import`, `GET /recognition/import/{id}` and `GET /recognition/export`: a
//! collection in and out as an archive of the sample photos (A: 001–006, B: 007–008, C: 009;
//! 010 shows two people, 017 nobody), enrolled by the real core-service.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::time::{Duration, Instant};

use api_service::testing::TestApp;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use visage_store::{NewFace, ServiceType};
use zip::write::SimpleFileOptions;
use zip::{ZipArchive, ZipWriter};

use crate::helpers::*;

const UNSAFE: &str = "Skipped: the name is absolute or climbs out of the archive with '..'";

/// A zip of `(name, content)` entries.
fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        zip.start_file(*name, SimpleFileOptions::default()).expect("zip entry");
        zip.write_all(content).expect("zip content");
    }
    zip.finish().expect("zip").into_inner()
}

fn sample(name: &str) -> Vec<u8> {
    fixture(&format!("upstream-samples/{name}"))
}

/// `POST /recognition/import` with the archive as multipart part `file`.
async fn import_form(app: &TestApp, archive: Vec<u8>) -> (u16, Value) {
    let form = Form::new().part("file", Part::bytes(archive).file_name("collection.zip"));
    call(app.client.post(app.url("/api/v1/recognition/import")).multipart(form), &app.recognition).await
}

/// `POST /recognition/import` with the archive as the whole body.
async fn import_body(app: &TestApp, archive: Vec<u8>, content_type: &str) -> (u16, Value) {
    let request = app.client.post(app.url("/api/v1/recognition/import")).header("content-type", content_type);
    call(request.body(archive), &app.recognition).await
}

/// Waits for the import started by `answer` to end; its last report.
async fn finished(app: &TestApp, answer: (u16, Value)) -> Value {
    let (status, job) = answer;
    assert_eq!(status, 202, "{job}");
    assert_eq!(job["status"], "running", "{job}");
    let id = job["id"].as_str().expect("job id").to_string();
    let started = Instant::now();
    loop {
        let (status, job) =
            call(app.client.get(app.url(&format!("/api/v1/recognition/import/{id}"))), &app.recognition).await;
        assert_eq!(status, 200, "{job}");
        if job["status"] != "running" {
            return job;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "the import does not end: {job}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A report's `[{"entry", "reason"}]` as entry → reason.
fn reasons(list: &Value) -> BTreeMap<String, String> {
    let list = list.as_array().expect("a list of entries");
    list.iter().map(|e| (e["entry"].as_str().unwrap().to_string(), e["reason"].as_str().unwrap().to_string())).collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Faces per subject, from the faces API.
async fn faces_by_subject(app: &TestApp) -> BTreeMap<String, usize> {
    let request = app.client.get(app.url("/api/v1/recognition/faces")).query(&[("size", "100")]);
    let (status, page) = call(request, &app.recognition).await;
    assert_eq!(status, 200, "{page}");
    let mut counts = BTreeMap::new();
    for face in page["faces"].as_array().expect("faces") {
        *counts.entry(face["subject"].as_str().unwrap().to_string()).or_default() += 1;
    }
    assert_eq!(page["total_elements"], counts.values().sum::<usize>(), "{page}");
    counts
}

async fn subjects(app: &TestApp) -> Vec<String> {
    let (_, body) = call(app.client.get(app.url("/api/v1/recognition/subjects")), &app.recognition).await;
    let mut names: Vec<String> = serde_json::from_value(body["subjects"].clone()).expect("subjects");
    names.sort();
    names
}

async fn export(app: &TestApp) -> Vec<u8> {
    let response = app
        .client
        .get(app.url("/api/v1/recognition/export"))
        .header("x-api-key", app.recognition.api_key.to_string())
        .send()
        .await
        .expect("GET /recognition/export");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    response.bytes().await.expect("the export").to_vec()
}

/// The entries of a zip: name → content.
fn unzip(archive: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = ZipArchive::new(Cursor::new(archive)).expect("a readable zip");
    let mut entries = BTreeMap::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).expect("entry");
        let mut content = Vec::new();
        file.read_to_end(&mut content).expect("content");
        entries.insert(file.name().expect("name").to_string(), content);
    }
    entries
}

#[tokio::test]
async fn an_archive_is_enrolled_photo_by_photo_and_its_export_rebuilds_the_collection() {
    let app = spawn().await;
    let archive = zip_of(&[
        ("A/002_A.jpg", sample("002_A.jpg")),
        ("A/004_A.jpg", sample("004_A.jpg")),
        ("A/010_2.jpg", sample("010_2.jpg")),
        ("B/007_B.jpg", sample("007_B.jpg")),
        ("B/notes.txt", b"not a photo".to_vec()),
        ("C/009_C.jpg", sample("009_C.jpg")),
        ("C/017_0.jpg", sample("017_0.jpg")),
        ("Bad;Name/009_C.jpg", sample("009_C.jpg")),
        ("readme.txt", b"top level".to_vec()),
        ("__MACOSX/A/._002_A.jpg", b"resource fork".to_vec()),
        ("A/.hidden.jpg", sample("009_C.jpg")),
        ("A/deeper/008_B.jpg", sample("008_B.jpg")),
        ("../x/a.jpg", sample("009_C.jpg")),
    ]);
    let job = finished(&app, import_form(&app, archive).await).await;
    assert_eq!(job["status"], "done", "{job}");
    let counts = json!({ "total": job["total"], "seen": job["seen"], "done": job["done"], "failed": job["failed"],
        "skipped": job["skipped"], "remaining": job["remaining"], "added": job["added"] });
    assert_eq!(
        counts,
        json!({ "total": 13, "seen": 13, "done": 4, "failed": 4, "skipped": 5, "remaining": 0,
                "added": { "subjects": 3, "faces": 4 } }),
        "{job}"
    );
    assert_eq!(
        reasons(&job["failures"]),
        map(&[
            ("A/010_2.jpg", "More than one face in the source image"),
            ("B/notes.txt", "File [notes.txt] has an unavailable extension"),
            ("C/017_0.jpg", "No face is found in the given image"),
            ("Bad;Name/009_C.jpg", r"The name cannot contain the following special characters: ';', '/', '\'"),
        ])
    );
    assert_eq!(
        reasons(&job["skipped_entries"]),
        map(&[
            ("readme.txt", "Skipped: not in a subject folder (expected subject/photo)"),
            ("__MACOSX/A/._002_A.jpg", "Skipped: macOS metadata"),
            ("A/.hidden.jpg", "Skipped: a hidden file or folder"),
            ("A/deeper/008_B.jpg", "Skipped: in a nested folder (expected subject/photo)"),
            ("../x/a.jpg", UNSAFE),
        ])
    );
    assert_eq!((job["failures_not_listed"].clone(), job["skipped_not_listed"].clone()), (json!(0), json!(0)));
    assert!(job["finished_at"].is_string() && job.get("error").is_none(), "{job}");
    assert_eq!(faces_by_subject(&app).await, BTreeMap::from([("A".into(), 2), ("B".into(), 1), ("C".into(), 1)]));
    assert_eq!(subjects(&app).await, ["A", "B", "C"]);

    // A subject without faces and one whose name is no safe folder name travel too.
    let create = app.client.post(app.url("/api/v1/recognition/subjects")).json(&json!({ "subject": "Nobody" }));
    assert_eq!(call(create, &app.recognition).await.0, 201);
    enrol(&app, ".B: again?", "upstream-samples/008_B.jpg").await;

    let exported = unzip(&export(&app).await);
    let manifest: Value = serde_json::from_slice(&exported["manifest.json"]).expect("the manifest is JSON");
    assert_eq!((manifest["format"].as_str(), manifest["version"].as_u64()), (Some("visage-collection"), Some(1)));
    let folders: BTreeMap<String, String> = manifest["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["subject"].as_str().unwrap().to_string(), s["folder"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        folders,
        map(&[("A", "A"), ("B", "B"), ("C", "C"), ("Nobody", "Nobody"), (".B: again?", "%2EB%3A again%3F")])
    );
    let (_, page) = call(app.client.get(app.url("/api/v1/recognition/faces")), &app.recognition).await;
    let listed: Vec<(String, String)> = manifest["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["image_id"].as_str().unwrap().to_string(), i["subject"].as_str().unwrap().to_string()))
        .collect();
    let faces: Vec<(String, String)> = page["faces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["image_id"].as_str().unwrap().to_string(), f["subject"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(listed, faces, "the manifest lists every face in order");
    // Each stored image is in its subject's folder, byte for byte.
    assert_eq!(exported.len(), 1 + 5);
    for image in manifest["images"].as_array().unwrap() {
        let file = image["file"].as_str().expect("a file");
        let id = image["image_id"].as_str().unwrap();
        let folder = &folders[image["subject"].as_str().unwrap()];
        assert_eq!(file, format!("{folder}/{id}.jpg"));
        let stored = app.db.store.face_image(app.recognition.id, id.parse().unwrap()).await.unwrap().flatten();
        assert_eq!(Some(&exported[file]), stored.as_ref(), "{file}");
    }

    // The export into a service of another installation, sent as the whole body.
    let other = spawn().await;
    let raw: Vec<u8> = export(&app).await;
    let job = finished(&other, import_body(&other, raw, "application/zip").await).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!((job["total"].clone(), job["done"].clone()), (json!(5), json!(5)), "{job}");
    assert_eq!((job["failed"].clone(), job["skipped"].clone()), (json!(0), json!(0)), "{job}");
    assert_eq!(job["added"], json!({ "subjects": 5, "faces": 5 }), "{job}");
    assert_eq!(subjects(&other).await, subjects(&app).await);
    assert_eq!(faces_by_subject(&other).await, faces_by_subject(&app).await);
    // Each face is found again in its photo: the same boxes.
    assert_eq!(boxes(&other).await, boxes(&app).await);
    assert_eq!(boxes(&app).await.len(), 5);

    // Both recognise alike: the same subjects with the same similarities.
    for probe in ["upstream-samples/005_A.jpg", "upstream-samples/008_B.jpg", "upstream-samples/000_5.jpg"] {
        let all = [("prediction_count", "-1")];
        let (status, here) = recognize(&app, probe, &all).await;
        assert_eq!(status, 200, "{here}");
        let (_, there) = recognize(&other, probe, &all).await;
        assert_eq!(without_image_ids(here), without_image_ids(there), "{probe}");
    }
}

/// A recognition answer without the stored faces' ids, which differ between services.
fn without_image_ids(mut answer: Value) -> Value {
    for face in answer["result"].as_array_mut().expect("result") {
        for subject in face["subjects"].as_array_mut().expect("subjects") {
            subject.as_object_mut().expect("a subject").remove("image_id");
        }
    }
    answer
}

#[tokio::test]
async fn a_tar_with_a_top_folder_is_imported_too_compressed_or_not() {
    let app = spawn().await;
    let mut builder = tar::Builder::new(Vec::new());
    for (name, photo) in [("faces/B/007_B.jpg", "007_B.jpg"), ("faces/C/009_C.jpg", "009_C.jpg")] {
        let content = sample(photo);
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, &content[..]).expect("tar entry");
    }
    let tar = builder.into_inner().expect("tar");
    let job = finished(&app, import_body(&app, tar.clone(), "application/x-tar").await).await;
    assert_eq!((job["status"].as_str(), job["done"].as_u64(), job["total"].as_u64()), (Some("done"), Some(2), Some(2)));

    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&tar).unwrap();
    let job = finished(&app, import_form(&app, gzip.finish().unwrap()).await).await;
    assert_eq!((job["status"].as_str(), job["done"].as_u64()), (Some("done"), Some(2)), "{job}");
    assert_eq!(job["added"], json!({ "subjects": 0, "faces": 2 }));
    assert_eq!(faces_by_subject(&app).await, BTreeMap::from([("B".into(), 2), ("C".into(), 2)]));
}

#[tokio::test]
async fn names_that_climb_out_are_skipped_and_nothing_else_happens() {
    let app = spawn().await;
    let photo = sample("009_C.jpg");
    let archive = zip_of(&[
        ("../x/a.jpg", photo.clone()),
        ("C/../../b.jpg", photo.clone()),
        ("/etc/c.jpg", photo.clone()),
        ("..\\y\\d.jpg", photo.clone()),
        ("./C/009_C.jpg", photo),
    ]);
    let job = finished(&app, import_form(&app, archive).await).await;
    assert_eq!(
        (job["status"].as_str(), job["done"].as_u64(), job["skipped"].as_u64()),
        (Some("done"), Some(1), Some(4))
    );
    assert_eq!(
        reasons(&job["skipped_entries"]),
        map(&[("../x/a.jpg", UNSAFE), ("C/../../b.jpg", UNSAFE), ("/etc/c.jpg", UNSAFE), ("..\\y\\d.jpg", UNSAFE)])
    );
    assert_eq!(subjects(&app).await, ["C"]);
}

#[tokio::test]
async fn jobs_are_seen_only_by_their_service() {
    let app = spawn().await;
    let job = finished(&app, import_form(&app, zip_of(&[("C/009_C.jpg", sample("009_C.jpg"))])).await).await;
    let id = job["id"].as_str().unwrap();
    let path = format!("/api/v1/recognition/import/{id}");

    // Another process on the database answers too.
    let beside = spawn_beside(&app).await;
    let (status, same) = call(beside.client.get(beside.url(&path)), &beside.recognition).await;
    assert_eq!((status, same), (200, job.clone()));

    let unknown = uuid::Uuid::new_v4();
    let (status, body) =
        call(app.client.get(app.url(&format!("/api/v1/recognition/import/{unknown}"))), &app.recognition).await;
    assert_eq!((status, body), (404, error(&format!("Import job {unknown} not found"), 0)));
    let (status, body) = call(app.client.get(app.url("/api/v1/recognition/import/nope")), &app.recognition).await;
    assert_eq!((status, body), (404, error("Import job nope not found", 0)));

    let stranger = app.db.create_service(ServiceType::Recognition).await;
    let (status, body) = call(app.client.get(app.url(&path)), &stranger).await;
    assert_eq!((status, body), (404, error(&format!("Import job {id} not found"), 0)));
    let (status, body) = call(app.client.get(app.url(&path)), &app.detection).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], 10, "{body}");
}

#[tokio::test]
async fn a_job_whose_process_stopped_is_reported_interrupted() {
    let app = spawn().await;
    let id = app.db.store.create_import_job(app.recognition.id).await.unwrap();
    sqlx::query("UPDATE import_jobs SET heartbeat_at = now() - interval '2 minutes' WHERE id = $1")
        .bind(id)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (status, job) =
        call(app.client.get(app.url(&format!("/api/v1/recognition/import/{id}"))), &app.recognition).await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["status"], "failed");
    assert_eq!(job["error"], visage_store::jobs::INTERRUPTED);
}

#[tokio::test]
async fn uploads_over_the_limit_or_not_archives_are_refused() {
    let app = spawn_with(|settings| settings.max_import_size = 4096).await;
    let too_large = (413, error("The archive exceeds its maximum allowed size of 4096 bytes", 0));
    // Told by the declared length, and found while the upload is read.
    assert_eq!(import_body(&app, vec![0; 5000], "application/zip").await, too_large);
    let mut stream_too_large = vec![b'P', b'K', 3, 4];
    stream_too_large.resize(20_000, 0);
    assert_eq!(import_form(&app, stream_too_large).await, too_large);

    let not_an_archive = import_form(&app, sample("017_0.jpg")[..2000].to_vec()).await;
    assert_eq!(not_an_archive, (400, error("The file is not a zip or tar archive", 21)));
    assert_eq!(import_body(&app, Vec::new(), "application/zip").await, (400, error("The archive is empty", 21)));
    let form = Form::new().text("det_prob_threshold", "0.5");
    let request = app.client.post(app.url("/api/v1/recognition/import")).multipart(form);
    assert_eq!(call(request, &app.recognition).await, (400, error("Required part file is missing", 34)));
    assert_eq!(count(&app, "import_jobs").await, 0);
}

#[tokio::test]
async fn an_archive_that_cannot_be_read_fails_the_job() {
    let app = spawn().await;
    let mut broken = zip_of(&[("C/009_C.jpg", sample("009_C.jpg"))]);
    broken.truncate(broken.len() / 2);
    let job = finished(&app, import_form(&app, broken).await).await;
    assert_eq!((job["status"].as_str(), job["done"].as_u64()), (Some("failed"), Some(0)), "{job}");
    let error = job["error"].as_str().expect("why");
    assert!(error.starts_with("The zip archive cannot be read"), "{job}");
    assert_eq!(count(&app, "faces").await, 0);
}

#[tokio::test]
async fn the_export_lists_faces_whose_image_is_not_stored() {
    let app = spawn().await;
    let jpeg = sample("009_C.jpg");
    let face_box = visage_store::FaceBox::new(96, 140, 238, 330);
    let kept = NewFace { subject: "C", embedding: &[1.0, 0.0], calculator: "test", image: Some(&jpeg), face_box };
    let kept = app.db.store.add_face(app.recognition.id, kept).await.unwrap();
    let lost = NewFace { subject: "D", embedding: &[0.0, 1.0], calculator: "test", image: None, face_box: None };
    let lost = app.db.store.add_face(app.recognition.id, lost).await.unwrap();

    let exported = unzip(&export(&app).await);
    let manifest: Value = serde_json::from_slice(&exported["manifest.json"]).unwrap();
    assert_eq!(
        manifest["images"],
        json!([
            {
                "image_id": kept.image_id, "subject": "C", "file": format!("C/{}.jpg", kept.image_id),
                "box": { "x_min": 96, "y_min": 140, "x_max": 238, "y_max": 330 },
            },
            { "image_id": lost.image_id, "subject": "D", "missing": true },
        ])
    );
    let file = format!("C/{}.jpg", kept.image_id);
    assert_eq!(exported.keys().collect::<Vec<_>>(), [&file, "manifest.json"]);
    assert_eq!(exported[&file], jpeg);
}

/// Every face's box in the recognition service, in order; faces without one are left out.
async fn boxes(app: &TestApp) -> Vec<(i32, i32, i32, i32)> {
    sqlx::query_as(
        "SELECT box_x_min, box_y_min, box_x_max, box_y_max FROM faces WHERE model_id = $1 AND box_x_min IS NOT NULL \
         ORDER BY 1, 2, 3, 4",
    )
    .bind(app.recognition.id)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}
