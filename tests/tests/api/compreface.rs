//! Moving a CompreFace installation in (`admin-service import-compreface`): a CompreFace 1.2
//! database built from its changelogs (`tests/fixtures/compreface/schema.sql`) on a throwaway
//! database and filled as its admin and API would, imported into Visage's database with the real
//! core-service; then the old API keys recognise the imported people through api-service, the
//! old passwords log in through admin-service, and roles, applications, image ids and statistics
//! are as in CompreFace. The import runs in steps, is interrupted, runs again: it ends in the same
//! state and never writes anything twice. What is not CompreFace's, or collides with Visage's
//! rows, is refused with nothing written.

use std::time::Duration;

use admin_service::compreface::{self, FaceCounts, ImportError, ImportOptions, Summary};
use admin_service::testing::{json_of as admin_json, TestAdmin};
use api_service::testing::TestApp;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;
use visage_store::testing::TestDatabase;

use crate::helpers::*;

/// The guid CompreFace gave its demo user when the first user signed up and took it over.
const OWNER: &str = "3f1c2a5e-8d4b-4e7a-9c1d-0a6b5e4f3d21";
const ADMIN: &str = "5b7e9d1c-2f4a-4c8e-b3d6-7a9e1c5f2b43";
const MEMBER: &str = "8c2d4f6a-1b3e-4d5f-a7c9-e1b3d5f7a965";
const PENDING: &str = "9d3e5f7b-2c4d-4e6f-b8da-f2c4e6a8b076";
const FRONT_DOOR: &str = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d";
const BACK_OFFICE: &str = "2b3c4d5e-6f7a-4b9c-8d1e-2f3a4b5c6d7e";
const RESIDENTS: &str = "4d5e6f7a-8b9c-4d1e-8f3a-4b5c6d7e8f90";
const RESIDENTS_KEY: &str = "6f348698-6985-4296-914e-a5e3270cfad1";
const GATE_KEY: &str = "7a459709-7096-4307-a25f-b6f4381d0be2";
const BADGE_KEY: &str = "8b56a81a-81a7-4418-b360-c7a5492e1cf3";
const STAFF_KEY: &str = "9c67b92b-92b8-4529-8471-d8b65a3f2d04";

/// CompreFace's embedding ids (the `image_id`s its clients know), in id order, and their photos.
/// The large photos come last, so that an import killed after the small ones has work left.
fn faces() -> [(Uuid, &'static str, Option<&'static str>); 9] {
    let id = |n: u128| Uuid::from_u128(0xe0000000_0000_4000_8000_000000000000 | n);
    [
        (id(1), "Alice", Some("upstream-samples/002_A.jpg")),
        (id(2), "Alice", Some("upstream-samples/004_A.jpg")),
        (id(3), "Bob", Some("upstream-samples/007_B.jpg")),
        (id(4), "Nobody", Some("upstream-samples/017_0.jpg")),
        (id(5), "Carol", Some("upstream-samples/009_C.jpg")),
        // Stored while CompreFace ran with save_images_to_db=false.
        (id(6), "Dave", None),
        (id(7), "Alice", Some("upstream-samples/001_A.jpg")),
        (id(8), "Alice", Some("upstream-samples/005_A.jpg")),
        (id(9), "Alice", Some("upstream-samples/006_A.jpg")),
    ]
}

/// A bcrypt hash as CompreFace's Spring Security stores it.
fn compreface_hash(password: &str) -> String {
    let hash = bcrypt::hash_with_result(password, 4).expect("bcrypt").format_for_version(bcrypt::Version::TwoA);
    format!("{{bcrypt}}{hash}")
}

/// A database of its own on the test cluster, beside `db`, with the fixture's schema and demo.
async fn compreface_database(db: &TestDatabase) -> (String, PgPool) {
    let name = format!("compreface_{}", Uuid::new_v4().simple());
    let mut server = PgConnection::connect_with(&db.options.clone().database("postgres")).await.expect("connect");
    server.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await.expect("create database");
    server.close().await.ok();
    let url = db.url.replacen(&db.name, &name, 1);
    let pool = PgPool::connect(&url).await.expect("connect to the CompreFace database");
    let schema = String::from_utf8(fixture("compreface/schema.sql")).expect("UTF-8");
    sqlx::raw_sql(&schema).execute(&pool).await.expect("the CompreFace schema");
    (url, pool)
}

