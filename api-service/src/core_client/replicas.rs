//! The core-service replicas a call may go to, and which of them answer.
//!
//! `CORE_URL` is a list of base URLs (commas or spaces between them). A plain-HTTP URL whose
//! host is a name stands for every address the name resolves to, looked up again every
//! [`REFRESH`]: `docker compose --scale compreface-core=N` and a Kubernetes headless Service both
//! answer one address per replica, so replicas that come and go are found without a proxy in
//! between. An HTTPS URL, or one with an IP address, is one replica as written.
//!
//! Calls go round-robin over the replicas that answer. A replica that failed is left aside for
//! a pause doubling from [`FIRST_PAUSE`] to [`LONGEST_PAUSE`] (it is still tried, last, when no
//! other is left), and is back in the rotation as soon as it answers. State changes are logged
//! once each, not per call.
//!
//! Why in-process and not an nginx upstream in front of core: every core call is safe to send
//! again (core keeps nothing), so this client retries any failure that left no answer on the
//! next replica (see `CoreClient`), which a general-purpose proxy does not do for POSTs; and
//! there is no extra hop or process to run and scale.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use reqwest::Url;

/// How often host names are resolved again.
pub const REFRESH: Duration = Duration::from_secs(5);
/// The longest a name lookup may take before the previous addresses are kept.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a replica that failed is left aside, doubling with each failure in a row.
pub const FIRST_PAUSE: Duration = Duration::from_secs(1);
pub const LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// The replicas of core-service; cheap to share.
#[derive(Debug)]
pub struct Replicas {
    targets: Vec<Target>,
    state: Mutex<State>,
    /// Taken by the call that resolves names again; the others use the addresses they have.
    refreshing: tokio::sync::Mutex<()>,
    next: AtomicUsize,
}

/// One URL of `CORE_URL`.
#[derive(Debug, Clone)]
struct Target {
    url: Url,
    /// Resolve the host to all its addresses (plain HTTP with a host name).
    resolve: bool,
}

