//! The store against a real Postgres: every test gets a fresh migrated database.

use futures::TryStreamExt;
use uuid::Uuid;
use visage_store::subjects::GalleryEntry;
use visage_store::testing::TestDatabase;
use visage_store::{DeletionKind, FaceBox, FaceRef, NewFace, ServiceType, Store, StoreError};

const DEMO_RECOGNITION: &str = "00000000-0000-0000-0000-000000000002";

fn face<'a>(subject: &'a str, embedding: &'a [f32], image: Option<&'a [u8]>) -> NewFace<'a> {
    NewFace { subject, embedding, calculator: "test.Calculator", image, face_box: None }
}

async fn recognition() -> (TestDatabase, Uuid) {
    let db = TestDatabase::create().await;
    let service = db.create_service(ServiceType::Recognition).await;
    (db, service.id)
}

#[tokio::test]
async fn migrations_seed_the_demo_services_and_apply_once() {
    let db = TestDatabase::create().await;
    for (key, kind) in [
        (DEMO_RECOGNITION, ServiceType::Recognition),
        ("00000000-0000-0000-0000-000000000003", ServiceType::Detection),
        ("00000000-0000-0000-0000-000000000004", ServiceType::Verification),
    ] {
        let key = Uuid::parse_str(key).unwrap();
        let service = db.store.find_service_by_api_key(key).await.unwrap().expect("demo service");
        assert_eq!((service.api_key, service.service_type), (key, kind));
    }
    assert_eq!(db.store.find_service_by_api_key(Uuid::new_v4()).await.unwrap(), None);

    // Services starting together on one database: both migrate, nothing is applied twice.
    let other = Store::connect(db.options.clone(), 2).await.unwrap();
    let (a, b) = tokio::join!(db.store.migrate(), other.migrate());
    a.unwrap();
    b.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(db.pool()).await.unwrap();
    assert_eq!(applied, visage_store::MIGRATOR.iter().count() as i64);
}

