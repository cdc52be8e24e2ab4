//! Password hashing: argon2id (PHC strings) for everything we store; CompreFace's bcrypt hashes
//! (`{bcrypt}$2a$…`) are accepted until the user's next login replaces them.
//!
//! Hashing takes tens of milliseconds of CPU and 19 MiB of memory by design, so it runs on the
//! blocking pool, and through a [`Hashing`] gate: at most one hash per CPU at a time, a short
//! queue behind them, and beyond it an immediate 503. A flood of logins (bad ones cost as much as
//! good ones) then neither grows the blocking pool and its memory nor slows the other calls.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use tokio::sync::Semaphore;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use visage_common::ApiError;

/// How a password compared with a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Right, but the stored hash is of an older kind (bcrypt) and should be replaced.
    YesRehash,
}

/// The gate every hash and verification of a process goes through.
#[derive(Debug)]
pub struct Hashing {
    running: Semaphore,
    waiting: AtomicUsize,
    queue: usize,
}

/// Decrements the waiting count however the wait ends (the request may be dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hashing {
    /// At most `parallel` hashes at once and `queue` waiting for their turn.
    pub fn new(parallel: usize, queue: usize) -> Self {
        return_large_blocks_to_the_system();
        Self { running: Semaphore::new(parallel.max(1)), waiting: AtomicUsize::new(0), queue }
    }

    /// One hash per CPU, and four per CPU (at least eight) waiting.
    pub fn for_this_machine() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self::new(cpus, (4 * cpus).max(8))
    }

    /// An argon2id hash of `password` with a fresh salt.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.admit().await?.hash(password).await
    }

    /// Compares `password` with `stored`. With `stored` `None` (no such user) the same work is
    /// done against a dummy hash, so an unknown e-mail takes as long as a wrong password.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<Verified, ApiError> {
        self.admit().await?.verify(password, stored).await
    }

    /// A turn at hashing: at once when one is free, after a wait in the queue, or 503 when the
    /// queue is full. A login takes its turn before anything else (the database included), so
    /// the requests of a flood that get 503 cost nothing.
    pub async fn admit(&self) -> Result<Admitted<'_>, ApiError> {
        let permit = match self.running.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(busy());
                }
                let _waiting = Waiting(&self.waiting);
                self.running.acquire().await.map_err(|_| busy())?
            }
        };
        Ok(Admitted { _permit: permit })
    }
}

/// A turn at hashing, held until dropped.
pub struct Admitted<'a> {
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Admitted<'_> {
    /// An argon2id hash of `password` with a fresh salt.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        run(move || hash_now(&password)).await
    }

    /// As [`Hashing::verify`], in this turn.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<Verified, ApiError> {
        run(move || match stored {
            Some(stored) => verify_now(&password, &stored),
            None => {
                let _ = verify_now(&password, dummy_hash());
                Verified::No
            }
        })
        .await
    }
}

async fn run<R: Send + 'static>(work: impl FnOnce() -> R + Send + 'static) -> Result<R, ApiError> {
    visage_http::spawn_blocking(work).await.map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        ApiError::unexpected()
    })
}

/// Each hash allocates 19 MiB and frees it. glibc's malloc raises its mmap threshold to the size
/// of the largest block freed, after which such blocks come from per-thread arenas and stay
/// mapped: every blocking-pool thread that ever hashed would keep 19 MiB (a flood of logins left
/// admin-service at 330 MiB). A fixed threshold keeps them mmapped and returned on free, so the
/// memory after a flood is what it was before.
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only changes a setting of the allocator; any value is valid.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            }
        });
    }
}

/// The answer when too many passwords are being checked at once.
fn busy() -> ApiError {
    ApiError::new(visage_common::ErrorCode::Undefined, "Too many logins at once: try again in a moment")
        .with_status(503)
}

pub fn hash_now(password: &str) -> String {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).unwrap_or_else(|e| {
        // Only an absurd password length makes argon2 fail; nobody can log in with it then.
        tracing::error!(error = %e, "cannot hash a password");
        "!".to_string()
    })
}

pub fn verify_now(password: &str, stored: &str) -> Verified {
    let bcrypt = stored.strip_prefix("{bcrypt}").or_else(|| stored.starts_with("$2").then_some(stored));
    if let Some(bcrypt) = bcrypt {
        return match bcrypt::verify(password, bcrypt) {
            Ok(true) => Verified::YesRehash,
            _ => Verified::No,
        };
    }
    match PasswordHash::new(stored) {
        Ok(parsed) if Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() => Verified::Yes,
        _ => Verified::No,
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now("a password nobody has"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_gate_runs_a_few_at_once_queues_a_few_and_refuses_the_rest() {
        let gate = Arc::new(Hashing::new(1, 2));
        let calls: Vec<_> = (0..10)
            .map(|_| {
                let gate = Arc::clone(&gate);
                tokio::spawn(async move { gate.verify("wrong".into(), None).await })
            })
            .collect();
        let mut refused = 0;
        for call in calls {
            match call.await.unwrap() {
                Ok(verified) => assert_eq!(verified, Verified::No),
                Err(e) => {
                    assert_eq!(e.status(), 503);
                    refused += 1;
                }
            }
        }
        assert!((7..=9).contains(&refused), "one running and two waiting at most; {refused} refused");
        assert_eq!(gate.waiting.load(Ordering::Acquire), 0);
        // Free again: the next one runs.
        assert_eq!(gate.verify("wrong".into(), None).await.unwrap(), Verified::No);
    }

    #[test]
    fn argon2_hashes_verify_and_differ_by_salt() {
        let a = hash_now("correct horse");
        let b = hash_now("correct horse");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
        assert_eq!(verify_now("correct horse", &a), Verified::Yes);
        assert_eq!(verify_now("wrong horse", &a), Verified::No);
        assert_eq!(verify_now("anything", "!"), Verified::No);
    }

    #[test]
    fn compreface_bcrypt_hashes_verify_and_ask_for_a_rehash() {
        let bcrypt = bcrypt::hash("s3cret-pass", 4).unwrap();
        assert_eq!(verify_now("s3cret-pass", &format!("{{bcrypt}}{bcrypt}")), Verified::YesRehash);
        assert_eq!(verify_now("s3cret-pass", &bcrypt), Verified::YesRehash);
        assert_eq!(verify_now("other", &format!("{{bcrypt}}{bcrypt}")), Verified::No);
    }
}
