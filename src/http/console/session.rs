//! Console sign-in: password check (argon2), sessions, CSRF tokens.
//!
//! Sessions live in memory (a restart signs everyone out) keyed by the SHA-256 of a random 256-bit
//! cookie value, so the table holds no usable cookie. Each session has its own CSRF token, checked
//! in constant time on every form. Cookies are `HttpOnly; SameSite=Strict` (and `Secure` behind
//! https). Password checks run two at a time at most: argon2 is slow on purpose, and a flood of
//! sign-in attempts must not starve the rest of Mimi.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::config::ConsoleSettings;

pub const COOKIE: &str = "mimi_session";
/// The pre-sign-in CSRF cookie (double submit) for the sign-in form.
pub const LOGIN_COOKIE: &str = "mimi_login";
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub csrf: String,
}

struct Entry {
    session: Session,
    expires: Instant,
}

pub struct Sessions {
    table: Mutex<HashMap<[u8; 32], Entry>>,
    ttl: Duration,
    users: HashMap<String, String>,
    checks: Semaphore,
    /// A hash to verify against for unknown users, so their answer takes as long.
    decoy: String,
}

impl Sessions {
    pub fn new(settings: &ConsoleSettings) -> Self {
        let users = settings
            .users
            .iter()
            .filter_map(|u| u.password_hash.as_ref().map(|h| (u.name.clone(), h.expose().to_string())))
            .collect();
        Sessions {
            table: Mutex::new(HashMap::new()),
            ttl: Duration::from_secs(settings.session_hours * 3600),
            users,
            checks: Semaphore::new(2),
            decoy: hash_password(&random_token()).expect("hashing a random password"),
        }
    }

    /// Checks a password; the same work whether or not the user exists.
    pub async fn check_password(&self, user: &str, password: &str) -> bool {
        let _permit = self.checks.acquire().await.expect("never closed");
        let (hash, known) = match self.users.get(user) {
            Some(h) => (h.clone(), true),
            None => (self.decoy.clone(), false),
        };
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password)).await.unwrap_or(false);
        ok && known
    }

    /// A new session for `user`; returns the cookie value.
    pub fn create(&self, user: &str) -> (String, Session) {
        let token = random_token();
        let session = Session { user: user.to_string(), csrf: random_token() };
        let mut table = self.table.lock().expect("sessions lock");
        let now = Instant::now();
        table.retain(|_, e| e.expires > now);
        if table.len() >= MAX_SESSIONS
            && let Some(oldest) = table.iter().min_by_key(|(_, e)| e.expires).map(|(k, _)| *k)
        {
            table.remove(&oldest);
        }
        table.insert(key(&token), Entry { session: session.clone(), expires: now + self.ttl });
        (token, session)
    }

    pub fn get(&self, token: &str) -> Option<Session> {
        let mut table = self.table.lock().expect("sessions lock");
        let k = key(token);
        match table.get(&k) {
            Some(e) if e.expires > Instant::now() => Some(e.session.clone()),
            Some(_) => {
                table.remove(&k);
                None
            }
            None => None,
        }
    }

    pub fn remove(&self, token: &str) {
        self.table.lock().expect("sessions lock").remove(&key(token));
    }
}

fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// 256 random bits, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Constant-time comparison of a submitted token with the expected one.
pub fn same_token(submitted: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(submitted.as_bytes().ct_eq(expected.as_bytes()))
}

/// An argon2id PHC hash of `password` with a random salt (`mimi console hash-password`).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value; `max_age` 0 deletes it.
pub fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConsoleUser, Secret};

    fn sessions() -> Sessions {
        let hash = hash_password("correct horse").unwrap();
        let settings = ConsoleSettings {
            users: vec![ConsoleUser {
                name: "alice".into(),
                password_hash: Some(Secret::new(hash)),
                password_hash_file: None,
            }],
            ..ConsoleSettings::default()
        };
        Sessions::new(&settings)
    }

    #[tokio::test]
    async fn passwords_are_checked_and_unknown_users_fail() {
        let s = sessions();
        assert!(s.check_password("alice", "correct horse").await);
        assert!(!s.check_password("alice", "wrong").await);
        assert!(!s.check_password("mallory", "correct horse").await);
        assert!(!s.check_password("alice", "").await);
    }

    #[test]
    fn sessions_are_found_by_their_cookie_only_and_end_on_sign_out() {
        let s = sessions();
        let (token, session) = s.create("alice");
        assert_eq!(s.get(&token), Some(session.clone()));
        assert_eq!(s.get(&random_token()), None);
        assert_ne!(session.csrf, token);
        s.remove(&token);
        assert_eq!(s.get(&token), None);
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abd", "abc"));
        assert!(!same_token("", ""));
        assert!(!same_token("ab", "abc"));
    }

    #[test]
    fn cookies_are_read_from_any_cookie_header() {
        let mut h = axum::http::HeaderMap::new();
        h.append("cookie", "a=1; mimi_session=xyz".parse().unwrap());
        h.append("cookie", "b=2".parse().unwrap());
        assert_eq!(cookie(&h, COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
