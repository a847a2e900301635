//! Credentials: access tokens, refresh tokens and password hashes.

mod password;
mod refresh;
mod tokens;

pub use password::PasswordHasher;
pub use refresh::{DEFAULT_REUSE_GRACE_SECS, RefreshRotation, RefreshToken};
pub use tokens::{ACCESS_TOKEN_TTL_SECS, AccessGrant, AccessTokens, JwtSecret};

use crate::error::AppError;

/// What the account services need to prove identities: token signing, refresh-token
/// rotation and password hashing.
#[derive(Clone)]
pub struct Auth {
    pub tokens: AccessTokens,
    pub refresh: RefreshRotation,
    pub passwords: PasswordHasher,
}

impl Auth {
    /// With the default reuse grace of refresh tokens.
    pub fn new(secret: &JwtSecret) -> Result<Self, AppError> {
        Ok(Self {
            tokens: AccessTokens::new(secret),
            refresh: RefreshRotation::new(secret.as_bytes()),
            passwords: PasswordHasher::new()?,
        })
    }

    /// How long a just-rotated refresh token still gets its successor back; zero makes
    /// every second use a reuse.
    pub fn with_refresh_reuse_grace(mut self, grace: chrono::Duration) -> Self {
        self.refresh.reuse_grace = grace;
        self
    }
}
