//! Measures a large deletion through the store while api-service answers recognitions of another
//! collection, for `docs/benchmarks.md`: api-service in this process (no core-service needed:
//! only `/recognition/embeddings/recognize`, search without inference, against a stand-in that
//! answers core's `/status`), a throwaway Postgres (or `DATABASE_URL`).
//!
//! 1. A collection of KEPT faces (default 100 000) that recognitions search, and one of
//!    SUBJECTS × 10 faces (default 100 000 subjects, a million faces) to delete, both written with
//!    bulk SQL (`TestDatabase::write_bulk_collection`: 512-d embeddings, a small image each) and
//!    not vacuumed: freshly bulk-written, as after an import.
//! 2. Recognition latency on the kept collection alone, for a few seconds (one client, one
//!    embedding per request).
//! 3. The deletion of the large service (`Store::delete_service`, what the admin's DELETE calls):
//!    its answer time; then the purge, run by this api-service's purger, timed until the
//!    deletion's row is gone, with recognitions measured all along; then recognitions alone
//!    again, to see the machine's own noise.
//!
//! ```sh
//! cargo run --release -p api-service --example deletion_bench -- 100000 100000
//! ```

use std::time::{Duration, Instant};

use api_service::{Application, Settings};
use serde_json::{json, Value};
use visage_store::testing::TestDatabase;
use visage_store::{Service, ServiceType};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let subjects: i64 = args.next().map_or(100_000, |a| a.parse().expect("subjects: a number"));
    let kept_faces: i64 = args.next().map_or(100_000, |a| a.parse().expect("kept faces: a number"));
    let db = TestDatabase::create().await;
    let kept = db.create_service(ServiceType::Recognition).await;
    let doomed = db.create_service(ServiceType::Recognition).await;
    let started = Instant::now();
    db.write_bulk_collection(kept.id, kept_faces / 10, 10).await;
    db.write_bulk_collection(doomed.id, subjects, 10).await;
    println!("wrote {} + {} faces in {:.1} s", kept_faces, subjects * 10, started.elapsed().as_secs_f64());

    let address = serve(&db).await;
    let client = reqwest::Client::new();
    let url = format!("{address}/api/v1/recognition/embeddings/recognize");
    let query: Vec<f32> = (0..512).map(|i| ((i * 7919 % 512) as f32 / 512.0) - 0.5).collect();
    let body = json!({ "embeddings": [query] });
    let started = Instant::now();
    recognize(&client, &url, &kept, &body).await;
    println!("kept collection loaded by the first request in {:.2} s", started.elapsed().as_secs_f64());

    let alone = measure(&client, &url, &kept, &body, Duration::from_secs(10), || async { false }).await;
    report("recognition, nothing else running", alone);

    let started = Instant::now();
    assert!(db.store.delete_service(doomed.id).await.expect("delete"));
    println!("delete_service of {} faces answered in {:.1} ms", subjects * 10, started.elapsed().as_secs_f64() * 1e3);
    let store = db.store.clone();
    let during = measure(&client, &url, &kept, &body, Duration::from_secs(3600), || {
        let store = store.clone();
        async move { store.deletions(None).await.expect("deletions").is_empty() }
    })
    .await;
    println!("purge finished {:.1} s after the deletion answered", started.elapsed().as_secs_f64());
    report("recognition while the purge ran", during);
    // The machine's own noise: the same load again, with nothing else running.
    let after = measure(&client, &url, &kept, &body, Duration::from_secs(10), || async { false }).await;
    report("recognition, nothing else running (again, after the purge)", after);
    let left: (i64, i64) = sqlx::query_as("SELECT (SELECT count(*) FROM faces), (SELECT count(*) FROM images)")
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(left, (kept_faces / 10 * 10, kept_faces / 10 * 10), "only the kept collection is left");
}

/// A stand-in for core-service that answers `/status` only (the embeddings' calls ask it).
async fn core_status() -> String {
    let status = json!({
        "status": "OK", "build_version": "bench", "calculator_version": "bulk",
        "similarity_coefficients": [1.0, 0.0], "available_plugins": {}
    });
    let app = axum::Router::new().route("/status", axum::routing::get(move || async move { axum::Json(status) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// api-service on `db` (its purger included); serves until the process ends.
async fn serve(db: &TestDatabase) -> String {
    let mut settings = Settings::with_database(db.options.clone());
    settings.listen = ([127, 0, 0, 1], 0).into();
    settings.core_url = core_status().await;
    settings.preload = false;
    let app = Application::build_with_store(settings, db.store.clone()).await.expect("api-service");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    address
}

async fn recognize(client: &reqwest::Client, url: &str, service: &Service, body: &Value) {
    let response =
        client.post(url).header("x-api-key", service.api_key.to_string()).json(body).send().await.expect("request");
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

/// Recognition times, one request after the other, until `done` says so (asked every 100
/// requests) or `limit` has passed.
async fn measure<F, Fut>(
    client: &reqwest::Client,
    url: &str,
    service: &Service,
    body: &Value,
    limit: Duration,
    done: F,
) -> Vec<Duration>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    let mut times = Vec::new();
    while started.elapsed() < limit {
        let one = Instant::now();
        recognize(client, url, service, body).await;
        times.push(one.elapsed());
        if times.len() % 100 == 0 && done().await {
            break;
        }
    }
    times
}

/// p50, p99 and the largest of the times, in milliseconds.
fn report(what: &str, mut times: Vec<Duration>) {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} requests)",
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(1.0)),
        times.len()
    );
}