#[tokio::test]
async fn subjects_are_unique_without_regard_to_case_and_names_are_data() {
    let (db, model) = recognition().await;
    let store = &db.store;
    let names = ["Élan", r#"O'Brien"; DROP TABLE subjects; --"#, "名前", "a\"b", "x%_y"];
    for name in names {
        assert_eq!(store.create_subject(model, name).await.unwrap(), name);
    }
    assert!(matches!(store.create_subject(model, "élan").await, Err(StoreError::SubjectAlreadyExists)));
    assert!(matches!(store.create_subject(model, "ÉLAN").await, Err(StoreError::SubjectAlreadyExists)));
    assert_eq!(store.list_subjects(model).await.unwrap(), names);

    // Another service has a namespace of its own.
    let other = db.create_service(ServiceType::Recognition).await.id;
    assert_eq!(store.create_subject(other, "élan").await.unwrap(), "élan");
    assert_eq!(store.list_subjects(other).await.unwrap(), ["élan"]);
}

#[tokio::test]
async fn concurrent_creates_of_one_subject_admit_exactly_one() {
    let (db, model) = recognition().await;
    let attempts = (0..8).map(|i| {
        let store = db.store.clone();
        let name = if i % 2 == 0 { "Twin" } else { "twin" };
        tokio::spawn(async move { store.create_subject(model, name).await })
    });
    let results = futures::future::join_all(attempts).await;
    let created = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    let taken = results.iter().filter(|r| matches!(r, Ok(Err(StoreError::SubjectAlreadyExists)))).count();
    assert_eq!((created, taken), (1, 7));
    assert_eq!(db.store.list_subjects(model).await.unwrap().len(), 1);
}

#[tokio::test]
async fn rename_renames_merges_or_reports_unknown() {
    let (db, model) = recognition().await;
    let store = &db.store;
    let a1 = store.add_face(model, face("Anna", &[1.0, 0.0], None)).await.unwrap();
    let b1 = store.add_face(model, face("Bob", &[0.0, 1.0], None)).await.unwrap();

    assert!(!store.rename_subject(model, "Anna", "Anna").await.unwrap());
    // Letter case only: the same subject, renamed.
    assert!(store.rename_subject(model, "anna", "ANNA").await.unwrap());
    assert_eq!(store.list_subjects(model).await.unwrap(), ["ANNA", "Bob"]);
    // Plain rename.
    assert!(store.rename_subject(model, "ANNA", "Anne").await.unwrap());
    // Merge: Bob's face moves to Anne (which keeps its spelling), Bob disappears.
    assert!(store.rename_subject(model, "Bob", "anne").await.unwrap());
    assert_eq!(store.list_subjects(model).await.unwrap(), ["Anne"]);
    let page = store.list_faces(model, None, 0, 10).await.unwrap();
    let anne = |id| FaceRef { image_id: id, subject: "Anne".into() };
    assert_eq!(page.faces, [anne(a1.image_id), anne(b1.image_id)]);

    match store.rename_subject(model, "Nobody", "X").await {
        Err(StoreError::SubjectNotFound(name)) => assert_eq!(name, "Nobody"),
        other => panic!("expected SubjectNotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn delete_subject_takes_its_faces_and_images() {
    let (db, model) = recognition().await;
    let store = &db.store;
    let kept = store.add_face(model, face("Keep", &[1.0], Some(b"jpeg"))).await.unwrap();
    store.add_face(model, face("Gone", &[1.0], Some(b"png"))).await.unwrap();
    store.add_face(model, face("gone", &[0.5], None)).await.unwrap();

    assert_eq!(store.delete_subject(model, "GONE").await.unwrap(), "Gone");
    assert!(matches!(store.delete_subject(model, "Gone").await, Err(StoreError::SubjectNotFound(_))));
    let images: i64 = sqlx::query_scalar("SELECT count(*) FROM images").fetch_one(db.pool()).await.unwrap();
    assert_eq!(images, 1);
    assert_eq!(store.list_faces(model, None, 0, 10).await.unwrap().faces, [kept]);

    store.create_subject(model, "Empty").await.unwrap();
    assert_eq!(store.delete_all_subjects(model).await.unwrap(), 2);
    assert_eq!(store.list_faces(model, None, 0, 10).await.unwrap().total, 0);
    assert_eq!(store.delete_all_subjects(model).await.unwrap(), 0);
}

#[tokio::test]
async fn add_face_creates_or_reuses_the_subject_and_keeps_the_embedding_exactly() {
    let (db, model) = recognition().await;
    let store = &db.store;
    let embedding: Vec<f32> = (0..512).map(|i| (i as f32 * 0.37).sin() / 16.0).collect();
    let first = store.add_face(model, face("Carol", &embedding, Some(&[0xff, 0xd8, 1, 2]))).await.unwrap();
    assert_eq!(first.subject, "Carol");
    // Another spelling finds the same subject.
    let second = store.add_face(model, face("CAROL", &[0.25; 512], None)).await.unwrap();
    assert_eq!(second.subject, "Carol");
    assert_eq!(store.list_subjects(model).await.unwrap(), ["Carol"]);

    let stored = store.get_face(model, first.image_id).await.unwrap().unwrap();
    assert_eq!(stored.embedding, embedding);
    assert_eq!((stored.subject.as_str(), stored.calculator.as_str()), ("Carol", "test.Calculator"));
    assert_eq!(store.face_image(model, first.image_id).await.unwrap(), Some(Some(vec![0xff, 0xd8, 1, 2])));
    assert_eq!(store.face_image(model, second.image_id).await.unwrap(), Some(None));
    assert_eq!(store.face_image(model, Uuid::new_v4()).await.unwrap(), None);

    // Faces belong to their service only.
    let other = db.create_service(ServiceType::Recognition).await.id;
    assert_eq!(store.get_face(other, first.image_id).await.unwrap(), None);
    assert_eq!(store.face_image(other, first.image_id).await.unwrap(), None);
    assert_eq!(store.delete_face(other, first.image_id).await.unwrap(), None);
}

#[tokio::test]
async fn faces_page_in_insertion_order_with_totals_and_exact_subject_filter() {
    let (db, model) = recognition().await;
    let store = &db.store;
    let mut ids = Vec::new();
    for i in 0..5 {
        let subject = if i % 2 == 0 { "Even" } else { "Odd" };
        ids.push(store.add_face(model, face(subject, &[i as f32], None)).await.unwrap().image_id);
    }
    let page = store.list_faces(model, None, 1, 2).await.unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(page.faces.iter().map(|f| f.image_id).collect::<Vec<_>>(), &ids[2..4]);
    let odd = store.list_faces(model, Some("Odd"), 0, 10).await.unwrap();
    assert_eq!(odd.total, 2);
    assert_eq!(odd.faces.iter().map(|f| f.image_id).collect::<Vec<_>>(), [ids[1], ids[3]]);
    assert_eq!(store.list_faces(model, Some("odd"), 0, 10).await.unwrap().total, 0);
    let past_end = store.list_faces(model, None, 9, 2).await.unwrap();
    assert_eq!((past_end.faces.len(), past_end.total), (0, 5));
}

#[tokio::test]
async fn deletes_report_what_they_removed() {
    let (db, model) = recognition().await;
    let store = &db.store;
    let mut ids = Vec::new();
    for subject in ["A", "A", "B", "B", "C"] {
        ids.push(store.add_face(model, face(subject, &[1.0, 2.0], Some(b"img"))).await.unwrap().image_id);
    }
    let one = store.delete_face(model, ids[0]).await.unwrap();
    assert_eq!(one, Some(FaceRef { image_id: ids[0], subject: "A".into() }));
    assert_eq!(store.delete_face(model, ids[0]).await.unwrap(), None);

    // Bulk: unknown ids skipped, answer in the order asked.
    let bulk = store.delete_faces(model, &[ids[3], Uuid::new_v4(), ids[1]]).await.unwrap();
    assert_eq!(
        bulk,
        [FaceRef { image_id: ids[3], subject: "B".into() }, FaceRef { image_id: ids[1], subject: "A".into() }]
    );

    // By subject: its faces and the subject itself.
    assert_eq!(store.delete_subject_faces(model, "b").await.unwrap(), 1);
    assert_eq!(store.delete_subject_faces(model, "Nobody").await.unwrap(), 0);
    assert_eq!(store.list_subjects(model).await.unwrap(), ["A", "C"]);

    assert_eq!(store.delete_all_faces(model).await.unwrap(), 1);
    assert!(store.list_subjects(model).await.unwrap().is_empty());
    let images: i64 = sqlx::query_scalar("SELECT count(*) FROM images").fetch_one(db.pool()).await.unwrap();
    assert_eq!(images, 0);
}

#[tokio::test]
async fn streams_every_face_of_a_service_or_of_all() {
    let (db, model) = recognition().await;
    let other = db.create_service(ServiceType::Recognition).await.id;
    let store = &db.store;
    let a = store.add_face(model, face("A", &[0.5, -0.5], None)).await.unwrap();
    let b = store.add_face(model, face("B", &[1.5, 2.5], None)).await.unwrap();
    let c = store.add_face(other, face("C", &[3.0, 4.0], None)).await.unwrap();

    let mine: Vec<_> = store.stream_faces(Some(model)).try_collect().await.unwrap();
    assert_eq!(mine.iter().map(|f| f.image_id).collect::<Vec<_>>(), [a.image_id, b.image_id]);
    assert_eq!(mine[1].embedding, [1.5, 2.5]);
    assert_eq!(mine[1].subject, "B");

    let mut all: Vec<_> = store.stream_faces(None).try_collect().await.unwrap();
    all.sort_by_key(|f| f.image_id);
    let mut expected = vec![(a.image_id, model), (b.image_id, model), (c.image_id, other)];
    expected.sort();
    assert_eq!(all.iter().map(|f| (f.image_id, f.model_id)).collect::<Vec<_>>(), expected);
}

#[tokio::test]
async fn bulk_reads_give_raw_embeddings_in_insertion_order_and_subjects_apart() {
    let (db, model) = recognition().await;
    let other = db.create_service(ServiceType::Recognition).await.id;
    let store = &db.store;
    let b = store.add_face(model, face("B", &[1.5, 2.5], None)).await.unwrap();
    let a = store.add_face(model, face("A", &[0.5, -0.5], None)).await.unwrap();
    let a2 = store.add_face(model, face("a", &[0.25, 0.75], None)).await.unwrap();
    store.add_face(other, face("C", &[3.0, 4.0], None)).await.unwrap();

    let rows: Vec<_> = store.stream_embeddings(model).try_collect().await.unwrap();
    assert_eq!(rows.iter().map(|r| r.image_id).collect::<Vec<_>>(), [b.image_id, a.image_id, a2.image_id]);
    assert_eq!(rows[0].embedding, visage_store::embedding::to_bytes(&[1.5, 2.5]));
    assert_eq!(rows[1].subject_id, rows[2].subject_id, "subject names are case-insensitive");

    let mut subjects = store.subjects_with_ids(model).await.unwrap();
    subjects.sort_by(|x, y| x.1.cmp(&y.1));
    assert_eq!(subjects.iter().map(|s| s.1.as_str()).collect::<Vec<_>>(), ["A", "B"]);
    assert_eq!(subjects[0].0, rows[1].subject_id);
    assert_eq!(subjects[1].0, rows[0].subject_id);
}

#[tokio::test]
async fn statistics_count_requests_per_day() {
    let (db, model) = recognition().await;
    let store = &db.store;
    store.record_request(model).await.unwrap();
    store.record_request(model).await.unwrap();
    let yesterday = chrono::Utc::now().date_naive().pred_opt().unwrap();
    store.add_requests(model, yesterday, 5).await.unwrap();
    let counts = store.request_counts(model, yesterday).await.unwrap();
    assert_eq!(counts, [(yesterday, 5), (chrono::Utc::now().date_naive(), 2)]);
}

#[tokio::test]
async fn calculator_mismatches_separate_the_demo_service() {
    let (db, model) = recognition().await;
    let store = &db.store;
    let demo_key = Uuid::parse_str(DEMO_RECOGNITION).unwrap();
    let demo = store.find_service_by_api_key(demo_key).await.unwrap().unwrap().id;
    assert_eq!(store.calculator_mismatches(demo_key, "Facenet2018", "new").await.unwrap(), (false, false));
    store.add_face(model, NewFace { calculator: "new", ..face("A", &[1.0], None) }).await.unwrap();
    store.add_face(demo, NewFace { calculator: "Facenet2018", ..face("A", &[1.0], None) }).await.unwrap();
    assert_eq!(store.calculator_mismatches(demo_key, "Facenet2018", "new").await.unwrap(), (false, false));
    store.add_face(model, NewFace { calculator: "old", ..face("B", &[1.0], None) }).await.unwrap();
    assert_eq!(store.calculator_mismatches(demo_key, "Facenet2018", "new").await.unwrap(), (false, true));
    store.add_face(demo, NewFace { calculator: "new", ..face("B", &[1.0], None) }).await.unwrap();
    assert_eq!(store.calculator_mismatches(demo_key, "Facenet2018", "new").await.unwrap(), (true, true));
}

#[tokio::test]
async fn calculator_mismatches_without_a_demo_service_and_with_old_faces_only_in_it() {
    let (db, model) = recognition().await;
    let store = &db.store;
    let demo_key = Uuid::parse_str(DEMO_RECOGNITION).unwrap();
    let demo = store.find_service_by_api_key(demo_key).await.unwrap().unwrap().id;
    // An old embedder's faces in the demo collection alone are not the other services' problem.
    store.add_face(demo, NewFace { calculator: "old", ..face("A", &[1.0], None) }).await.unwrap();
    store.add_face(model, NewFace { calculator: "new", ..face("A", &[1.0], None) }).await.unwrap();
    assert_eq!(store.calculator_mismatches(demo_key, "Facenet2018", "new").await.unwrap(), (true, false));
    // The demo service deleted: every service is compared with the current embedder.
    sqlx::query("DELETE FROM models WHERE id = $1").bind(demo).execute(db.pool()).await.unwrap();
    store.add_face(model, NewFace { calculator: "old", ..face("B", &[1.0], None) }).await.unwrap();
    assert_eq!(store.calculator_mismatches(demo_key, "Facenet2018", "new").await.unwrap(), (false, true));
}

/// The UI asks for the consistency before every page: on a large collection written in bulk, the
/// query reads a few index pages whatever plan PostgreSQL makes of it (a generic plan, which a
/// prepared statement gets after five runs, knows nothing of the calculators). Checked in the
/// plan's buffer counts, not by timing: a scan of the faces reads thousands of pages.
#[tokio::test]
async fn calculator_mismatches_read_a_few_index_pages_on_a_large_collection() {
    const FACES: i64 = 200_000;
    let (db, model) = recognition().await;
    let store = &db.store;
    let demo_key = Uuid::parse_str(DEMO_RECOGNITION).unwrap();
    let demo = store.find_service_by_api_key(demo_key).await.unwrap().unwrap().id;
    store.add_face(model, NewFace { calculator: "arcface", ..face("A", &[1.0], None) }).await.unwrap();
    store.add_face(demo, NewFace { calculator: "Facenet2018", ..face("A", &[1.0], None) }).await.unwrap();
    let subject: Uuid = sqlx::query_scalar("SELECT id FROM subjects WHERE model_id = $1")
        .bind(model)
        .fetch_one(db.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO faces (model_id, subject_id, embedding, dimension, calculator) \
         SELECT $1, $2, '\\x0000803f'::bytea, 1, 'arcface' FROM generate_series(1, $3)",
    )
    .bind(model)
    .bind(subject)
    .bind(FACES)
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query("ANALYZE faces").execute(db.pool()).await.unwrap();

    // PREPARE and EXPLAIN EXECUTE, as a driver's prepared statement is planned: with
    // plan_cache_mode forcing each kind of plan.
    let mut conn = db.pool().acquire().await.unwrap();
    let prepare = format!("PREPARE mismatches(uuid, text, text) AS {}", visage_store::faces::CALCULATOR_MISMATCHES);
    sqlx::raw_sql(&prepare).execute(&mut *conn).await.unwrap();
    for mode in ["force_custom_plan", "force_generic_plan"] {
        sqlx::raw_sql(&format!("SET plan_cache_mode = {mode}")).execute(&mut *conn).await.unwrap();
        for (calculator, expected) in [("arcface", (false, false)), ("arcface-2", (false, true))] {
            let explain = format!(
                "EXPLAIN (ANALYZE, BUFFERS) EXECUTE mismatches('{DEMO_RECOGNITION}', 'Facenet2018', '{calculator}')"
            );
            let plan: Vec<String> = sqlx::query_scalar(&explain).fetch_all(&mut *conn).await.unwrap();
            let plan = plan.join("\n");
            assert!(!plan.contains("Seq Scan on faces"), "{mode}: a sequential scan of the faces:\n{plan}");
            // The first buffer count is the top node's: every page the query touched.
            let buffers = plan.lines().find(|l| l.trim_start().starts_with("Buffers: shared")).expect("buffers");
            let pages: i64 = buffers
                .split_whitespace()
                .filter_map(|w| w.split_once('=').and_then(|(_, n)| n.parse::<i64>().ok()))
                .sum();
            assert!(pages < 100, "{mode}, {calculator}: {pages} pages:\n{plan}");
            let answer = store.calculator_mismatches(demo_key, "Facenet2018", calculator).await.unwrap();
            assert_eq!(answer, expected, "{calculator}");
        }
    }
}

/// `(subjects, faces, images)` of the service.
async fn rows_of(db: &TestDatabase, model: Uuid) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM subjects WHERE model_id = $1), (SELECT count(*) FROM faces WHERE model_id = $1), \
         (SELECT count(*) FROM images i JOIN faces f ON f.id = i.face_id WHERE f.model_id = $1)",
    )
    .bind(model)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

/// The collection notifications received so far: `(service, op, number of ids)`.
async fn notifications(listener: &mut sqlx::postgres::PgListener) -> Vec<(Uuid, String, usize)> {
    let mut received = Vec::new();
    while let Ok(Ok(Some(n))) = tokio::time::timeout(std::time::Duration::from_millis(500), listener.try_recv()).await {
        // `{"model" : "…", "op" : "…", "ids" : […]}`, as json_build_object writes it.
        let payload = n.payload();
        let field = |name: &str| {
            let start = payload.find(&format!("\"{name}\" : ")).unwrap() + name.len() + 5;
            payload[start..].split([',', '}']).next().unwrap().trim().trim_matches('"').to_string()
        };
        let ids = payload.split("\"ids\" : ").nth(1).unwrap();
        let count = if ids.starts_with("[]") { 0 } else { ids.matches(',').count() + 1 };
        received.push((Uuid::parse_str(&field("model")).unwrap(), field("op"), count));
    }
    received
}

/// Rows the purge has left: deletions, and marked subjects, services and applications.
async fn pending(db: &TestDatabase) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM deletions), (SELECT count(*) FROM subjects WHERE deleted_at IS NOT NULL), \
         (SELECT count(*) FROM models WHERE deleted_at IS NOT NULL), (SELECT count(*) FROM apps WHERE deleted_at IS NOT NULL)",
    )
    .fetch_one(db.pool())
    .await
    .unwrap()
}

