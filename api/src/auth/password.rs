use std::sync::Arc;

use argon2::{
    Argon2, PasswordHash, PasswordVerifier,
    password_hash::{PasswordHasher as _, SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

use crate::{domain::Password, error::AppError};

/// Hashes and verifies passwords with argon2id at OWASP's parameters (19 MiB, t=2, p=1).
///
/// Hashing costs tens of milliseconds of CPU, so it runs on the blocking pool, never on the
/// async workers, and a semaphore bounds how many run at once to half the cores (at least
/// one): a login storm then queues for its hashes while the other cores keep serving every
/// other request, and hashing memory stays at a few times 19 MiB.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Verified against when the account does not exist, so an unknown user costs as
    /// much as a wrong password and timing reveals nothing.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    pub fn new() -> Result<Self, AppError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let concurrency = (cores / 2).max(1);
        let dummy_hash = hash_blocking(&rand::random::<u64>().to_string())?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: &Password) -> Result<String, AppError> {
        let password = password.expose().to_owned();
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
    }

    /// Whether `password` matches `hash`; with no hash (no such account), does the same work
    /// against a dummy and answers false.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, AppError> {
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);
        let password = password.to_owned();
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let matches = tokio::task::spawn_blocking(move || {
            let parsed =
                PasswordHash::new(&hash).map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
            Ok::<_, AppError>(
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await??;
        Ok(known && matches)
    }
}

/// `Argon2::default()` is argon2id with `Params::DEFAULT`, which are OWASP's minimum.
fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::internal(anyhow::anyhow!("argon2: {e}")))
}
