//! Replicas under load, with failures: 2 core-, 3 api- and 2 admin-service processes behind the
//! real front door (nginx with `deploy/nginx`), all on 127.0.0.1, driven through CompreFace's
//! load scenarios while replicas are killed with SIGKILL and started again.
//!
//! `tests/scale/run.sh` builds the services, starts a throwaway PostgreSQL and runs this with:
//!   `BIN` (the services' binaries), `MODELS_DIR`, `DATABASE_URL`, `FIXTURES`
//!   (tests/fixtures/upstream-samples), `OUT` (where the report goes); `NGINX` optional.
//!
//! Timeline (seconds of load; 8 users per scenario, 2 enrolling all along):
//! - 0–20: 2 core replicas;
//! - 20: core B killed; 22–40: 1 core replica; 40: core B started again;
//! - 46: api A and core A killed together; 47–56: a replica of each down; 56: both started
//!   again (api A opens its port only once its collection is loaded: checked at that moment);
//! - until 72: all back.
//!
//! Passes when every recognize, detect and verify call was answered 200; every enrolment
//! acknowledged is stored exactly once, no subject holds two faces, and a failed one is absent
//! (a failed one found stored is an answer lost after the commit: counted and shown); api A
//! served its first request with its collection loaded; the three api replicas then give the
//! same answer. The report (`OUT/scale.md`) gives each window's throughput and latencies.

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::front_door::{FrontDoor, Upstreams};
use parking_lot::Mutex;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

const RECOGNITION_KEY: &str = "00000000-0000-0000-0000-000000000002";
const DETECTION_KEY: &str = "00000000-0000-0000-0000-000000000003";
const VERIFICATION_KEY: &str = "00000000-0000-0000-0000-000000000004";
const USERS: usize = 8;
const ENROLLING_USERS: usize = 2;
const SCENARIOS: [&str; 4] = ["recognize", "detect", "verification", "verify against an image"];

/// The windows the report describes: name, from, to (seconds of load).
const WINDOWS: [(&str, u64, u64); 4] = [
    ("2 core replicas, 3 api", 2, 20),
    ("1 core replica (core B killed), 3 api", 22, 40),
    ("core A and api A down (killed at 46 s)", 47, 56),
    ("all back (started again at 56 s)", 60, 72),
];
const LOAD_SECONDS: u64 = 72;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let code = runtime.block_on(run());
    std::process::exit(code);
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set (tests/scale/run.sh sets it)"))
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0)).and_then(|l| l.local_addr()).map(|a| a.port()).expect("no free port")
}

/// One service process, started again on the same port after a kill.
struct Process {
    name: String,
    program: PathBuf,
    env: Vec<(String, String)>,
    port: u16,
    health: String,
    log: PathBuf,
    child: Option<Child>,
}

impl Process {
    fn new(name: &str, program: PathBuf, env: Vec<(String, String)>, port: u16, health: &str, out: &Path) -> Self {
        Self {
            name: name.to_string(),
            program,
            env,
            port,
            health: format!("http://127.0.0.1:{port}{health}"),
            log: out.join(format!("{name}.log")),
            child: None,
        }
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log file");
        let child = Command::new(&self.program)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.program.display()));
        self.child = Some(child);
    }

    /// SIGKILL, and the process reaped.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn wait_healthy(&mut self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(180);
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("{} exited ({status}); log: {}", self.name, self.log.display());
            }
            if let Ok(r) = http.get(&self.health).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} did not answer {} in 180 s; log: {}", self.name, self.health, self.log.display());
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts every process of `group` at once and waits until each answers its health check.
async fn start_all(group: &mut [Process], http: &reqwest::Client) {
    for process in group.iter_mut() {
        process.spawn();
    }
    for process in group.iter_mut() {
        process.wait_healthy(http).await;
    }
}

/// One answered (or failed) call.
#[derive(Debug, Clone)]
struct Sample {
    scenario: &'static str,
    at: f64,
    seconds: f64,
    status: u16,
    detail: String,
}

/// One enrolment and what the client was told.
#[derive(Debug, Clone)]
struct Enrolment {
    subject: String,
    status: u16,
    image_id: Option<String>,
}