/// Fills CompreFace's database as its admin and API would: the first user took the demo user
/// over, three more signed up (one never confirmed), two applications with members and four
/// services, subjects with photos, a face stored without its photo, request statistics.
async fn fill(pool: &PgPool) {
    let sql = |s: &'static str| sqlx::query(s);
    // CompreFace's UserService.updateDemoUser: the demo user gets the new e-mail, password, names
    // and a new guid, and stays the global OWNER.
    sql("UPDATE \"user\" SET email = 'owner@example.com', password = $1, first_name = 'Olga', last_name = 'Owner', \
         guid = $2 WHERE id = 0")
    .bind(compreface_hash("owner-password"))
    .bind(OWNER)
    .execute(pool)
    .await
    .unwrap();
    for (id, email, password, role, enabled, guid) in [
        (1, "admin@example.com", "admin-password", "A", true, ADMIN),
        (2, "member@example.com", "member-password", "U", true, MEMBER),
        (3, "pending@example.com", "pending-password", "U", false, PENDING),
    ] {
        sql("INSERT INTO \"user\" (id, email, password, first_name, last_name, account_non_expired, \
             account_non_locked, credentials_non_expired, enabled, registration_token, guid, reg_time, global_role, \
             allow_statistics) VALUES ($1, $2, $3, 'First', 'Last', true, true, true, $4, \
             CASE WHEN $4 THEN NULL ELSE 'a7f0c1de-0000-4000-8000-000000000001' END, $5, \
             '2024-05-06 07:08:09', $6, true)")
        .bind(id as i64)
        .bind(email)
        .bind(compreface_hash(password))
        .bind(enabled)
        .bind(guid)
        .bind(role)
        .execute(pool)
        .await
        .unwrap();
    }
    for (id, name, guid) in [(1i64, "Front door", FRONT_DOOR), (2, "Back office", BACK_OFFICE)] {
        sql("INSERT INTO app (id, name, guid, api_key) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(name)
            .bind(guid)
            .bind(Uuid::new_v4().to_string())
            .execute(pool)
            .await
            .unwrap();
    }
    for (app, user, role) in [(1i64, 0i64, "O"), (1, 1, "A"), (1, 2, "U"), (2, 1, "O"), (2, 2, "U")] {
        sql("INSERT INTO user_app_role (app_id, user_id, role) VALUES ($1, $2, $3)")
            .bind(app)
            .bind(user)
            .bind(role)
            .execute(pool)
            .await
            .unwrap();
    }
    for (id, app, name, guid, key, kind) in [
        (1i64, 1i64, "residents", RESIDENTS, RESIDENTS_KEY, "R"),
        (2, 1, "gate", "5e6f7a8b-9c0d-4e2f-9a4b-5c6d7e8f9a01", GATE_KEY, "D"),
        (3, 1, "badge check", "6f7a8b9c-0d1e-4f3a-8b5c-6d7e8f9a0b12", BADGE_KEY, "V"),
        (4, 2, "staff", "7a8b9c0d-1e2f-4a4b-9c6d-7e8f9a0b1c23", STAFF_KEY, "R"),
    ] {
        sql("INSERT INTO model (id, name, guid, app_id, api_key, type, created_date) \
             VALUES ($1, $2, $3, $4, $5, $6, '2024-06-01 12:00:00')")
        .bind(id)
        .bind(name)
        .bind(guid)
        .bind(app)
        .bind(key)
        .bind(kind)
        .execute(pool)
        .await
        .unwrap();
    }
    for (subject, key) in [
        ("Alice", RESIDENTS_KEY),
        ("Bob", RESIDENTS_KEY),
        ("Nobody", RESIDENTS_KEY),
        ("Carol", STAFF_KEY),
        ("Dave", STAFF_KEY),
    ] {
        sql("INSERT INTO subject (id, api_key, subject_name) VALUES (uuid_generate_v4(), $1, $2)")
            .bind(key)
            .bind(subject)
            .execute(pool)
            .await
            .unwrap();
    }
    for (id, subject, photo) in faces() {
        let img = match photo {
            Some(photo) => {
                let img = Uuid::new_v4();
                sql("INSERT INTO img (id, content) VALUES ($1, $2)")
                    .bind(img)
                    .bind(fixture(photo))
                    .execute(pool)
                    .await
                    .unwrap();
                Some(img)
            }
            None => None,
        };
        sql("INSERT INTO embedding (id, subject_id, embedding, calculator, img_id) \
             SELECT $1, id, array_fill(0.03::float8, ARRAY[512]), 'Facenet2018', $3 FROM subject WHERE subject_name = $2")
        .bind(id)
        .bind(subject)
        .bind(img)
        .execute(pool)
        .await
        .unwrap();
    }
    // Hourly rows: two of one day add up.
    for (id, model, count, at) in [
        (1i64, 1i64, 5, "2025-03-01 10:00:00"),
        (2, 1, 7, "2025-03-01 11:00:00"),
        (3, 1, 3, "2025-03-02 09:00:00"),
        (4, 2, 4, "2025-03-01 10:00:00"),
    ] {
        sql("INSERT INTO model_statistic (id, request_count, model_id, created_date) VALUES ($1, $2, $3, $4::timestamp)")
            .bind(id)
            .bind(count)
            .bind(model)
            .bind(at)
            .execute(pool)
            .await
            .unwrap();
    }
}

fn options(from: &str, max_faces: Option<u64>) -> ImportOptions {
    ImportOptions { from: from.to_string(), core_url: integration_tests::core::url().to_string(), max_faces }
}

/// Every row of the tables an import writes, as one fingerprint per table.
async fn snapshot(db: &TestDatabase) -> Vec<(&'static str, i64, String)> {
    let mut rows = Vec::new();
    for table in ["users", "apps", "app_roles", "models", "subjects", "faces", "images", "model_statistics"] {
        let row: (i64, String) = sqlx::query_as(&format!(
            "SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {table} t"
        ))
        .fetch_one(db.pool())
        .await
        .expect("snapshot");
        rows.push((table, row.0, row.1));
    }
    rows
}

async fn with_key(request: reqwest::RequestBuilder, key: &str) -> (u16, Value) {
    json_of(request.header("x-api-key", key).send().await.expect("request failed")).await
}

fn photo(path: &str) -> Part {
    Part::bytes(fixture(path)).file_name(path.rsplit('/').next().unwrap_or(path).to_string())
}

async fn recognize_with_key(api: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let request =
        api.client.post(api.url("/api/v1/recognition/recognize")).multipart(Form::new().part("file", photo(path)));
    with_key(request, key).await
}

fn counted(total: u64, new: u64, changed: u64) -> compreface::Count {
    compreface::Count { total, new, changed }
}

#[tokio::test]
async fn a_compreface_installation_moves_in_with_its_keys_passwords_and_faces() {
    let api = spawn().await;
    let (from, source) = compreface_database(&api.db).await;
    fill(&source).await;

    // In two steps: at most two photos first.
    let first = compreface::import(api.db.options.clone(), &options(&from, Some(2))).await.expect("first import");
    assert_eq!(first.users, counted(4, 4, 0), "{first}");
    assert!(!first.demo_user_skipped);
    // The demo application lands on ours (the same id): renamed, CompreFace's key.
    assert_eq!(first.apps, counted(3, 2, 1), "{first}");
    assert_eq!(first.members, counted(6, 6, 0), "{first}");
    // Of the demo services only the recognition one differs (its name).
    assert_eq!(first.services, counted(7, 4, 1), "{first}");
    assert_eq!(first.service_types, [3, 2, 2]);
    assert_eq!(first.subjects, counted(25, 25, 0), "{first}");
    assert_eq!(first.statistics, counted(3, 3, 0), "{first}");
    let expected = FaceCounts { in_compreface: 29, imported: 2, without_image: 21, left: 6, ..FaceCounts::default() };
    assert_eq!(first.faces, expected, "{first}");
    assert_eq!(first.removed_demo, vec!["the demo user nobody had taken over".to_string()]);
    let text = first.to_string();
    assert!(text.contains("Imported from CompreFace") && text.contains("left for later"), "{text}");

    // Interrupted: killed as soon as one more face is stored (a small photo; the large ones
    // take longer).
    let (database, all) = (api.db.options.clone(), options(&from, None));
    let killed = tokio::spawn(async move { compreface::import(database, &all).await });
    for _ in 0..6000 {
        if count_rows(&api.db, "faces").await >= 3 || killed.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    killed.abort();
    let _ = killed.await;
    let stored_before = count_rows(&api.db, "faces").await;
    assert!(stored_before >= 3, "{stored_before}");

    // The next run finishes what is left (the killed run's lock goes with its connection).
    let rest = import_when_unlocked(&api.db, &from).await;
    assert_eq!(rest.users, counted(4, 0, 0), "{rest}");
    assert_eq!(
        (rest.apps, rest.members, rest.services),
        (counted(3, 0, 0), counted(6, 0, 0), counted(7, 0, 0)),
        "{rest}"
    );
    assert_eq!((rest.subjects, rest.statistics), (counted(25, 0, 0), counted(3, 0, 0)), "{rest}");
    assert_eq!(rest.faces.imported + rest.faces.already_imported, 7, "{rest}");
    assert!(rest.faces.already_imported as i64 >= stored_before, "{rest}");
    assert!(rest.faces.imported > 0, "the kill came after the end: {rest}");
    assert_eq!((rest.faces.without_face, rest.faces.without_image, rest.faces.left), (1, 21, 0), "{rest}");
    assert!(rest.removed_demo.is_empty());
    let nobody = rest.skipped_faces.iter().find(|f| f.subject == "Nobody").expect("the photo without a face is named");
    assert_eq!((nobody.image_id, nobody.service.as_str()), (faces()[3].0, "residents"));
    assert!(rest.skipped_faces.iter().any(|f| f.subject == "Dave" && f.reason == compreface::SkipReason::NoImage));
    let complete = snapshot(&api.db).await;

    // Once more: nothing changes, nothing is written twice.
    let again = compreface::import(api.db.options.clone(), &options(&from, None)).await.expect("third import");
    let unchanged = FaceCounts {
        in_compreface: 29,
        already_imported: 7,
        without_face: 1,
        without_image: 21,
        ..FaceCounts::default()
    };
    assert_eq!(again.faces, unchanged, "{again}");
    assert_eq!((again.users, again.subjects), (counted(4, 0, 0), counted(25, 0, 0)), "{again}");
    assert_eq!(snapshot(&api.db).await, complete);
    let imported: Vec<Uuid> =
        faces().iter().filter(|(_, s, _)| !matches!(*s, "Nobody" | "Dave")).map(|f| f.0).collect();
    let stored: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM faces ORDER BY id").fetch_all(api.db.pool()).await.unwrap();
    assert_eq!(stored, imported);
    assert_eq!(count_rows(&api.db, "images").await, 7);

    // Statistics per day: CompreFace's hours summed (before the recognitions below count today).
    let days: Vec<(String, i64)> =
        sqlx::query_as("SELECT day::text, request_count FROM model_statistics WHERE model_id = $1 ORDER BY day")
            .bind(RESIDENTS.parse::<Uuid>().unwrap())
            .fetch_all(api.db.pool())
            .await
            .unwrap();
    assert_eq!(days, vec![("2025-03-01".to_string(), 12), ("2025-03-02".to_string(), 3)]);

    // The old keys recognise the imported people.
    let (status, body) = recognize_with_key(&api, RESIDENTS_KEY, "upstream-samples/003_A.jpg").await;
    assert_eq!((status, subjects_of(&body).first().map(String::as_str)), (200, Some("Alice")), "{body}");
    let (status, body) = recognize_with_key(&api, RESIDENTS_KEY, "upstream-samples/008_B.jpg").await;
    assert_eq!((status, subjects_of(&body).first().map(String::as_str)), (200, Some("Bob")), "{body}");
    let (status, body) = recognize_with_key(&api, STAFF_KEY, "upstream-samples/009_C.jpg").await;
    assert_eq!((status, subjects_of(&body).first().map(String::as_str)), (200, Some("Carol")), "{body}");
    // Under CompreFace's image ids, with the photos byte for byte.
    let (status, body) = with_key(api.client.get(api.url("/api/v1/recognition/faces")), RESIDENTS_KEY).await;
    assert_eq!(status, 200, "{body}");
    let mut listed: Vec<Uuid> =
        body["faces"].as_array().unwrap().iter().map(|f| f["image_id"].as_str().unwrap().parse().unwrap()).collect();
    listed.sort();
    let residents: Vec<Uuid> = faces().iter().filter(|f| matches!(f.1, "Alice" | "Bob")).map(|f| f.0).collect();
    assert_eq!(listed, residents, "{body}");
    let url = api.url(&format!("/api/v1/recognition/faces/{}/img", faces()[0].0));
    let image = api.client.get(url).header("x-api-key", RESIDENTS_KEY).send().await.unwrap();
    assert_eq!(image.bytes().await.unwrap().to_vec(), fixture("upstream-samples/002_A.jpg"));
    // With the box core-service found, where Bob's annotated nose is.
    let url = api.url(&format!("/api/v1/recognition/faces/{}/details", faces()[2].0));
    let (status, details) = with_key(api.client.get(url), RESIDENTS_KEY).await;
    assert_eq!((status, &details["subject"], &details["has_image"]), (200, &json!("Bob"), &json!(true)), "{details}");
    let b = &details["box"];
    assert!(b["x_min"].as_i64() <= Some(205) && Some(205) <= b["x_max"].as_i64(), "{details}");
    assert!(b["y_min"].as_i64() <= Some(299) && Some(299) <= b["y_max"].as_i64(), "{details}");
    let (_, body) = with_key(api.client.get(api.url("/api/v1/recognition/subjects")), RESIDENTS_KEY).await;
    assert_eq!(body["subjects"], json!(["Alice", "Bob", "Nobody"]));
    let (_, body) = with_key(api.client.get(api.url("/api/v1/recognition/subjects")), STAFF_KEY).await;
    assert_eq!(body["subjects"], json!(["Carol", "Dave"]));
    // The demo key still serves CompreFace's demo collection (names only: no photos).
    let (_, body) =
        with_key(api.client.get(api.url("/api/v1/recognition/subjects")), "00000000-0000-0000-0000-000000000002").await;
    assert_eq!(body["subjects"].as_array().map(Vec::len), Some(20), "{body}");
    // Detection and verification keys.
    let request = api
        .client
        .post(api.url("/api/v1/detection/detect"))
        .multipart(Form::new().part("file", photo("upstream-samples/009_C.jpg")));
    let (status, body) = with_key(request, GATE_KEY).await;
    assert_eq!((status, body["result"].as_array().map(Vec::len)), (200, Some(1)), "{body}");
    let form = Form::new()
        .part("source_image", photo("upstream-samples/007_B.jpg"))
        .part("target_image", photo("upstream-samples/008_B.jpg"));
    let (status, body) =
        with_key(api.client.post(api.url("/api/v1/verification/verify")).multipart(form), BADGE_KEY).await;
    assert_eq!(status, 200, "{body}");

    // The old passwords log in (and are rehashed); the unconfirmed user stays disabled.
    let admin = TestAdmin::spawn_on(api.db.clone(), |_| {}).await;
    let owner = admin.token("owner@example.com", "owner-password").await;
    let member = admin.token("member@example.com", "member-password").await;
    admin.token("admin@example.com", "admin-password").await;
    let (status, body) = admin.login("owner@example.com", "wrong-password").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = admin.login("pending@example.com", "pending-password").await;
    assert_eq!((status, body["error_description"].as_str()), (400, Some("User is disabled")), "{body}");
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'owner@example.com'")
        .fetch_one(api.db.pool())
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    // Users keep their ids and global roles; applications their members and roles.
    let get = |path: String, token: String| {
        let request = admin.client.get(admin.url(&path)).bearer_auth(token);
        async move { admin_json(request.send().await.unwrap()).await }
    };
    let (_, me) = get("/user/me".to_string(), owner.clone()).await;
    assert_eq!(me["userId"], OWNER);
    let (_, users) = get("/user/roles".to_string(), owner.clone()).await;
    let mut roles: Vec<(String, String)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["email"].as_str().unwrap().to_string(), u["role"].as_str().unwrap().to_string()))
        .collect();
    roles.sort();
    let expected_roles = [
        ("admin@example.com", "ADMINISTRATOR"),
        ("member@example.com", "USER"),
        ("owner@example.com", "OWNER"),
        ("pending@example.com", "USER"),
    ];
    assert_eq!(roles, expected_roles.map(|(e, r)| (e.to_string(), r.to_string())));
    let (_, apps) = get("/apps".to_string(), member.clone()).await;
    let mut names: Vec<&str> = apps.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["Back office", "Front door"], "{apps}");
    let (_, members) = get(format!("/app/{FRONT_DOOR}/roles"), member.clone()).await;
    let mut members: Vec<(String, String)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["userId"].as_str().unwrap().to_string(), m["role"].as_str().unwrap().to_string()))
        .collect();
    members.sort();
    let mut expected_members = [(ADMIN, "ADMINISTRATOR"), (MEMBER, "USER"), (OWNER, "OWNER")]
        .map(|(u, r)| (u.to_string(), r.to_string()))
        .to_vec();
    expected_members.sort();
    assert_eq!(members, expected_members);
    let (_, services) = get(format!("/app/{FRONT_DOOR}/models"), owner.clone()).await;
    let mut services: Vec<(String, String, String)> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let field = |k: &str| s[k].as_str().unwrap().to_string();
            (field("name"), field("type"), field("apiKey"))
        })
        .collect();
    services.sort();
    let expected_services = [
        ("badge check", "VERIFY", BADGE_KEY),
        ("gate", "DETECTION", GATE_KEY),
        ("residents", "RECOGNITION", RESIDENTS_KEY),
    ];
    assert_eq!(services, expected_services.map(|(n, t, k)| (n.to_string(), t.to_string(), k.to_string())));
}

