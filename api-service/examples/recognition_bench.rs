//! Measures recognition through api-service over HTTP, for `docs/benchmarks.md`: api-service
//! in this process, a real core-service (another process, at `CORE_URL`), a throwaway Postgres
//! (or `DATABASE_URL`):
//!
//! 1. for each data set and collection size: synthetic 512-value embeddings (`crates/index`'s
//!    generator: face-like identities with 1–8 faces each, or isotropic ones with 10 each; one
//!    subject per identity) written straight into the database with bulk SQL through the
//!    store's pool; the time of the first request,
//!    which loads the collection; the process's RSS before and after; then the latency of
//!    `/recognition/embeddings/recognize` (search without inference) for new faces of stored
//!    people ("known") and of people not stored ("unknown"), and of `/recognition/recognize`
//!    with a real photo;
//! 2. enrolment throughput: real photos through `POST /recognition/faces`, one client and
//!    two clients at once;
//! 3. the overhead of api-service over core-service: `/detection/detect` against core's
//!    `/find_faces`, same photo.
//!
//! ```sh
//! cargo build --release -p core-service && CORE_PORT=3000 target/release/core-service &
//! CORE_URL=http://127.0.0.1:3000 cargo run --release -p api-service --example recognition_bench -- 1000 100000 1000000
//! # chosen data sets only (`face-like`, `isotropic`; both by default), search only:
//! CORE_URL=… cargo run --release -p api-service --example recognition_bench -- 1000000 isotropic search
//! ```
//!
//! It prints the CPU and the search kernels it ran with (`VISAGE_SIMD=avx2` or `portable` lowers
//! them).

#[path = "../../crates/index/examples/common/synthetic.rs"]
#[allow(dead_code)]
mod synthetic;

use std::time::{Duration, Instant};

use api_service::{Application, Settings};
use futures::TryStreamExt;
use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use uuid::Uuid;
use visage_store::testing::TestDatabase;
use visage_store::{Service, ServiceType};

const DIM: usize = 512;
/// Faces per INSERT statement.
const INSERT_BATCH: usize = 4_000;

#[tokio::main]
async fn main() {
    visage_http::telemetry::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1_000, 100_000, 1_000_000] } else { sizes };
    let wanted = |name: &str| {
        let named = args.iter().any(|a| a == "face-like" || a == "isotropic");
        !named || args.iter().any(|a| a == name)
    };
    let mut generators = Vec::new();
    if wanted("face-like") {
        generators.push(synthetic::Generator::new(DIM, 7));
    }
    if wanted("isotropic") {
        generators.push(synthetic::Generator::isotropic(DIM, 8));
    }
    let search_only = args.iter().any(|a| a == "search");
    let core = std::env::var("CORE_URL").expect("CORE_URL: the core-service to call");
    let core = core.trim_end_matches('/');
    let client = reqwest::Client::new();

    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|info| {
        info.lines()
            .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string()))
    });
    println!(
        "CPU: {}, {} cores; search kernels: {} (this CPU: {}; VISAGE_SIMD=avx2 or portable lowers them)",
        cpu.as_deref().unwrap_or("unknown"),
        std::thread::available_parallelism().map_or(1, usize::from),
        visage_index::Simd::current().as_str(),
        visage_index::Simd::detected().as_str()
    );
    println!("\n## search and recognition");
    for generator in &generators {
        for &size in &sizes {
            search(&client, core, generator, size, search_only).await;
        }
    }
    if search_only {
        return;
    }
    println!("\n## enrolment");
    enrolment(&client, core).await;
    println!("\n## api-service over core-service");
    overhead(&client, core).await;
}

/// api-service on `db`, calling `core`; serves until the process ends.
async fn serve(db: &TestDatabase, core: &str) -> String {
    let mut settings = Settings::with_database(db.options.clone());
    settings.listen = ([127, 0, 0, 1], 0).into();
    settings.core_url = core.to_string();
    // The first request loads the collection: that is what this measures.
    settings.preload = false;
    let app = Application::build_with_store(settings, db.store.clone()).await.expect("api-service");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    address
}