struct Photos {
    a1: Vec<u8>,
    a2: Vec<u8>,
    a3: Vec<u8>,
    b: Vec<u8>,
    crowd: Vec<u8>,
    enrol: Vec<Vec<u8>>,
}

impl Photos {
    fn read(dir: &Path) -> Self {
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        Self {
            a1: read("001_A.jpg"),
            a2: read("002_A.jpg"),
            a3: read("003_A.jpg"),
            b: read("007_B.jpg"),
            crowd: read("000_5.jpg"),
            enrol: ["004_A.jpg", "005_A.jpg", "008_B.jpg", "009_C.jpg"].iter().map(|n| read(n)).collect(),
        }
    }
}

fn file(bytes: &[u8], name: &str) -> Part {
    Part::bytes(bytes.to_vec()).file_name(name.to_string()).mime_str("image/jpeg").expect("mime")
}

async fn run() -> i32 {
    let bin = PathBuf::from(env("BIN"));
    let models = env("MODELS_DIR");
    let database = env("DATABASE_URL");
    let photos = Arc::new(Photos::read(Path::new(&env("FIXTURES"))));
    let out = PathBuf::from(env("OUT"));
    std::fs::create_dir_all(&out).expect("OUT");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().expect("client");

    // core A and B; then api A, B, C, started together (their migrations race for the advisory
    // lock); then admin A and B, with the demo keys kept (they drive the load).
    let group = |names: &[&str], program: &str, prefix: &str, env: Vec<(&str, String)>, health: &str| {
        names
            .iter()
            .map(|name| {
                let port = free_port();
                let mut all = vec![
                    (format!("{prefix}_HOST"), "127.0.0.1".to_string()),
                    (format!("{prefix}_PORT"), port.to_string()),
                ];
                all.extend(env.iter().map(|(k, v)| (k.to_string(), v.clone())));
                Process::new(name, bin.join(program), all, port, health, &out)
            })
            .collect::<Vec<Process>>()
    };
    let mut cores =
        group(&["core-a", "core-b"], "core-service", "CORE", vec![("MODELS_DIR", models.clone())], "/healthcheck");
    start_all(&mut cores, &http).await;
    let core_url = cores.iter().map(|c| format!("http://{}", c.address())).collect::<Vec<_>>().join(",");
    let mut apis = group(
        &["api-a", "api-b", "api-c"],
        "api-service",
        "API",
        vec![
            ("DATABASE_URL", database.clone()),
            ("CORE_URL", core_url.clone()),
            ("DB_MAX_CONNECTIONS", "8".to_string()),
        ],
        "/health/ready",
    );
    start_all(&mut apis, &http).await;
    let mut admins = group(
        &["admin-a", "admin-b"],
        "admin-service",
        "ADMIN",
        vec![("DATABASE_URL", database.clone()), ("DEMO_KEYS", "keep".to_string())],
        "/admin/status",
    );
    start_all(&mut admins, &http).await;
    let list = |ps: &[Process]| ps.iter().map(Process::address).collect::<Vec<_>>().join(",");
    let upstreams = Upstreams { admin: list(&admins), api: list(&apis), core: list(&cores) };
    let door = FrontDoor::start_configured(
        &upstreams,
        "10M",
        &[
            ("RATE_PER_KEY", "10000r/s"),
            ("RATE_PER_ADDRESS", "10000r/s"),
            ("BURST_PER_KEY", "10000"),
            ("BURST_PER_ADDRESS", "10000"),
        ],
    );
    let front = door.address.clone();
    println!("front door {front}; core {core_url}; api {}; admin {}", upstreams.api, upstreams.admin);

    // Both admin replicas answer through the front door.
    let mut admin_answers = 0;
    for _ in 0..4 {
        let r = http.get(format!("{front}/admin/status")).send().await.expect("admin status");
        admin_answers += usize::from(r.status().is_success());
    }

    // The collection: A and B, as in CompreFace's load tests.
    let mut a_image = String::new();
    for (subject, photo, name) in [("A", &photos.a1, "001_A.jpg"), ("B", &photos.b, "007_B.jpg")] {
        let r = http
            .post(format!("{front}/api/v1/recognition/faces?subject={subject}"))
            .header("x-api-key", RECOGNITION_KEY)
            .multipart(Form::new().part("file", file(photo, name)))
            .send()
            .await
            .expect("enrol");
        assert_eq!(r.status(), 201, "enrolling {subject}");
        let body: Value = r.json().await.expect("json");
        if subject == "A" {
            a_image = body["image_id"].as_str().expect("image_id").to_string();
        }
    }

    let started = Instant::now();
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let enrolments: Arc<Mutex<Vec<Enrolment>>> = Arc::default();
    let deadline = started + Duration::from_secs(LOAD_SECONDS);
    let mut tasks = Vec::new();
    for scenario in SCENARIOS {
        for _ in 0..USERS {
            let (http, front, photos, samples, a_image) =
                (http.clone(), front.clone(), photos.clone(), samples.clone(), a_image.clone());
            tasks.push(tokio::spawn(async move {
                while Instant::now() < deadline {
                    let request = match scenario {
                        "recognize" => http
                            .post(format!("{front}/api/v1/recognition/recognize?prediction_count=1"))
                            .header("x-api-key", RECOGNITION_KEY)
                            .multipart(Form::new().part("file", file(&photos.a2, "002_A.jpg"))),
                        "detect" => http
                            .post(format!("{front}/api/v1/detection/detect"))
                            .header("x-api-key", DETECTION_KEY)
                            .multipart(Form::new().part("file", file(&photos.crowd, "000_5.jpg"))),
                        "verification" => http
                            .post(format!("{front}/api/v1/verification/verify"))
                            .header("x-api-key", VERIFICATION_KEY)
                            .multipart(
                                Form::new()
                                    .part("source_image", file(&photos.a1, "001_A.jpg"))
                                    .part("target_image", file(&photos.a3, "003_A.jpg")),
                            ),
                        _ => http
                            .post(format!("{front}/api/v1/recognition/faces/{a_image}/verify"))
                            .header("x-api-key", RECOGNITION_KEY)
                            .multipart(Form::new().part("file", file(&photos.a3, "003_A.jpg"))),
                    };
                    let at = started.elapsed().as_secs_f64();
                    let t0 = Instant::now();
                    let (status, detail) = match request.send().await {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let body = r.text().await.unwrap_or_default();
                            (status, if status == 200 { String::new() } else { body.chars().take(300).collect() })
                        }
                        Err(e) => (0, e.to_string()),
                    };
                    samples.lock().push(Sample { scenario, at, seconds: t0.elapsed().as_secs_f64(), status, detail });
                }
            }));
        }
    }
    for user in 0..ENROLLING_USERS {
        let (http, front, photos, enrolments) = (http.clone(), front.clone(), photos.clone(), enrolments.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while Instant::now() < deadline {
                let subject = format!("enrol-{user}-{n}");
                let photo = &photos.enrol[n % photos.enrol.len()];
                let r = http
                    .post(format!("{front}/api/v1/recognition/faces?subject={subject}"))
                    .header("x-api-key", RECOGNITION_KEY)
                    .multipart(Form::new().part("file", file(photo, "enrol.jpg")))
                    .send()
                    .await;
                let (status, image_id) = match r {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        (status, body["image_id"].as_str().map(str::to_string))
                    }
                    Err(_) => (0, None),
                };
                enrolments.lock().push(Enrolment { subject, status, image_id });
                n += 1;
            }
        }));
    }

    // The faults.
    let at = |s: u64| tokio::time::sleep_until((started + Duration::from_secs(s)).into());
    at(20).await;
    println!("{:5.1} s: SIGKILL core B", started.elapsed().as_secs_f64());
    cores[1].kill();
    at(40).await;
    println!("{:5.1} s: core B starts again", started.elapsed().as_secs_f64());
    cores[1].spawn();
    cores[1].wait_healthy(&http).await;
    let faces_before = faces_loaded(&http, &apis[1].address()).await;
    at(46).await;
    println!("{:5.1} s: SIGKILL api A and core A", started.elapsed().as_secs_f64());
    apis[0].kill();
    cores[0].kill();
    at(56).await;
    println!("{:5.1} s: api A and core A start again", started.elapsed().as_secs_f64());
    cores[0].spawn();
    apis[0].spawn();
    // The first moment api A takes a connection, its collection is loaded already.
    let opened = loop {
        if std::net::TcpStream::connect(apis[0].address()).is_ok() {
            break started.elapsed().as_secs_f64();
        }
        if let Some(Ok(Some(status))) = apis[0].child.as_mut().map(Child::try_wait) {
            panic!("api A exited ({status}) on restart; log: {}", apis[0].log.display());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let faces_at_open = faces_loaded(&http, &apis[0].address()).await;
    println!("{opened:5.1} s: api A opened its port with {faces_at_open:?} faces loaded (api B had {faces_before:?} before the kill)");
    cores[0].wait_healthy(&http).await;
    for task in tasks {
        task.await.expect("load task");
    }
    let load_seconds = started.elapsed().as_secs_f64();

    // Afterwards: every api replica gives the same answer, from the same collection.
    let mut answers = Vec::new();
    for api in &apis {
        let r = http
            .post(format!("http://{}/api/v1/recognition/recognize?prediction_count=3", api.address()))
            .header("x-api-key", RECOGNITION_KEY)
            .multipart(Form::new().part("file", file(&photos.a2, "002_A.jpg")))
            .send()
            .await
            .expect("recognize");
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let mut subjects: Vec<(String, String)> = body["result"][0]["subjects"]
            .as_array()
            .map(|s| {
                s.iter()
                    .map(|m| {
                        (
                            m["subject"].as_str().unwrap_or_default().to_string(),
                            format!("{:.4}", m["similarity"].as_f64().unwrap_or(-1.0)),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        // Equal similarities may come in either order.
        subjects.sort();
        answers.push((api.name.clone(), status, subjects, faces_loaded(&http, &api.address()).await));
    }

    // What is stored: every face of the collection, by subject.
    let stored = stored_faces(&http, &front).await;
    let samples = samples.lock().clone();
    let enrolments = enrolments.lock().clone();
    let report = report(&samples, &enrolments, &stored, load_seconds);

    let mut failures = Vec::new();
    if admin_answers != 4 {
        failures.push(format!("GET /admin/status through the front door: {admin_answers} of 4 answered"));
    }
    for s in samples.iter().filter(|s| s.status != 200) {
        failures.push(format!("{} at {:.1} s: {} {}", s.scenario, s.at, s.status, s.detail));
    }
    let mut lost_answers = 0;
    for e in &enrolments {
        let faces = stored.get(&e.subject).cloned().unwrap_or_default();
        match (e.status, faces.len()) {
            (201, 1) if e.image_id.as_deref() == Some(faces[0].as_str()) => {}
            (201, n) => failures.push(format!("enrolment {} acknowledged but stored {n} times", e.subject)),
            (_, 0) => {}
            (_, 1) => lost_answers += 1,
            (status, n) => failures.push(format!("enrolment {} failed ({status}) but stored {n} times", e.subject)),
        }
    }
    match faces_at_open {
        Some(n) if faces_before.is_some_and(|before| n >= before) => {}
        other => failures.push(format!(
            "api A opened its port with {other:?} faces loaded; api B had {faces_before:?} before the kill"
        )),
    }
    let first = &answers[0];
    for answer in &answers {
        if answer.1 != 200 || answer.2.is_empty() || answer.2 != first.2 || answer.3 != first.3 {
            failures.push(format!("the api replicas disagree: {answers:?}"));
            break;
        }
    }

    let mut text = report;
    text.push_str(&format!(
        "\napi A opened its port {:.1} s after its restart with {} faces loaded (api B: {} before the kill).\n\
         Replicas afterwards: {}.\nEnrolments that failed with their face stored (answer lost after the commit): {lost_answers}.\n",
        opened - 56.0,
        faces_at_open.unwrap_or(0),
        faces_before.unwrap_or(0),
        answers
            .iter()
            .map(|(name, status, subjects, faces)| format!("{name} {status} {subjects:?} ({faces:?} faces)"))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    if failures.is_empty() {
        text.push_str("\nPASS\n");
    } else {
        text.push_str(&format!("\nFAIL ({}):\n", failures.len()));
        for f in failures.iter().take(40) {
            text.push_str(&format!("- {f}\n"));
        }
    }
    std::fs::write(out.join("scale.md"), &text).expect("report");
    println!("{text}");
    drop(door);
    i32::from(!failures.is_empty())
}

/// `visage_collection_faces` of the api at `address`.
async fn faces_loaded(http: &reqwest::Client, address: &str) -> Option<u64> {
    let text = http.get(format!("http://{address}/metrics")).send().await.ok()?.text().await.ok()?;
    text.lines()
        .find(|l| l.starts_with("visage_collection_faces "))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map(|v| v as u64)
}

/// Every stored face of the demo collection: subject → image ids.
async fn stored_faces(http: &reqwest::Client, front: &str) -> HashMap<String, Vec<String>> {
    let mut stored: HashMap<String, Vec<String>> = HashMap::new();
    let mut page = 0;
    loop {
        let body: Value = http
            .get(format!("{front}/api/v1/recognition/faces?page={page}&size=1000"))
            .header("x-api-key", RECOGNITION_KEY)
            .send()
            .await
            .expect("list faces")
            .json()
            .await
            .expect("faces json");
        let faces = body["faces"].as_array().cloned().unwrap_or_default();
        for face in &faces {
            stored
                .entry(face["subject"].as_str().unwrap_or_default().to_string())
                .or_default()
                .push(face["image_id"].as_str().unwrap_or_default().to_string());
        }
        let total_pages = body["total_pages"].as_u64().unwrap_or(0);
        page += 1;
        if faces.is_empty() || page >= total_pages {
            return stored;
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(
    samples: &[Sample],
    enrolments: &[Enrolment],
    stored: &HashMap<String, Vec<String>>,
    load_seconds: f64,
) -> String {
    let mut text = format!(
        "CPU: {}, {} cores. {USERS} users per scenario, {ENROLLING_USERS} enrolling; {load_seconds:.0} s of load.\n\n",
        cpu_model(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    text.push_str("| window | scenario | calls | per second | p50 ms | p95 ms | p99 ms | max ms | not 200 |\n");
    text.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for (window, from, to) in WINDOWS {
        let span = (to - from) as f64;
        let mut by: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
        for s in samples.iter().filter(|s| s.at >= from as f64 && s.at < to as f64) {
            by.entry(s.scenario).or_default().push(s);
        }
        let mut total = 0;
        for scenario in SCENARIOS {
            let list = by.get(scenario).cloned().unwrap_or_default();
            total += list.len();
            let mut ms: Vec<f64> = list.iter().map(|s| s.seconds * 1000.0).collect();
            ms.sort_by(f64::total_cmp);
            text.push_str(&format!(
                "| {window} | {scenario} | {} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} | {} |\n",
                list.len(),
                list.len() as f64 / span,
                percentile(&ms, 50.0),
                percentile(&ms, 95.0),
                percentile(&ms, 99.0),
                ms.last().copied().unwrap_or(f64::NAN),
                list.iter().filter(|s| s.status != 200).count()
            ));
        }
        text.push_str(&format!("| {window} | all four | {total} | {:.1} | | | | | |\n", total as f64 / span));
    }
    let acknowledged = enrolments.iter().filter(|e| e.status == 201).count();
    let enrolled_subjects = stored.keys().filter(|s| s.starts_with("enrol-")).count();
    text.push_str(&format!(
        "\nEnrolments: {} sent, {acknowledged} acknowledged, {} failed ({}); {enrolled_subjects} stored.\n",
        enrolments.len(),
        enrolments.len() - acknowledged,
        failed_statuses(enrolments)
    ));
    text
}

fn failed_statuses(enrolments: &[Enrolment]) -> String {
    let mut by: BTreeMap<u16, usize> = BTreeMap::new();
    for e in enrolments.iter().filter(|e| e.status != 201) {
        *by.entry(e.status).or_default() += 1;
    }
    if by.is_empty() {
        return "none".to_string();
    }
    by.iter()
        .map(|(status, n)| format!("{n} × {}", if *status == 0 { "no answer".to_string() } else { status.to_string() }))
        .collect::<Vec<_>>()
        .join(", ")
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).trim().to_string());
    let flags = info.lines().find_map(|l| l.strip_prefix("flags")).unwrap_or_default();
    let features: Vec<&str> = ["avx2", "avx512f", "avx512_vnni", "fma"]
        .into_iter()
        .filter(|f| flags.split_whitespace().any(|x| x == *f))
        .collect();
    format!("{} ({})", model.unwrap_or_else(|| "unknown".to_string()), features.join(", "))
}