/// Runs the import, waiting while the lock of a killed run is still held.
async fn import_when_unlocked(db: &TestDatabase, from: &str) -> Summary {
    for _ in 0..100 {
        match compreface::import(db.options.clone(), &options(from, None)).await {
            Err(ImportError::Busy) => tokio::time::sleep(Duration::from_millis(100)).await,
            result => return result.expect("import"),
        }
    }
    panic!("the killed import's lock was never released");
}

async fn count_rows(db: &TestDatabase, from: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {from}")).fetch_one(db.pool()).await.expect("count")
}

#[tokio::test]
async fn what_is_not_a_compreface_database_is_refused_and_nothing_changes() {
    let db = TestDatabase::create().await;
    let before = snapshot(&db).await;
    let closed = api_service::testing::closed_port_url().replace("http://", "postgres://u:p@") + "/frs";
    let missing = db.url.replacen(&db.name, "no_such_database", 1);
    let cases = [
        ("mysql://u:p@localhost/frs", "no PostgreSQL URL"),
        (closed.as_str(), "cannot connect to CompreFace's database"),
        (missing.as_str(), "does not exist"),
        // Visage's own database: no CompreFace tables.
        (db.url.as_str(), "is not a CompreFace 1.x database: it has no table \"user\", table \"app\""),
    ];
    for (from, message) in cases {
        let error = compreface::import(db.options.clone(), &options(from, None)).await.unwrap_err();
        assert!(matches!(error, ImportError::Source(_)), "{from}: {error:?}");
        assert!(error.to_string().contains(message), "{from}: {error}");
        assert!(!error.to_string().contains(":p@"), "the password is never shown: {error}");
    }

    // CompreFace's database, but core-service down: refused before anything is written.
    let (from, source) = compreface_database(&db).await;
    fill(&source).await;
    let down = ImportOptions { core_url: api_service::testing::closed_port_url(), ..options(&from, None) };
    let error = compreface::import(db.options.clone(), &down).await.unwrap_err();
    assert!(matches!(error, ImportError::Core(_)), "{error:?}");
    assert!(error.to_string().contains("--core"), "{error}");
    assert_eq!(snapshot(&db).await, before);
}

