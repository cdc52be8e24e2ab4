//! Throttling of logins and password-reset requests, kept in the database so that every
//! admin-service instance shares it ([`visage_store::attempts`]).
//!
//! Logins: failures are counted per account (the stored user, whatever the spelling of its
//! address; an unknown address by its lowercase form, so the answer says nothing about who is
//! registered) and per client address. Past a few free failures, each further attempt must wait
//! a delay that doubles with every failure, up to [`MAX_DELAY`]; an attempt inside the delay is
//! answered 429 without looking at the password. Nothing is ever locked: the right password
//! works once the delay has passed, so an attacker cannot lock the owner out, and guessing is
//! slowed to a few tries an hour. A success clears the account's count; failures are forgotten
//! after [`WINDOW`] without one.
//!
//! Password-reset requests: at most [`FORGOT_PER_EMAIL`] per address and [`FORGOT_PER_CLIENT`]
//! per client address within [`WINDOW`].

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};
use chrono::Utc;
use uuid::Uuid;
use visage_store::{Store, StoreError};

/// Failures an account may make before the delays start.
pub const FREE_PER_ACCOUNT: i32 = 5;
/// Failures a client address may make before the delays start (many people may share one).
pub const FREE_PER_CLIENT: i32 = 20;
/// The longest delay between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// How long counts are remembered after the last attempt.
pub const WINDOW: Duration = Duration::from_secs(60 * 60);
/// Password-reset e-mails per address within [`WINDOW`].
pub const FORGOT_PER_EMAIL: i32 = 3;
/// Password-reset requests per client address within [`WINDOW`].
pub const FORGOT_PER_CLIENT: i32 = 10;

fn window() -> chrono::Duration {
    chrono::Duration::from_std(WINDOW).unwrap_or(chrono::Duration::hours(1))
}

/// The delay after `count` failures, `free` of them without one: 1 s, 2 s, 4 s, … up to
/// [`MAX_DELAY`].
pub fn delay_after(count: i32, free: i32) -> Duration {
    if count < free {
        return Duration::ZERO;
    }
    let doublings = u32::try_from(count - free).unwrap_or(0).min(20);
    Duration::from_secs(1u64 << doublings).min(MAX_DELAY)
}

/// The keys a login attempt is counted under.
#[derive(Debug, Clone)]
pub struct LoginKeys {
    account: String,
    client: String,
}

impl LoginKeys {
    /// For an attempt on `user` (when the address is registered) or `email`, from `client`.
    pub fn new(user: Option<Uuid>, email: &str, client: &str) -> Self {
        let account = match user {
            Some(id) => format!("login:user:{id}"),
            None => format!("login:email:{}", email.trim().to_lowercase()),
        };
        Self { account, client: format!("login:addr:{client}") }
    }

    fn both(&self) -> [String; 2] {
        [self.account.clone(), self.client.clone()]
    }
}

/// How long the login must wait, `None` when it may be tried now.
pub async fn login_wait(store: &Store, keys: &LoginKeys) -> Result<Option<Duration>, StoreError> {
    let now = Utc::now();
    let mut wait = Duration::ZERO;
    for row in store.attempts(&keys.both(), window()).await? {
        let free = if row.key == keys.account { FREE_PER_ACCOUNT } else { FREE_PER_CLIENT };
        let until = row.last_at + chrono::Duration::from_std(delay_after(row.count, free)).unwrap_or_default();
        if let Ok(left) = (until - now).to_std() {
            wait = wait.max(left);
        }
    }
    Ok((!wait.is_zero()).then_some(wait))
}

/// Counts a failed login.
pub async fn login_failed(store: &Store, keys: &LoginKeys) -> Result<(), StoreError> {
    store.record_attempts(&keys.both(), window()).await
}

/// Clears the account's failures (the client address keeps its count).
pub async fn login_succeeded(store: &Store, keys: &LoginKeys) -> Result<(), StoreError> {
    store.clear_attempts(std::slice::from_ref(&keys.account)).await
}

/// Counts a password-reset request; `false` when the address or the client has asked too often.
pub async fn forgot_allowed(store: &Store, email: &str, client: &str) -> Result<bool, StoreError> {
    let email_key = format!("forgot:email:{}", email.trim().to_lowercase());
    let keys = [email_key.clone(), format!("forgot:addr:{client}")];
    let over = store
        .attempts(&keys, window())
        .await?
        .iter()
        .any(|row| row.count >= if row.key == email_key { FORGOT_PER_EMAIL } else { FORGOT_PER_CLIENT });
    if !over {
        store.record_attempts(&keys, window()).await?;
    }
    Ok(!over)
}

/// The client's address: the peer's, or, when the peer is the front door on this machine or a
/// private network, the last address of `X-Forwarded-For` (the one nginx itself added).
pub fn client_address(headers: &HeaderMap, extensions: &Extensions) -> String {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let forwarded = || {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|v| v.trim().parse::<IpAddr>().ok())
            .next_back()
    };
    let proxied = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local(),
    };
    match peer {
        Some(ip) if proxied(ip) => forwarded().unwrap_or(ip).to_string(),
        Some(ip) => ip.to_string(),
        None => forwarded().map_or_else(|| "unknown".to_string(), |ip| ip.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_after_the_free_failures_up_to_the_maximum() {
        assert_eq!(delay_after(4, 5), Duration::ZERO);
        assert_eq!(delay_after(5, 5), Duration::from_secs(1));
        assert_eq!(delay_after(6, 5), Duration::from_secs(2));
        assert_eq!(delay_after(9, 5), Duration::from_secs(16));
        assert_eq!(delay_after(40, 5), MAX_DELAY);
    }

    #[test]
    fn the_client_is_the_forwarded_address_only_behind_a_local_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        let mut local = Extensions::new();
        local.insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 5000))));
        assert_eq!(client_address(&headers, &local), "203.0.113.7");
        let mut remote = Extensions::new();
        remote.insert(ConnectInfo(SocketAddr::from(([198, 51, 100, 1], 5000))));
        assert_eq!(client_address(&headers, &remote), "198.51.100.1", "a direct client cannot claim another address");
        assert_eq!(client_address(&HeaderMap::new(), &local), "127.0.0.1");
    }
}