async fn search(
    client: &reqwest::Client,
    core: &str,
    generator: &synthetic::Generator,
    size: usize,
    search_only: bool,
) {
    let db = TestDatabase::create().await;
    let service = db.create_service(ServiceType::Recognition).await;
    let gallery = generator.gallery(size, 11);
    let started = Instant::now();
    write_gallery(&db, &service, &gallery).await;
    let data = generator.name();
    println!("{size} {data} faces: written in {:.1} s", started.elapsed().as_secs_f64());
    sqlx::query("VACUUM ANALYZE faces").execute(db.pool()).await.expect("vacuum");

    // What the database and the client side of sqlx take alone (the table is in the OS cache).
    let started = Instant::now();
    let streamed = db.store.stream_embeddings(service.id).try_fold(0usize, |n, _| async move { Ok(n + 1) }).await;
    assert_eq!(streamed.expect("stream"), size);
    println!("{size} {data} faces: streaming the rows alone {:.2} s", started.elapsed().as_secs_f64());

    let address = serve(&db, core).await;
    let url = format!("{address}/api/v1/recognition/embeddings/recognize");
    let mut rng = StdRng::seed_from_u64(size as u64);
    let known: Vec<Vec<f32>> =
        (0..300).map(|i| generator.face(&gallery.centres[(i * 7919) % gallery.centres.len()], &mut rng)).collect();
    let unknown: Vec<Vec<f32>> = (0..300).map(|_| generator.face(&generator.identity(&mut rng), &mut rng)).collect();
    drop(gallery);

    let rss_before = rss_bytes();
    let started = Instant::now();
    let first = post_json(client, &url, &service, &json!({ "embeddings": [known[0]] })).await;
    let load = started.elapsed();
    let rss_after = rss_bytes();
    assert_eq!(first["result"][0]["similarities"].as_array().map(Vec::len), Some(1), "{first}");
    println!(
        "{size} {data} faces: first request (loads the collection) {:.2} s; RSS +{:.1} MB ({:.1} MB per 100 000 faces)",
        load.as_secs_f64(),
        (rss_after - rss_before) as f64 / 1e6,
        (rss_after - rss_before) as f64 / 1e6 / size as f64 * 1e5,
    );

    for (what, queries) in [("known", &known), ("unknown", &unknown)] {
        let mut times = Vec::new();
        for query in queries.iter() {
            let started = Instant::now();
            post_json(client, &url, &service, &json!({ "embeddings": [query] })).await;
            times.push(started.elapsed());
        }
        report(&format!("{size} {data} faces: /recognition/embeddings/recognize, {what}"), times);
    }

    if search_only {
        return;
    }
    let photo = fixture("upstream-samples/008_B.jpg");
    let url = format!("{address}/api/v1/recognition/recognize");
    let mut times = Vec::new();
    for _ in 0..60 {
        let started = Instant::now();
        let answer = post_image(client, &url, &service, &photo).await;
        times.push(started.elapsed());
        assert_eq!(answer["result"].as_array().map(Vec::len), Some(1), "{answer}");
    }
    report(&format!("{size} {data} faces: /recognition/recognize, 008_B.jpg (416×624)"), times);
}

/// One subject per identity and its faces, written with multi-row INSERTs.
async fn write_gallery(db: &TestDatabase, service: &Service, gallery: &synthetic::Gallery) {
    let pool = db.pool();
    let subjects: Vec<Uuid> = (0..gallery.centres.len()).map(|_| Uuid::new_v4()).collect();
    for chunk in subjects.chunks(INSERT_BATCH * 4) {
        let names: Vec<String> = chunk.iter().map(|id| format!("person {}", id.simple())).collect();
        sqlx::query("INSERT INTO subjects (id, model_id, name) SELECT unnest($1::uuid[]), $2, unnest($3::text[])")
            .bind(chunk)
            .bind(service.id)
            .bind(&names)
            .execute(pool)
            .await
            .expect("subjects");
    }
    let faces = gallery.identities.len();
    for first in (0..faces).step_by(INSERT_BATCH) {
        let rows = first..(first + INSERT_BATCH).min(faces);
        let ids: Vec<Uuid> = rows.clone().map(|_| Uuid::new_v4()).collect();
        let owners: Vec<Uuid> = rows.clone().map(|r| subjects[gallery.identities[r] as usize]).collect();
        let embeddings: Vec<Vec<u8>> =
            rows.map(|r| visage_store::embedding::to_bytes(&gallery.vectors[r * DIM..(r + 1) * DIM])).collect();
        sqlx::query(
            "INSERT INTO faces (id, model_id, subject_id, embedding, dimension, calculator) \
             SELECT unnest($1::uuid[]), $2, unnest($3::uuid[]), unnest($4::bytea[]), $5, 'synthetic'",
        )
        .bind(&ids)
        .bind(service.id)
        .bind(&owners)
        .bind(&embeddings)
        .bind(DIM as i32)
        .execute(pool)
        .await
        .expect("faces");
    }
}