#[derive(Debug, Default)]
struct State {
    /// Base URLs (no trailing slash) with the target each came from.
    replicas: Vec<(usize, String)>,
    resolved_at: Option<Instant>,
    health: HashMap<String, Health>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Health {
    failures: u32,
    aside_until: Option<Instant>,
}

/// A malformed `CORE_URL`.
#[derive(Debug, thiserror::Error)]
#[error("CORE_URL: {0}")]
pub struct BadCoreUrl(String);

impl Replicas {
    /// The replicas of `list`: base URLs separated by commas or spaces.
    pub fn parse(list: &str) -> Result<Self, BadCoreUrl> {
        let mut targets = Vec::new();
        for item in list.split([',', ' ', '\n', '\t']).filter(|s| !s.is_empty()) {
            let url = Url::parse(item).map_err(|e| BadCoreUrl(format!("{item:?}: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(BadCoreUrl(format!("{item:?} is not an http(s) URL")));
            }
            let host = url.host_str().unwrap_or_default();
            let literal = host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok();
            let resolve = url.scheme() == "http" && !literal;
            targets.push(Target { url, resolve });
        }
        if targets.is_empty() {
            return Err(BadCoreUrl("no URL".to_string()));
        }
        Ok(Self {
            targets,
            state: Mutex::new(State::default()),
            refreshing: tokio::sync::Mutex::new(()),
            next: AtomicUsize::new(0),
        })
    }

    /// The base URLs to try for one call, in order: the answering replicas round-robin, then
    /// those left aside, soonest back first.
    pub async fn order(&self) -> Vec<String> {
        self.refresh().await;
        let now = Instant::now();
        let state = self.state.lock();
        let n = state.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut ready = Vec::with_capacity(n);
        let mut aside = Vec::new();
        for i in 0..n {
            let base = &state.replicas[(start + i) % n].1;
            match state.health.get(base).and_then(|h| h.aside_until).filter(|until| *until > now) {
                Some(until) => aside.push((until, base.clone())),
                None => ready.push(base.clone()),
            }
        }
        aside.sort();
        ready.extend(aside.into_iter().map(|(_, base)| base));
        ready
    }

    /// `base` failed a call: left aside for a while.
    pub fn failed(&self, base: &str, why: &str) {
        let mut state = self.state.lock();
        let health = state.health.entry(base.to_string()).or_default();
        let now = Instant::now();
        let was_ready = health.aside_until.is_none_or(|until| until <= now);
        health.failures = health.failures.saturating_add(1);
        let pause = FIRST_PAUSE.saturating_mul(1 << (health.failures - 1).min(5)).min(LONGEST_PAUSE);
        health.aside_until = Some(now + pause);
        if was_ready {
            tracing::warn!(replica = base, why, pause_s = pause.as_secs(), "core-service replica left aside");
        }
    }

    /// `base` answered.
    pub fn answered(&self, base: &str) {
        let mut state = self.state.lock();
        if let Some(health) = state.health.get_mut(base) {
            if health.failures > 0 {
                tracing::info!(replica = base, "core-service replica answers again");
                *health = Health::default();
            }
        }
    }

    /// Resolves the host names again when the last lookup is older than [`REFRESH`]: the first
    /// call waits for it, later ones go on with the addresses they have while one call looks up.
    async fn refresh(&self) {
        let fresh = |state: &State| state.resolved_at.is_some_and(|at| at.elapsed() < REFRESH);
        let (fresh_now, have_any) = {
            let state = self.state.lock();
            (fresh(&state), !state.replicas.is_empty())
        };
        if fresh_now {
            return;
        }
        let _guard = if have_any {
            match self.refreshing.try_lock() {
                Ok(guard) => guard,
                Err(_) => return,
            }
        } else {
            self.refreshing.lock().await
        };
        if fresh(&self.state.lock()) {
            return;
        }
        let mut replicas = Vec::new();
        for (i, target) in self.targets.iter().enumerate() {
            if !target.resolve {
                replicas.push((i, base_of(&target.url, None)));
                continue;
            }
            match lookup(&target.url).await {
                Ok(addresses) if !addresses.is_empty() => {
                    replicas.extend(addresses.into_iter().map(|a| (i, base_of(&target.url, Some(a)))));
                }
                outcome => {
                    let previous: Vec<(usize, String)> =
                        self.state.lock().replicas.iter().filter(|(t, _)| *t == i).cloned().collect();
                    if let Err(e) = outcome {
                        tracing::warn!(url = %target.url, error = %e, kept = previous.len(), "cannot resolve core-service");
                    }
                    // Nothing known yet: the URL as written (the call then says why it fails).
                    if previous.is_empty() {
                        replicas.push((i, base_of(&target.url, None)));
                    } else {
                        replicas.extend(previous);
                    }
                }
            }
        }
        replicas.dedup_by(|a, b| a.1 == b.1);
        let mut state = self.state.lock();
        if state.replicas.iter().map(|r| &r.1).ne(replicas.iter().map(|r| &r.1)) {
            tracing::info!(replicas = ?replicas.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(), "core-service replicas");
        }
        let current: std::collections::HashSet<&String> = replicas.iter().map(|r| &r.1).collect();
        state.health.retain(|base, _| current.contains(base));
        state.replicas = replicas;
        state.resolved_at = Some(Instant::now());
    }
}

/// Every address of the URL's host, in the resolver's order, without repeats.
async fn lookup(url: &Url) -> std::io::Result<Vec<SocketAddr>> {
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let found = tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "name lookup timed out"))??;
    let mut addresses: Vec<SocketAddr> = Vec::new();
    for address in found {
        if !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    Ok(addresses)
}

/// The URL without a trailing slash, its host replaced by `address` when given.
fn base_of(url: &Url, address: Option<SocketAddr>) -> String {
    let path = url.path().trim_end_matches('/');
    match address {
        Some(address) => format!("{}://{address}{path}", url.scheme()),
        None => {
            let mut base = url.clone();
            base.set_path("");
            base.set_query(None);
            format!("{}{path}", base.as_str().trim_end_matches('/'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn literal_addresses_and_https_are_used_as_written() {
        let replicas = Replicas::parse("http://127.0.0.1:3000/, https://core.example:3443/prefix").unwrap();
        let mut order = replicas.order().await;
        order.sort();
        assert_eq!(order, ["http://127.0.0.1:3000", "https://core.example:3443/prefix"]);
    }

    #[tokio::test]
    async fn a_name_stands_for_each_of_its_addresses() {
        // localhost: 127.0.0.1 and, where the machine has IPv6, ::1.
        let replicas = Replicas::parse("http://localhost:3000").unwrap();
        let order = replicas.order().await;
        assert!(order.contains(&"http://127.0.0.1:3000".to_string()), "{order:?}");
        assert!(order.iter().all(|b| b == "http://127.0.0.1:3000" || b == "http://[::1]:3000"), "{order:?}");
    }

    #[tokio::test]
    async fn calls_rotate_and_a_failed_replica_goes_last_until_it_answers() {
        let replicas = Replicas::parse("http://127.0.0.1:1,http://127.0.0.1:2,http://127.0.0.1:3").unwrap();
        let mut firsts = Vec::new();
        for _ in 0..3 {
            firsts.push(replicas.order().await[0].clone());
        }
        let mut sorted = firsts.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 3, "each replica comes first once in three calls: {firsts:?}");

        replicas.failed("http://127.0.0.1:2", "refused");
        for _ in 0..6 {
            assert_eq!(replicas.order().await.last().map(String::as_str), Some("http://127.0.0.1:2"));
        }
        replicas.answered("http://127.0.0.1:2");
        firsts.clear();
        for _ in 0..3 {
            firsts.push(replicas.order().await[0].clone());
        }
        assert!(firsts.contains(&"http://127.0.0.1:2".to_string()), "{firsts:?}");
    }

    #[test]
    fn malformed_lists_are_refused() {
        for bad in ["", " , ", "core:3000", "ftp://core:21", "http://"] {
            assert!(Replicas::parse(bad).is_err(), "{bad:?}");
        }
    }
}
