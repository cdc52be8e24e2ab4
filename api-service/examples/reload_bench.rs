//! What one api-service replica holds, and what a lost listening connection costs, for
//! `docs/scaling.md`: a throwaway Postgres (or `DATABASE_URL`), api-service in this process, a
//! real core-service at `CORE_URL` (api-service asks it for its similarity coefficients).
//!
//! 1. Writes `BIG` faces into one recognition service and `SMALL` into another, in bulk (10
//!    faces per subject; the 512-d embeddings are drawn from 4 096 synthetic ones written first,
//!    so the SQL stays server-side), and reports the time and Postgres' size per million faces;
//!    then 20 000 faces with a stored photo each (`008_B.jpg`), for the size of stored images.
//! 2. Starts api-service, which loads both collections before it opens its port: the time and
//!    the resident memory it adds.
//! 3. Recognitions (`/recognition/embeddings/recognize` on the big service) run all along on two
//!    clients; for each phase below their count, p50, p99, max and failures are printed:
//!    - the listening connection is killed (`pg_terminate_backend`) while faces are written, as a
//!      failover of the database or a network cut would: the replica catches up from the change
//!      log (the time until `visage_collection_catch_ups_total` moves, and no reload);
//!    - the small service is reloaded (a `reload` notification, as before the change log every
//!      lost connection reloaded every collection): its time comes from the `collection loaded`
//!      log line, the peak resident memory from sampling.
//!
//! ```sh
//! CORE_URL=http://127.0.0.1:3000 cargo run --release -p api-service --example reload_bench -- 10000000 2000000
//! ```

#[path = "../../crates/index/examples/common/synthetic.rs"]
#[allow(dead_code)]
mod synthetic;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use api_service::{Application, Settings};
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::json;
use uuid::Uuid;
use visage_store::testing::TestDatabase;
use visage_store::ServiceType;

const DIM: usize = 512;
const POOL: usize = 4_096;
/// Faces with a stored photo, to measure what images cost.
const IMAGED: i64 = 20_000;
/// Faces per INSERT statement.
const BATCH: i64 = 500_000;

