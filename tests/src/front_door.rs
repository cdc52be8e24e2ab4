//! The real front door: nginx with the project's one configuration (`deploy/nginx`, rendered by
//! `deploy/nginx/render.sh` as `scripts/start.sh` renders it) in front of services of this test
//! process, on a free port of 127.0.0.1.
//!
//! nginx must be installed (`scripts/nginx.sh install`, which the test command runs first).

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx, stopped when dropped.
pub struct FrontDoor {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    dir: tempfile::TempDir,
    child: Child,
}

/// Where the upstreams are: `host:port` of each service.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub admin: String,
    pub api: String,
    pub core: String,
}

impl Upstreams {
    /// From the services' base URLs (`http://host:port`).
    pub fn from_urls(admin: &str, api: &str, core: &str) -> Self {
        let strip = |url: &str| url.trim_start_matches("http://").trim_end_matches('/').to_string();
        Self { admin: strip(admin), api: strip(api), core: strip(core) }
    }
}

impl FrontDoor {
    /// nginx in front of `upstreams`, with the default body limit (10M, as `start.sh`).
    pub fn start(upstreams: &Upstreams) -> Self {
        Self::start_with(upstreams, "10M")
    }

    /// With `max_body` as `client_max_body_size` (nginx's size syntax: `10M`).
    ///
    /// # Panics
    /// When nginx is missing or does not start: the message says why.
    pub fn start_with(upstreams: &Upstreams, max_body: &str) -> Self {
        Self::start_configured(upstreams, max_body, &[])
    }

    /// With `env` set for `render.sh` (the rate limits: `RATE_LOGIN`, `BURST_LOGIN`, …).
    ///
    /// # Panics
    /// When nginx is missing or does not start: the message says why.
    pub fn start_configured(upstreams: &Upstreams, max_body: &str, env: &[(&str, &str)]) -> Self {
        let nginx = nginx();
        let dir = tempfile::tempdir().expect("no temporary directory");
        // nginx's workers (user nobody under root) must reach the directory.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let port = free_port();
        // A stand-in for the built UI: a page of its own.
        let ui = dir.path().join("ui");
        std::fs::create_dir_all(&ui).expect("ui directory");
        std::fs::write(ui.join("index.html"), "<!doctype html><title>Visage</title>\n").expect("index.html");
        let conf = dir.path().join("nginx");
        let status = Command::new(repository().join("deploy/nginx/render.sh"))
            .arg(&conf)
            .arg(port.to_string())
            .arg(&ui)
            .args([&upstreams.admin, &upstreams.api, &upstreams.core])
            .arg(max_body)
            .envs(env.iter().copied())
            .status()
            .expect("cannot run deploy/nginx/render.sh");
        assert!(status.success(), "deploy/nginx/render.sh failed");
        let child = Command::new(&nginx)
            .arg("-c")
            .arg(conf.join("nginx.conf"))
            .arg("-p")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", nginx.display()));
        let mut door = Self { address: format!("http://127.0.0.1:{port}"), dir, child };
        door.wait_until_listening(port);
        door
    }

    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nginx/logs/error.log")).unwrap_or_default()
    }

    fn wait_until_listening(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("nginx exited ({status}):\n{}", self.error_log());
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nginx does not listen on port {port}:\n{}", self.error_log());
    }
}

impl Drop for FrontDoor {
    fn drop(&mut self) {
        // SIGTERM: nginx's master stops its workers (fast shutdown).
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

/// The nginx binary: `NGINX` when set, else what `scripts/nginx.sh path` finds.
fn nginx() -> PathBuf {
    if let Some(path) = std::env::var_os("NGINX") {
        return PathBuf::from(path);
    }
    let found = Command::new(repository().join("scripts/nginx.sh")).arg("path").output();
    match found {
        Ok(out) if out.status.success() => PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()),
        _ => panic!("nginx is missing: scripts/nginx.sh install (the test command runs it)"),
    }
}

/// The repository this test runs in.
fn repository() -> PathBuf {
    let dir =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    dir.ancestors().find(|a| a.join("deploy/nginx/render.sh").exists()).map(Path::to_path_buf).unwrap_or(dir)
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0)).and_then(|l| l.local_addr()).map(|a| a.port()).expect("no free port")
}