async fn orphans(db: &TestDatabase) -> i64 {
    sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM images i WHERE NOT EXISTS (SELECT 1 FROM faces f WHERE f.id = i.face_id)) \
         + (SELECT count(*) FROM faces f WHERE NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = f.subject_id))",
    )
    .fetch_one(db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_large_collection_is_marked_at_once_and_purged_in_the_background() {
    let db = TestDatabase::create().await;
    let store = &db.store;
    // The worst case for the planner: statistics that say the tables are empty.
    db.keep_empty_statistics().await;
    let big = db.create_service(ServiceType::Recognition).await.id;
    let gone = db.create_service(ServiceType::Recognition).await.id;
    let other = db.create_service(ServiceType::Recognition).await.id;
    db.write_bulk_collection(big, 2_050, 10).await;
    db.write_bulk_collection(gone, 1_000, 5).await;
    db.write_bulk_collection(other, 300, 3).await;
    let kept = store.add_face(other, face("Kept", &[0.5; 512], Some(b"jpeg"))).await.unwrap();
    assert_eq!(rows_of(&db, big).await, (2_050, 20_500, 20_500));

    let mut listener = sqlx::postgres::PgListener::connect_with(db.pool()).await.unwrap();
    listener.listen("visage_collections").await.unwrap();

    // Emptying the collection marks its subjects: nothing is read from it any more, the name is
    // free, the replicas clear it without reading it; the rows stay for the purge.
    assert_eq!(store.delete_all_faces(big).await.unwrap(), 20_500);
    assert_eq!(store.list_faces(big, None, 0, 10).await.unwrap().total, 0);
    assert_eq!(store.collection_counts(big).await.unwrap(), (0, 0));
    assert!(store.subjects_with_ids(big).await.unwrap().is_empty());
    assert_eq!(notifications(&mut listener).await, [(big, "clear".to_string(), 0)]);
    assert_eq!(rows_of(&db, big).await, (2_050, 20_500, 20_500));
    let again = store.add_face(big, face("subject 7", &[0.25; 512], None)).await.unwrap();
    assert_eq!(store.list_faces(big, None, 0, 10).await.unwrap().faces, std::slice::from_ref(&again));
    let deletions = store.deletions(None).await.unwrap();
    assert_eq!(deletions.len(), 1);
    assert_eq!(
        (deletions[0].kind, deletions[0].model_id, deletions[0].faces),
        (DeletionKind::Subjects, Some(big), None)
    );

    // Deleting a service marks it: its key stops working at once, the replicas drop it.
    let gone_key = store.service(gone).await.unwrap().unwrap().service.api_key;
    assert!(store.delete_service(gone).await.unwrap());
    assert_eq!(store.find_service_by_api_key(gone_key).await.unwrap(), None);
    assert_eq!(store.service(gone).await.unwrap(), None);
    assert!(!store.delete_service(gone).await.unwrap());
    assert_eq!(notifications(&mut listener).await, [(big, "faces".to_string(), 1), (gone, "drop".to_string(), 0)]);

    // A few batches, then a process that stops: the next one goes on where it stopped.
    assert!(store.purge_next(Some(3)).await.unwrap());
    let partial = store.deletions(None).await.unwrap();
    assert_eq!(partial[0].faces, Some(20_500));
    assert_eq!(partial[0].faces_done, 3 * visage_store::deletions::FACES_PER_BATCH);
    assert!(partial[0].percent() > 0 && partial[0].percent() < 100);
    store.purge_all().await.unwrap();
    assert_eq!(rows_of(&db, big).await, (1, 1, 0));
    assert_eq!(rows_of(&db, gone).await, (0, 0, 0));
    assert_eq!(pending(&db).await, (0, 0, 0, 0));
    assert!(!store.purge_next(None).await.unwrap());
    // The purge notified nothing: what it deleted had left the collections already.
    assert_eq!(notifications(&mut listener).await, []);
    assert_eq!(store.list_faces(big, None, 0, 10).await.unwrap().faces, [again]);

    // The other service is untouched, images included.
    assert_eq!(rows_of(&db, other).await, (301, 901, 901));
    assert_eq!(store.face_image(other, kept.image_id).await.unwrap(), Some(Some(b"jpeg".to_vec())));
    assert_eq!(orphans(&db).await, 0);

    // A small collection goes at once, by id.
    assert_eq!(store.delete_all_subjects(big).await.unwrap(), 1);
    assert_eq!(rows_of(&db, big).await, (0, 0, 0));
    assert_eq!(pending(&db).await, (0, 0, 0, 0));
}

#[tokio::test]
async fn a_subject_with_many_faces_is_marked_and_its_name_is_free_at_once() {
    let (db, model) = recognition().await;
    let store = &db.store;
    db.write_bulk_collection(model, 2, 1_200).await;
    let mut listener = sqlx::postgres::PgListener::connect_with(db.pool()).await.unwrap();
    listener.listen("visage_collections").await.unwrap();
    let marked: Uuid = store.find_subject(model, "subject 1").await.unwrap().unwrap().0;
    assert_eq!(store.delete_subject_faces(model, "SUBJECT 1").await.unwrap(), 1_200);
    assert_eq!(notifications(&mut listener).await, [(model, "subjects".to_string(), 1)]);
    assert_eq!(store.find_subject(model, "subject 1").await.unwrap(), None);
    assert_eq!(store.list_faces(model, None, 0, 1).await.unwrap().total, 1_200);
    assert_eq!(store.delete_subject_faces(model, "subject 1").await.unwrap(), 0);

    // The name is free: a face under it makes a new subject, which the purge leaves alone.
    let again = store.add_face_detailed(model, face("subject 1", &[1.0], Some(b"new"))).await.unwrap();
    assert!(again.subject_created);
    let (renewed, _) = store.find_subject(model, "subject 1").await.unwrap().unwrap();
    assert_ne!(renewed, marked);
    assert_eq!(
        store.list_faces(model, Some("subject 1"), 0, 10).await.unwrap().faces,
        std::slice::from_ref(&again.face)
    );
    assert_eq!(store.get_face(model, again.face.image_id).await.unwrap().map(|f| f.subject_id), Some(renewed));

    // Marking more subjects of the service while a purge is recorded adds to that purge.
    assert_eq!(store.delete_subject(model, "subject 2").await.unwrap(), "subject 2");
    assert_eq!(store.deletions(Some(db.create_service(ServiceType::Detection).await.app_id)).await.unwrap(), []);
    assert_eq!(store.deletions(None).await.unwrap().len(), 1);
    store.purge_all().await.unwrap();
    assert_eq!(rows_of(&db, model).await, (1, 1, 1));
    assert_eq!(pending(&db).await, (0, 0, 0, 0));
    assert_eq!(store.list_subjects(model).await.unwrap(), ["subject 1"]);
}

#[tokio::test]
async fn an_application_with_a_large_collection_is_purged_with_its_services() {
    let db = TestDatabase::create().await;
    let store = &db.store;
    let big = db.create_service(ServiceType::Recognition).await;
    let app = big.app_id;
    let small = store.create_service(app, "small", ServiceType::Recognition, None).await.unwrap().service;
    let detection = store.create_service(app, "detection", ServiceType::Detection, None).await.unwrap().service;
    db.write_bulk_collection(big.id, 300, 5).await;
    db.write_bulk_collection(small.id, 3, 2).await;
    let name = store.app(app).await.unwrap().unwrap().name;

    assert!(store.delete_app(app).await.unwrap());
    assert_eq!(store.app(app).await.unwrap(), None);
    assert!(store.all_apps().await.unwrap().iter().all(|a| a.id != app));
    for service in [&big, &small, &detection] {
        assert_eq!(store.find_service_by_api_key(service.api_key).await.unwrap(), None);
    }
    assert!(store.services_of_app(app).await.unwrap().is_empty());
    // The name is free at once.
    let owner = store
        .create_user(&visage_store::accounts::NewUser {
            email: "owner@example.com",
            password_hash: "!",
            first_name: "",
            last_name: "",
            enabled: true,
            allow_statistics: false,
        })
        .await
        .unwrap();
    let renewed = store.create_app(&name, owner.id).await.unwrap();
    assert_ne!(renewed.id, app);
    let progress = store.deletions(Some(app)).await.unwrap();
    assert_eq!((progress.len(), progress[0].kind, progress[0].name.as_str()), (1, DeletionKind::App, name.as_str()));

    store.purge_all().await.unwrap();
    let left: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM apps WHERE id = $1), (SELECT count(*) FROM models WHERE app_id = $1), \
         (SELECT count(*) FROM faces)",
    )
    .bind(app)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(left, (0, 0, 0));
    assert_eq!(pending(&db).await, (0, 0, 0, 0));
}