#[tokio::test]
async fn rows_that_collide_with_visage_are_listed_and_nothing_is_written() {
    let admin = TestAdmin::spawn().await;
    let (from, source) = compreface_database(&admin.db).await;
    fill(&source).await;
    // Visage was used before: its first user took the installation over with CompreFace's
    // owner's e-mail address, and made an application with a name CompreFace has.
    admin.register("Owner@Example.com", "visage-password", "Olga", "Owner").await;
    sqlx::query("INSERT INTO apps (name) VALUES ('Front door')").execute(admin.db.pool()).await.unwrap();
    let before = snapshot(&admin.db).await;

    let error = compreface::import(admin.db.options.clone(), &options(&from, None)).await.unwrap_err();
    let ImportError::Conflicts(conflicts) = &error else { panic!("{error:?}") };
    assert_eq!(conflicts.len(), 3, "{error}");
    let text = error.to_string();
    assert!(text.starts_with("nothing was imported"), "{text}");
    for part in [
        "the e-mail address owner@example.com of CompreFace's user",
        "Visage already has a global OWNER, Owner@Example.com",
        "the name \"Front door\" of CompreFace's application",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
    // Not even the demo cleanup stayed.
    assert_eq!(snapshot(&admin.db).await, before);
    admin.token("Owner@Example.com", "visage-password").await;
}