#[tokio::main]
async fn main() {
    visage_http::telemetry::init();
    let args: Vec<i64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let big = args.first().copied().unwrap_or(1_000_000);
    let small = args.get(1).copied().unwrap_or(big / 5);
    let core = std::env::var("CORE_URL").expect("CORE_URL: the core-service to call");
    println!("CPU: {}", cpu());

    let db = TestDatabase::create().await;
    let pool = db.pool();
    sqlx::query("CREATE TABLE bench_pool (i integer PRIMARY KEY, e bytea NOT NULL)").execute(pool).await.unwrap();
    let generator = synthetic::Generator::isotropic(DIM, 8);
    let mut rng = StdRng::seed_from_u64(5);
    let vectors: Vec<Vec<u8>> = (0..POOL)
        .map(|_| visage_store::embedding::to_bytes(&generator.face(&generator.identity(&mut rng), &mut rng)))
        .collect();
    sqlx::query("INSERT INTO bench_pool (i, e) SELECT g - 1, v FROM unnest($1::bytea[]) WITH ORDINALITY AS t(v, g)")
        .bind(&vectors)
        .execute(pool)
        .await
        .unwrap();

    let big_service = db.create_service(ServiceType::Recognition).await;
    let small_service = db.create_service(ServiceType::Recognition).await;
    for (service, faces) in [(&big_service, big), (&small_service, small)] {
        let started = Instant::now();
        write(&db, service.id, faces).await;
        println!("{faces} faces written in {:.0} s", started.elapsed().as_secs_f64());
    }
    // Stored images: 20 000 faces of a third service, each with a real photo (008_B.jpg).
    let photo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/upstream-samples/008_B.jpg"))
        .expect("008_B.jpg");
    let with_images = db.create_service(ServiceType::Recognition).await;
    write(&db, with_images.id, IMAGED).await;
    sqlx::query("INSERT INTO images (face_id, content) SELECT id, $2 FROM faces WHERE model_id = $1")
        .bind(with_images.id)
        .bind(&photo)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("VACUUM ANALYZE images").execute(pool).await.unwrap();
    let images_bytes: i64 =
        sqlx::query_scalar("SELECT pg_total_relation_size('images')").fetch_one(pool).await.unwrap();
    println!(
        "stored images: {:.0} bytes per face for a {}-byte photo ({:.1} GB per million faces on top of the faces)",
        images_bytes as f64 / IMAGED as f64,
        photo.len(),
        images_bytes as f64 / IMAGED as f64 * 1e6 / 1e9
    );
    sqlx::query("DELETE FROM models WHERE id = $1").bind(with_images.id).execute(pool).await.unwrap();
    sqlx::query("DROP TABLE bench_pool").execute(pool).await.unwrap();
    let started = Instant::now();
    sqlx::query("VACUUM ANALYZE faces").execute(pool).await.unwrap();
    sqlx::query("VACUUM ANALYZE subjects").execute(pool).await.unwrap();
    println!("VACUUM ANALYZE in {:.0} s", started.elapsed().as_secs_f64());
    let (faces_bytes, subjects_bytes, database_bytes): (i64, i64, i64) = sqlx::query_as(
        "SELECT pg_total_relation_size('faces'), pg_total_relation_size('subjects'), \
         pg_database_size(current_database())",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let millions = (big + small) as f64 / 1e6;
    println!(
        "Postgres: faces {:.0} MB, subjects {:.0} MB, database {:.0} MB: {:.0} MB per million faces (10 per subject, no images)",
        faces_bytes as f64 / 1e6,
        subjects_bytes as f64 / 1e6,
        database_bytes as f64 / 1e6,
        database_bytes as f64 / 1e6 / millions
    );

    // Loaded before the port opens.
    let rss_before = rss_kib("VmRSS");
    let started = Instant::now();
    let mut settings = Settings::with_database(db.options.clone());
    settings.listen = ([127, 0, 0, 1], 0).into();
    settings.core_url = core.clone();
    let app = Application::build_with_store(settings, db.store.clone()).await.expect("api-service");
    let load = started.elapsed();
    let rss_after = rss_kib("VmRSS");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    println!(
        "api-service: {} faces loaded before the port opened in {:.1} s ({:.2} s per million); RSS +{:.0} MB ({:.0} bytes per face)",
        big + small,
        load.as_secs_f64(),
        load.as_secs_f64() / millions,
        (rss_after - rss_before) as f64 / 1024.0,
        (rss_after - rss_before) as f64 * 1024.0 / (big + small) as f64
    );

    // Recognitions all along.
    let client = reqwest::Client::new();
    let samples: Arc<Mutex<Vec<(Instant, Duration, bool)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for seed in 0..2u64 {
        let (client, samples, stop, key) = (client.clone(), samples.clone(), stop.clone(), big_service.api_key);
        let url = format!("{address}/api/v1/recognition/embeddings/recognize");
        let queries: Vec<Vec<f32>> = {
            let mut rng = StdRng::seed_from_u64(100 + seed);
            (0..200).map(|_| generator.face(&generator.identity(&mut rng), &mut rng)).collect()
        };
        clients.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let at = Instant::now();
                let ok = client
                    .post(&url)
                    .header("x-api-key", key.to_string())
                    .json(&json!({ "embeddings": [queries[i % queries.len()]] }))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200);
                samples.lock().push((at, at.elapsed(), ok));
                i += 1;
            }
        }));
    }
    let phase = |name: &str, from: Instant, to: Instant| {
        let mut times: Vec<f64> = samples
            .lock()
            .iter()
            .filter(|(at, _, _)| *at >= from && *at < to)
            .map(|(_, d, _)| d.as_secs_f64() * 1000.0)
            .collect();
        let failed = samples.lock().iter().filter(|(at, _, ok)| *at >= from && *at < to && !ok).count();
        times.sort_by(f64::total_cmp);
        let pick = |p: f64| times.get(((times.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied();
        println!(
            "{name}: {} recognitions, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {failed} failed",
            times.len(),
            pick(0.5).unwrap_or(f64::NAN),
            pick(0.99).unwrap_or(f64::NAN),
            times.last().copied().unwrap_or(f64::NAN)
        );
    };
    let quiet = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    phase("steady", quiet, Instant::now());

    // A lost listening connection while faces are written.
    let cut = Instant::now();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(killed, [true], "one listening connection");
    for n in 0..20 {
        let face = visage_store::NewFace {
            subject: &format!("written during the cut {n}"),
            embedding: &generator.face(&generator.identity(&mut rng), &mut rng),
            calculator: "bench",
            image: None,
            face_box: None,
        };
        db.store.add_face(big_service.id, face).await.expect("face");
    }
    let caught_up = loop {
        let metrics = client.get(format!("{address}/metrics")).send().await.unwrap().text().await.unwrap();
        if counter(&metrics, "visage_collection_catch_ups_total") >= 1.0 {
            assert_eq!(counter(&metrics, "visage_collection_reloads_total"), 0.0, "no reload");
            break cut.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(cut.elapsed() < Duration::from_secs(60), "no catch-up within a minute");
    };
    println!(
        "lost listening connection: caught up {:.0} ms after the cut (no reload)",
        caught_up.as_secs_f64() * 1000.0
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    phase("during and after the cut (5 s)", cut, Instant::now());

    // The old way: reloading a collection.
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = {
        let (peak, stop) = (peak.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib("VmRSS"), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let rss_steady = rss_kib("VmRSS");
    let reload = Instant::now();
    sqlx::query("SELECT pg_notify('visage_collections', json_build_object('model', $1::uuid, 'op', 'reload', 'ids', '{}'::uuid[])::text)")
        .bind(small_service.id)
        .execute(pool)
        .await
        .unwrap();
    // Long enough for the reload to finish (the log line says when it did).
    let window = Duration::from_secs_f64((small as f64 / 1e6 * 30.0).max(20.0));
    tokio::time::sleep(window).await;
    phase(
        &format!("reload of the {small}-face service (the log line says how long; {} s window)", window.as_secs()),
        reload,
        Instant::now(),
    );
    println!(
        "reload: peak RSS {:.0} MB above the steady {:.0} MB",
        (peak.load(Ordering::Relaxed).saturating_sub(rss_steady)) as f64 / 1024.0,
        rss_steady as f64 / 1024.0
    );
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.await;
    }
    let _ = sampling.await;
}

/// `faces` faces of 10 per subject, in statements of [`BATCH`].
async fn write(db: &TestDatabase, model: Uuid, faces: i64) {
    let pool = db.pool();
    let mut written = 0;
    while written < faces {
        let n = BATCH.min(faces - written);
        sqlx::query(
            "WITH s AS (INSERT INTO subjects (model_id, name) \
                 SELECT $1, 'person ' || g FROM generate_series($2::bigint, $2 + ($3 + 9) / 10 - 1) g RETURNING id) \
             INSERT INTO faces (model_id, subject_id, embedding, dimension, calculator) \
             SELECT $1, s.id, p.e, 512, 'bench' FROM s CROSS JOIN generate_series(1, 10) f \
             JOIN bench_pool p ON p.i = abs(hashtext(s.id::text || f::text)) % 4096",
        )
        .bind(model)
        .bind(written / 10)
        .bind(n)
        .execute(pool)
        .await
        .expect("faces");
        written += n;
    }
}

fn counter(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// A field of /proc/self/status, in KiB.
fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|v| v.trim_start_matches(':').split_whitespace().next()))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn cpu() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string()));
    format!(
        "{}, {} cores; search kernels {}",
        model.unwrap_or_default(),
        std::thread::available_parallelism().map_or(1, usize::from),
        visage_index::Simd::current().as_str()
    )
}