#[tokio::test]
async fn hand_written_sql_keeps_subjects_faces_and_images_together() {
    let (db, model) = recognition().await;
    let store = &db.store;
    let pool = db.pool();
    let other = db.create_service(ServiceType::Recognition).await.id;
    let a = store.add_face(model, face("A", &[1.0], Some(b"a"))).await.unwrap();
    let b = store.add_face(model, face("B", &[2.0], Some(b"b"))).await.unwrap();
    store.add_face(model, face("B", &[3.0], Some(b"b2"))).await.unwrap();
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await.unwrap();
    listener.listen("visage_collections").await.unwrap();

    // A face deleted by hand takes its image; the notification names it.
    sqlx::query("DELETE FROM faces WHERE id = $1").bind(a.image_id).execute(pool).await.unwrap();
    assert_eq!(store.face_image(model, a.image_id).await.unwrap(), None);
    assert_eq!(notifications(&mut listener).await, [(model, "faces".to_string(), 1)]);
    // A subject deleted by hand takes its faces and their images.
    sqlx::query("DELETE FROM subjects WHERE model_id = $1 AND name = 'B'").bind(model).execute(pool).await.unwrap();
    assert_eq!(rows_of(&db, model).await, (1, 0, 0));
    // The subject's statement notifies before its cascade's.
    let sent = notifications(&mut listener).await;
    assert_eq!(sent, [(model, "subjects".to_string(), 1), (model, "faces".to_string(), 2)]);
    assert_eq!(store.face_image(model, b.image_id).await.unwrap(), None);

    // Faces need a subject of their own service, images a face: as foreign keys would say.
    let subject: Uuid =
        sqlx::query_scalar("SELECT id FROM subjects WHERE model_id = $1").bind(model).fetch_one(pool).await.unwrap();
    let insert_face = |model_id: Uuid, subject_id: Uuid| {
        sqlx::query(
            "INSERT INTO faces (model_id, subject_id, embedding, dimension, calculator) VALUES ($1, $2, '\\x00000000', 1, 'sql')",
        )
        .bind(model_id)
        .bind(subject_id)
        .execute(pool)
    };
    for (model_id, subject_id) in [(other, subject), (model, Uuid::new_v4())] {
        let err = insert_face(model_id, subject_id).await.unwrap_err();
        let db_err = err.as_database_error().expect("a database error");
        assert_eq!((db_err.code().as_deref(), db_err.constraint()), (Some("23503"), Some("faces_subject_fkey")));
    }
    let err = sqlx::query("INSERT INTO images (face_id, content) VALUES ($1, '\\x00')")
        .bind(Uuid::new_v4())
        .execute(pool)
        .await
        .unwrap_err();
    let db_err = err.as_database_error().expect("a database error");
    assert_eq!((db_err.code().as_deref(), db_err.constraint()), (Some("23503"), Some("images_face_id_fkey")));

    // Deleting the service by hand takes everything (the subjects through their service).
    insert_face(model, subject).await.unwrap();
    sqlx::query("INSERT INTO images (face_id, content) SELECT id, '\\x01' FROM faces WHERE model_id = $1")
        .bind(model)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(rows_of(&db, model).await, (1, 1, 1));
    sqlx::query("DELETE FROM models WHERE id = $1").bind(model).execute(pool).await.unwrap();
    assert_eq!(rows_of(&db, model).await, (0, 0, 0));
    let images: i64 = sqlx::query_scalar("SELECT count(*) FROM images").fetch_one(pool).await.unwrap();
    assert_eq!(images, 0);
}

