use std::{
    panic::{self, AssertUnwindSafe},
    sync::{Arc, Mutex, mpsc},
    thread,
};

use argon2::{
    Argon2, PasswordHash, PasswordVerifier,
    password_hash::{PasswordHasher as _, SaltString, rand_core::OsRng},
};
use tokio::sync::oneshot;

use crate::{domain::Password, error::AppError};

/// Hashes and verifies passwords with argon2id at OWASP's parameters (19 MiB, t=2, p=1).
///
/// Hashing costs tens of milliseconds of CPU and 19 MiB of memory, so it runs on threads of
/// its own, never on the async workers, and on half the cores (at least one): a login
/// storm then queues for its hashes while the other cores keep serving every other
/// request. Few long-lived threads also keep memory flat: on tokio's blocking pool each
/// hash could land on another thread, and the allocator would keep a freed 19 MiB block
/// in the arena of every thread that ever hashed.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: mpsc::Sender<Job>,
    /// Verified against when the account does not exist, so an unknown user costs as
    /// much as a wrong password and timing reveals nothing.
    dummy_hash: Arc<str>,
}

type Job = Box<dyn FnOnce() + Send>;

impl PasswordHasher {
    pub fn new() -> Result<Self, AppError> {
        let cores = thread::available_parallelism().map_or(2, |n| n.get());
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..(cores / 2).max(1) {
            let queue = queue.clone();
            thread::Builder::new()
                .name(format!("shop-argon2-{n}"))
                .spawn(move || run_jobs(&queue))
                .map_err(AppError::internal)?;
        }
        let dummy_hash = hash_blocking(&rand::random::<u64>().to_string())?;
        Ok(Self {
            jobs,
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: &Password) -> Result<String, AppError> {
        let password = password.expose().to_owned();
        self.run(move || hash_blocking(&password)).await?
    }

    /// Whether `password` matches `hash`; with no hash (no such account), does the same work
    /// against a dummy and answers false.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, AppError> {
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);
        let password = password.to_owned();
        let matches = self
            .run(move || {
                let parsed = PasswordHash::new(&hash)
                    .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
                Ok::<_, AppError>(
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok(),
                )
            })
            .await??;
        Ok(known && matches)
    }

    /// Runs `work` on a hashing thread, in turn with the work queued before it.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller may have gone (a dropped request); the answer then goes nowhere.
            let _ = answer.send(work());
        });
        let failed = || AppError::internal(anyhow::anyhow!("password hashing failed"));
        self.jobs.send(job).map_err(|_| failed())?;
        answered.await.map_err(|_| failed())
    }
}

/// A hashing thread: runs jobs until every `PasswordHasher` handle is gone. A job that
/// panics fails its own request only; the thread goes on with the next.
fn run_jobs(queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let job = {
            let queue = queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            queue.recv()
        };
        match job {
            Ok(job) => {
                let _ = panic::catch_unwind(AssertUnwindSafe(job));
            }
            Err(mpsc::RecvError) => return,
        }
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
