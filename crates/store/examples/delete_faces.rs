//! Measures deleting large collections right after they were written, while the planner's
//! statistics still describe empty tables (the worst case: autovacuum has not run yet).
//!
//! ```sh
//! cargo run --release -p visage-store --example delete_faces -- 100000 10 [PURGE_SECONDS] [OPERATIONS]
//! ```
//!
//! Writes SUBJECTS × FACES_PER_SUBJECT faces (512-d embeddings, a small image each) into one
//! recognition service per operation (OPERATIONS, default `service,subjects,faces`) and times:
//! deleting one subject with FACES_PER_SUBJECT × 200 faces (in the first service), then per
//! service: deleting it (`service`, the admin's "delete service"), deleting every subject
//! (`subjects`, `DELETE /recognition/subjects`), deleting every face (`faces`, `DELETE
//! /recognition/faces` without a subject; it also counts the faces); each answers once its rows
//! are marked. Then the purge of what they marked runs in a child process (`delete_faces purge`)
//! that is killed with SIGKILL after PURGE_SECONDS (default 3) seconds, and this process takes the
//! deletions up where the child stopped and times the rest. Uses `DATABASE_URL` when set, else a
//! throwaway cluster.

use std::str::FromStr;
use std::time::{Duration, Instant};

use visage_store::testing::TestDatabase;
use visage_store::{ServiceType, Store};

#[tokio::main]
async fn main() {
    if std::env::args().nth(1).as_deref() == Some("purge") {
        // The child: purges until it is killed.
        let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
        let options = sqlx::postgres::PgConnectOptions::from_str(&url).expect("DATABASE_URL");
        let store = Store::connect(options, 2).await.expect("connect");
        store.purge_all().await.expect("purge");
        return;
    }
    let mut args = std::env::args().skip(1);
    let subjects: i64 = args.next().map_or(100_000, |a| a.parse().expect("subjects: a number"));
    let per_subject: i64 = args.next().map_or(10, |a| a.parse().expect("faces per subject: a number"));
    let purge_seconds: u64 = args.next().map_or(3, |a| a.parse().expect("seconds: a number"));
    // One service per operation: `service` (delete the service), `subjects` (delete every
    // subject), `faces` (delete every face, counting them).
    let operations: Vec<String> =
        args.next().unwrap_or_else(|| "service,subjects,faces".to_string()).split(',').map(str::to_string).collect();
    let db = TestDatabase::create().await;
    let pool = db.pool();
    db.keep_empty_statistics().await;
    let mut services = Vec::new();
    for _ in &operations {
        let model = db.create_service(ServiceType::Recognition).await.id;
        let started = Instant::now();
        db.write_bulk_collection(model, subjects, per_subject).await;
        println!("wrote {} faces in {:.1?}", subjects * per_subject, started.elapsed());
        services.push(model);
    }
    let big = services[0];
    let in_big = per_subject * 200;
    sqlx::query("INSERT INTO subjects (model_id, name) VALUES ($1, 'big')").bind(big).execute(pool).await.unwrap();
    sqlx::query(
        "INSERT INTO faces (model_id, subject_id, embedding, dimension, calculator) \
         SELECT $1, s.id, decode(repeat(md5(f::text), 128), 'hex'), 512, 'bench' \
         FROM subjects s CROSS JOIN generate_series(1, $2) f WHERE s.model_id = $1 AND s.name = 'big'",
    )
    .bind(big)
    .bind(in_big)
    .execute(pool)
    .await
    .unwrap();

    let started = Instant::now();
    let deleted = db.store.delete_subject_faces(big, "big").await.unwrap();
    println!("delete one subject with {in_big} faces ({deleted} deleted): {:.2?}", started.elapsed());

    for (operation, service) in operations.iter().zip(&services) {
        let started = Instant::now();
        match operation.as_str() {
            "service" => {
                db.store.delete_service(*service).await.unwrap();
                println!("delete a service with {} faces: {:.2?}", subjects * per_subject, started.elapsed());
            }
            "subjects" => {
                let deleted = db.store.delete_all_subjects(*service).await.unwrap();
                println!("delete all {deleted} subjects of a service: {:.2?}", started.elapsed());
            }
            "faces" => {
                let deleted = db.store.delete_all_faces(*service).await.unwrap();
                println!("delete all {deleted} faces of a service: {:.2?}", started.elapsed());
            }
            other => panic!("unknown operation {other}"),
        }
    }

    let started = Instant::now();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("purge")
        .env("DATABASE_URL", &db.url)
        .spawn()
        .expect("the purging child");
    tokio::time::sleep(Duration::from_secs(purge_seconds)).await;
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    let (deletions, done): (i64, Option<i64>) =
        sqlx::query_as("SELECT count(*), sum(faces_done)::bigint FROM deletions").fetch_one(pool).await.unwrap();
    println!(
        "purge killed after {:.1?}: {deletions} deletions left, {} faces of them purged",
        started.elapsed(),
        done.unwrap_or(0)
    );
    let resumed = Instant::now();
    db.store.purge_all().await.unwrap();
    println!(
        "taken up again and finished in {:.2?} ({:.2?} since the purge began)",
        resumed.elapsed(),
        started.elapsed()
    );

    let (subjects_left, faces_left, images): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM subjects WHERE model_id = ANY($1)), \
                (SELECT count(*) FROM faces WHERE model_id = ANY($1)), (SELECT count(*) FROM images)",
    )
    .bind(&services)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!((subjects_left, faces_left, images), (0, 0, 0), "rows left behind");
}