#[tokio::test]
async fn a_cloned_collection_has_its_own_images_and_outlives_the_original() {
    let (db, model) = recognition().await;
    let store = &db.store;
    let first = store.add_face(model, face("A", &[1.0], Some(b"one"))).await.unwrap();
    store.add_face(model, face("B", &[2.0], Some(b"two"))).await.unwrap();
    store.add_face(model, face("B", &[3.0], None)).await.unwrap();
    let original = store.service(model).await.unwrap().unwrap();
    let copy = store.clone_service(model, "copy").await.unwrap().unwrap().service.id;
    assert_eq!(original.service.app_id, store.service(copy).await.unwrap().unwrap().service.app_id);
    assert_eq!(rows_of(&db, copy).await, (2, 3, 2));
    assert!(store.delete_service(model).await.unwrap());
    assert_eq!(rows_of(&db, model).await, (0, 0, 0));
    assert_eq!(rows_of(&db, copy).await, (2, 3, 2));
    let copied = store.list_faces(copy, Some("A"), 0, 10).await.unwrap().faces[0].image_id;
    assert_ne!(copied, first.image_id);
    assert_eq!(store.face_image(copy, copied).await.unwrap(), Some(Some(b"one".to_vec())));
}

#[tokio::test]
async fn face_boxes_are_kept_checked_and_copied_with_their_faces() {
    let (db, model) = recognition().await;
    let store = &db.store;
    assert_eq!(FaceBox::new(0, 0, 1, 1), Some(FaceBox { x_min: 0, y_min: 0, x_max: 1, y_max: 1 }));
    for bad in [(-1, 0, 5, 5), (5, 0, 5, 5), (0, 6, 5, 5), (0, 0, i64::from(i32::MAX) + 1, 5)] {
        assert_eq!(FaceBox::new(bad.0, bad.1, bad.2, bad.3), None, "{bad:?}");
    }
    let face_box = FaceBox::new(12, 34, 156, 178);
    let boxed = store.add_face(model, NewFace { face_box, ..face("A", &[1.0], Some(b"jpeg")) }).await.unwrap();
    let bare = store.add_face(model, face("B", &[1.0], None)).await.unwrap();
    let details = store.face_details(model, boxed.image_id).await.unwrap().unwrap();
    assert_eq!((details.subject.as_str(), details.face_box, details.has_image), ("A", face_box, true));
    assert!(details.created_at <= chrono::Utc::now());
    let details = store.face_details(model, bare.image_id).await.unwrap().unwrap();
    assert_eq!((details.face_box, details.has_image), (None, false));
    assert_eq!(store.face_details(model, Uuid::new_v4()).await.unwrap(), None);
    let photo = store.face_photo(model, boxed.image_id).await.unwrap().unwrap();
    assert_eq!((photo.image.as_deref(), photo.face_box), (Some(&b"jpeg"[..]), face_box));

    // The database refuses what the type would not make: half a box, an empty or negative one.
    for columns in ["12, NULL, NULL, NULL", "5, 5, 5, 9", "-1, 0, 4, 4", "0, 9, 4, 4"] {
        let written = sqlx::query(&format!(
            "UPDATE faces SET (box_x_min, box_y_min, box_x_max, box_y_max) = ({columns}) WHERE id = $1"
        ))
        .bind(bare.image_id)
        .execute(db.pool())
        .await;
        let message = written.expect_err(columns).to_string();
        assert!(message.contains("faces_box_check"), "{columns}: {message}");
    }

    let copy = store.clone_service(model, "copy").await.unwrap().unwrap().service.id;
    let copied = store.list_faces(copy, Some("A"), 0, 10).await.unwrap().faces[0].image_id;
    assert_eq!(store.face_details(copy, copied).await.unwrap().unwrap().face_box, face_box);
}