async fn enrolment(client: &reqwest::Client, core: &str) {
    let db = TestDatabase::create().await;
    let service = db.create_service(ServiceType::Recognition).await;
    let address = serve(&db, core).await;
    let photos: Vec<(&str, Vec<u8>)> =
        ["upstream-samples/007_B.jpg", "upstream-samples/008_B.jpg", "upstream-samples/009_C.jpg"]
            .into_iter()
            .map(|p| (p, fixture(p)))
            .collect();
    let url = format!("{address}/api/v1/recognition/faces?subject=bench");
    for clients in [1usize, 2] {
        let per_client = 30;
        let started = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|c| {
                let (client, url, service, photos) = (client.clone(), url.clone(), service.clone(), photos.clone());
                tokio::spawn(async move {
                    for i in 0..per_client {
                        let (_, photo) = &photos[(i + c) % photos.len()];
                        let answer = post_image(&client, &url, &service, photo).await;
                        assert!(answer["image_id"].is_string(), "{answer}");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("client");
        }
        let seconds = started.elapsed().as_secs_f64();
        let faces = clients * per_client;
        println!(
            "enrolment, {clients} client(s): {faces} faces in {seconds:.2} s = {:.1} faces/s (416×624 and 348×522 photos)",
            faces as f64 / seconds
        );
    }
}

async fn overhead(client: &reqwest::Client, core: &str) {
    let db = TestDatabase::create().await;
    let service = db.create_service(ServiceType::Detection).await;
    let address = serve(&db, core).await;
    for image in ["upstream-samples/008_B.jpg", "upstream-samples/000_5.jpg"] {
        let photo = fixture(image);
        for round in 0..2 {
            let mut direct = Vec::new();
            let mut through = Vec::new();
            for _ in 0..60 {
                let started = Instant::now();
                let answer = post_image(client, &format!("{core}/find_faces"), &service, &photo).await;
                direct.push(started.elapsed());
                assert!(answer["result"].is_array(), "{answer}");
                let started = Instant::now();
                let answer = post_image(client, &format!("{address}/api/v1/detection/detect"), &service, &photo).await;
                through.push(started.elapsed());
                assert!(answer["result"].is_array(), "{answer}");
            }
            if round == 1 {
                report(&format!("core /find_faces, {image}"), direct);
                report(&format!("api /detection/detect, {image}"), through);
            }
        }
    }
}

async fn post_json(client: &reqwest::Client, url: &str, service: &Service, body: &Value) -> Value {
    let response =
        client.post(url).header("x-api-key", service.api_key.to_string()).json(body).send().await.expect("request");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON");
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn post_image(client: &reqwest::Client, url: &str, service: &Service, photo: &[u8]) -> Value {
    let form = Form::new().part("file", Part::bytes(photo.to_vec()).file_name("photo.jpg"));
    let response = client
        .post(url)
        .header("x-api-key", service.api_key.to_string())
        .multipart(form)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON");
    assert!(status.is_success(), "{status}: {body}");
    body
}

fn fixture(path: &str) -> Vec<u8> {
    let full = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")), std::path::PathBuf::from)
        .join("../tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

/// p50 and p99 of the times, in milliseconds.
fn report(what: &str, mut times: Vec<Duration>) {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("{what}: p50 {:.2} ms, p99 {:.2} ms ({} requests)", ms(at(0.5)), ms(at(0.99)), times.len());
}

/// This process's resident memory.
fn rss_bytes() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        .map_or(0, |kb| kb * 1024)
}
