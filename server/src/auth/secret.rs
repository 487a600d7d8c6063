//! Passwords (argon2id) and random secrets (session ids, API tokens; stored as SHA-256).
//!
//! Hashing and checking a password take 19 MiB and a core each: at most
//! [`hashing_permits`] run at once (off the async workers), the others wait their turn,
//! so a burst of sign-ins cannot take gigabytes.

use std::sync::OnceLock;
use std::time::Duration;

use app::error::AppError;
use tokio::sync::Semaphore;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, 2 passes, 1 lane —
/// OWASP's recommendation). CPU-heavy: call from `spawn_blocking`.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks a password against a stored hash. With no stored hash (unknown user) it
/// checks against a dummy hash, so both cases take the same time, and fails.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (dummy_hash(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && real
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password("portico-dummy-password-for-timing").unwrap_or_else(|_| {
            // A valid PHC string with the default parameters, should hashing fail.
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
             bVGGTq0UcO1uKhNgQ4U2mC4o8zR7Xb7b3o0SVMaUpCQ"
                .into()
        })
    })
}

/// How many argon2 computations run at once: the machine's cores, 2 to 4.
pub fn hashing_permits() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 4)
}

/// How long a password check waits for its turn before the caller is told to retry.
const HASHING_WAIT: Duration = Duration::from_secs(10);

fn hashing() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| Semaphore::new(hashing_permits()))
}

#[cfg(test)]
static IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
#[cfg(test)]
static PEAK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs `work` (argon2) on a blocking thread once a hashing permit is free.
async fn bounded<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let permit = match tokio::time::timeout(HASHING_WAIT, hashing().acquire()).await {
        Ok(Ok(p)) => p,
        Ok(Err(_)) => return Err(AppError::internal()),
        Err(_) => {
            return Err(AppError::TooManyRequests {
                message: "Portico is busy checking other passwords; try again in a few seconds."
                    .into(),
                retry_after: 5,
            })
        }
    };
    let out = tokio::task::spawn_blocking(move || {
        #[cfg(test)]
        {
            use std::sync::atomic::Ordering;
            let now = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        let out = work();
        #[cfg(test)]
        IN_FLIGHT.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        out
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing task failed");
        AppError::internal()
    });
    drop(permit);
    out
}

/// [`hash_password`] off the async workers, under the hashing permits.
pub async fn hash_password_bounded(password: String) -> Result<String, AppError> {
    bounded(move || hash_password(&password))
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::internal()
        })
}

/// [`verify_password`] off the async workers, under the hashing permits.
pub async fn verify_password_bounded(
    password: String,
    stored: Option<String>,
) -> Result<bool, AppError> {
    bounded(move || verify_password(&password, stored.as_deref())).await
}

/// 32 random bytes, URL-safe base64 without padding (43 characters).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The hex SHA-256 of a secret: what the database stores for sessions and tokens.
pub fn sha256_hex(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// API tokens start with this, so they are recognisable (and scannable in leaks).
pub const TOKEN_PREFIX: &str = "pt_";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip_and_unknown_user_fails() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(&h)));
        assert!(!verify_password("wrong horse battery", Some(&h)));
        assert!(!verify_password("portico-dummy-password-for-timing", None));
        assert!(!verify_password("x", Some("not a hash")));
    }

    /// A burst of password checks runs at most `hashing_permits()` at a time.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_burst_of_password_checks_waits_for_permits() {
        let stored = hash_password("correct horse battery").unwrap();
        let checks: Vec<_> = (0..12)
            .map(|i| {
                let stored = stored.clone();
                tokio::spawn(verify_password_bounded(
                    format!("wrong password {i}"),
                    Some(stored),
                ))
            })
            .collect();
        for c in checks {
            assert!(!c.await.unwrap().unwrap());
        }
        let peak = PEAK.load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            (1..=hashing_permits()).contains(&peak),
            "{peak} argon2 computations ran at once"
        );
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(sha256_hex("abc").len(), 64);
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