#[tokio::test]
async fn the_box_migration_applies_to_a_collection_stored_before_it() {
    let (db, model) = recognition().await;
    let store = &db.store;
    // The database as it was before: no box columns, the migration not applied.
    let box_version = migration_version("face boxes");
    sqlx::raw_sql(&format!(
        "ALTER TABLE faces DROP CONSTRAINT faces_box_check, DROP COLUMN box_x_min, DROP COLUMN box_y_min, \
         DROP COLUMN box_x_max, DROP COLUMN box_y_max; \
         DELETE FROM _sqlx_migrations WHERE version = {box_version}"
    ))
    .execute(db.pool())
    .await
    .unwrap();
    let subject: Uuid = sqlx::query_scalar("INSERT INTO subjects (model_id, name) VALUES ($1, 'Old') RETURNING id")
        .bind(model)
        .fetch_one(db.pool())
        .await
        .unwrap();
    let old: Uuid = sqlx::query_scalar(
        "INSERT INTO faces (model_id, subject_id, embedding, dimension, calculator) \
         VALUES ($1, $2, '\\x0000803f'::bytea, 1, 'old') RETURNING id",
    )
    .bind(model)
    .bind(subject)
    .fetch_one(db.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO images (face_id, content) VALUES ($1, '\\x01')")
        .bind(old)
        .execute(db.pool())
        .await
        .unwrap();

    store.migrate().await.unwrap();
    let details = store.face_details(model, old).await.unwrap().unwrap();
    assert_eq!((details.subject.as_str(), details.face_box, details.has_image), ("Old", None, true));
    // New faces keep their boxes beside the old ones.
    let face_box = FaceBox::new(1, 2, 3, 4);
    let new = store.add_face(model, NewFace { face_box, ..face("Old", &[1.0], None) }).await.unwrap();
    assert_eq!(store.face_details(model, new.image_id).await.unwrap().unwrap().face_box, face_box);
}

/// The version of the migration whose description (its file name's) contains `part`.
fn migration_version(part: &str) -> i64 {
    visage_store::MIGRATOR.iter().find(|m| m.description.contains(part)).expect("the migration").version
}

#[tokio::test]
async fn the_gallery_counts_faces_and_finds_pictures_in_one_statement() {
    let (db, model) = recognition().await;
    let store = &db.store;
    store.create_subject(model, "Empty").await.unwrap();
    let a1 = store.add_face(model, face("a_1", &[1.0], None)).await.unwrap();
    let a2 = store.add_face(model, face("a_1", &[1.0], Some(b"x"))).await.unwrap();
    store.add_face(model, face("a_1", &[1.0], Some(b"x"))).await.unwrap();
    store.add_face(model, face("AB", &[1.0], None)).await.unwrap();
    let other = db.create_service(ServiceType::Recognition).await.id;
    store.add_face(other, face("a_1", &[1.0], Some(b"x"))).await.unwrap();
    assert_ne!(a1.image_id, a2.image_id);

    let entry = |subject: &str, faces, image_id| GalleryEntry { subject: subject.to_string(), faces, image_id };
    let all = store.gallery_page(model, None, 0, 10).await.unwrap();
    assert_eq!(all, (vec![entry("a_1", 3, Some(a2.image_id)), entry("AB", 1, None), entry("Empty", 0, None)], 3));
    assert_eq!(
        store.gallery_page(model, Some("_"), 0, 10).await.unwrap(),
        (vec![entry("a_1", 3, Some(a2.image_id))], 1)
    );
    assert_eq!(store.gallery_page(model, Some("A"), 1, 1).await.unwrap(), (vec![entry("AB", 1, None)], 2));
    assert_eq!(store.gallery_page(model, Some("A"), 5, 1).await.unwrap(), (vec![], 2));
    assert_eq!(store.gallery_page(model, Some("%"), 0, 1).await.unwrap(), (vec![], 0));
    assert_eq!(store.gallery_page(Uuid::new_v4(), None, 0, 10).await.unwrap(), (vec![], 0));
}

#[tokio::test]
async fn a_gallery_page_reads_a_few_index_pages_of_a_large_collection() {
    // 10 000 subjects of 10 faces, and one of 20 000 faces whose first photo comes last.
    const SUBJECTS: i64 = 10_000;
    const BIG: i64 = 20_000;
    let (db, model) = recognition().await;
    let store = &db.store;
    db.write_bulk_collection(model, SUBJECTS, 10).await;
    store.add_face(model, face("subject 0 big", &[1.0], None)).await.unwrap();
    sqlx::query(
        "INSERT INTO faces (model_id, subject_id, embedding, dimension, calculator) \
         SELECT $1, s.id, '\\x0000803f'::bytea, 1, 'bulk' FROM subjects s, generate_series(2, $2) \
         WHERE s.model_id = $1 AND s.name = 'subject 0 big'",
    )
    .bind(model)
    .bind(BIG)
    .execute(db.pool())
    .await
    .unwrap();
    let last = store.add_face(model, face("subject 0 big", &[1.0], Some(b"x"))).await.unwrap();
    sqlx::raw_sql("ANALYZE faces; ANALYZE subjects; ANALYZE images").execute(db.pool()).await.unwrap();

    let (page, total) = store.gallery_page(model, None, 0, 20).await.unwrap();
    assert_eq!(total, SUBJECTS + 1);
    assert_eq!(
        page[0],
        GalleryEntry { subject: "subject 0 big".into(), faces: BIG + 1, image_id: Some(last.image_id) }
    );
    assert_eq!((page[1].subject.as_str(), page[1].faces, page[1].image_id.is_some()), ("subject 1", 10, true));

    let mut conn = db.pool().acquire().await.unwrap();
    let prepare = format!("PREPARE gallery(uuid, text, bigint, bigint) AS {}", visage_store::subjects::GALLERY_PAGE);
    sqlx::raw_sql(&prepare).execute(&mut *conn).await.unwrap();
    for mode in ["force_custom_plan", "force_generic_plan"] {
        sqlx::raw_sql(&format!("SET plan_cache_mode = {mode}")).execute(&mut *conn).await.unwrap();
        // The second page, of subjects of 10 faces; a search and a page far in, which walk the
        // subjects' index as the subjects listing does; the first page, which holds the subject of
        // 20 001 faces whose picture is its last face: every face is probed (about 30 ms here).
        let pages = [
            (format!("'{model}', NULL, 20, 20"), 2_000),
            (format!("'{model}', '%999%', 20, 0"), 4_000),
            (format!("'{model}', NULL, 20, 5000"), 3_000),
            (format!("'{model}', NULL, 20, 0"), 100_000),
        ];
        for (args, max_pages) in pages {
            let explain = format!("EXPLAIN (ANALYZE, BUFFERS) EXECUTE gallery({args})");
            let plan: Vec<String> = sqlx::query_scalar(&explain).fetch_all(&mut *conn).await.unwrap();
            let plan = plan.join("\n");
            assert!(!plan.contains("Seq Scan on faces"), "{mode}: a sequential scan of the faces:\n{plan}");
            assert!(!plan.contains("Seq Scan on images"), "{mode}: a sequential scan of the images:\n{plan}");
            let buffers = plan.lines().find(|l| l.trim_start().starts_with("Buffers: shared")).expect("buffers");
            let pages: i64 = buffers
                .split_whitespace()
                .filter_map(|w| w.split_once('=').and_then(|(_, n)| n.parse::<i64>().ok()))
                .sum();
            assert!(pages < max_pages, "{mode}, {args}: {pages} pages:\n{plan}");
            if std::env::var_os("VISAGE_SHOW_PLANS").is_some() {
                println!("{mode}, {args}:\n{plan}\n");
            }
        }
    }
}

/// The migration back to foreign keys on an installation that ran the trigger cascades: the rows
/// those could leave without their parent are deleted, the keys end up validated, and nothing
/// else changes.
#[tokio::test]
async fn the_foreign_key_migration_deletes_orphans_and_validates_the_keys() {
    let db = TestDatabase::create().await;
    let name = format!("visage_upgrade_{}", Uuid::new_v4().simple());
    sqlx::raw_sql(&format!(r#"CREATE DATABASE "{name}""#)).execute(db.pool()).await.unwrap();
    let pool = sqlx::PgPool::connect_with(db.options.clone().database(&name)).await.unwrap();
    let first = migration_version("background deletions");
    for migration in visage_store::MIGRATOR.iter().filter(|m| m.version < first) {
        sqlx::raw_sql(&migration.sql).execute(&pool).await.unwrap();
    }
    // A collection as the services wrote it, and rows without their parent (as a cascade that
    // read an old snapshot left them; written here with the triggers off).
    sqlx::raw_sql(
        "INSERT INTO apps (id, name) VALUES ('00000000-0000-0000-0000-0000000000a1', 'upgraded'); \
         INSERT INTO models (id, app_id, name, type, api_key) VALUES ('00000000-0000-0000-0000-0000000000b1', \
             '00000000-0000-0000-0000-0000000000a1', 'faces', 'R', gen_random_uuid()); \
         INSERT INTO subjects (id, model_id, name) VALUES ('00000000-0000-0000-0000-0000000000c1', \
             '00000000-0000-0000-0000-0000000000b1', 'Kept'); \
         INSERT INTO faces (id, model_id, subject_id, embedding, dimension, calculator) VALUES \
             ('00000000-0000-0000-0000-0000000000d1', '00000000-0000-0000-0000-0000000000b1', \
              '00000000-0000-0000-0000-0000000000c1', '\\x0000803f', 1, 'old'); \
         INSERT INTO images (face_id, content) VALUES ('00000000-0000-0000-0000-0000000000d1', '\\x01'); \
         BEGIN; SET LOCAL session_replication_role = replica; \
         INSERT INTO faces (id, model_id, subject_id, embedding, dimension, calculator) VALUES \
             ('00000000-0000-0000-0000-0000000000d2', '00000000-0000-0000-0000-0000000000b1', \
              '00000000-0000-0000-0000-0000000000c2', '\\x0000803f', 1, 'orphan'); \
         INSERT INTO images (face_id, face_seq, content) VALUES ('00000000-0000-0000-0000-0000000000d2', 2, '\\x02'), \
             ('00000000-0000-0000-0000-0000000000d3', 3, '\\x03'); \
         COMMIT;",
    )
    .execute(&pool)
    .await
    .unwrap();
    for migration in visage_store::MIGRATOR.iter().filter(|m| m.version >= first) {
        sqlx::raw_sql(&migration.sql).execute(&pool).await.unwrap();
    }
    let left: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM subjects), (SELECT count(*) FROM faces), (SELECT count(*) FROM images)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, (1, 1, 1), "the orphan face and both orphan images went, the collection stayed");
    let keys: Vec<(String, bool)> = sqlx::query_as(
        "SELECT conname::text, convalidated FROM pg_constraint \
         WHERE conname IN ('faces_subject_fkey', 'faces_model_fkey', 'images_face_id_fkey') ORDER BY conname",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        keys,
        [("faces_model_fkey".into(), true), ("faces_subject_fkey".into(), true), ("images_face_id_fkey".into(), true)]
    );
    let triggers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname NOT LIKE '%notify%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(triggers, 0, "only the notification triggers are left");
    pool.close().await;
}
