//! Password hashing: argon2id (PHC strings) for everything we store; CompreFace's bcrypt hashes
//! (`{bcrypt}$2a$…`) are accepted until the user's next login replaces them.
//!
//! Hashing takes tens of milliseconds of CPU by design, so it runs on the blocking pool.

use std::sync::OnceLock;

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

/// An argon2id hash of `password` with a fresh salt.
pub async fn hash(password: String) -> Result<String, ApiError> {
    visage_http::spawn_blocking(move || hash_now(&password)).await.map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        ApiError::unexpected()
    })
}

/// Compares `password` with `stored`. With `stored` `None` (no such user) the same work is done
/// against a dummy hash, so an unknown e-mail takes as long as a wrong password.
pub async fn verify(password: String, stored: Option<String>) -> Verified {
    visage_http::spawn_blocking(move || match stored {
        Some(stored) => verify_now(&password, &stored),
        None => {
            let _ = verify_now(&password, dummy_hash());
            Verified::No
        }
    })
    .await
    .unwrap_or(Verified::No)
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
    use super::*;

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
