//! Credentials: access tokens, refresh tokens and password hashes.

mod password;
mod refresh;
mod tokens;

pub use password::PasswordHasher;
pub use refresh::{RefreshToken, hash_refresh_token};
pub use tokens::{ACCESS_TOKEN_TTL_SECS, AccessGrant, AccessTokens, JwtSecret};

use crate::error::AppError;

/// What the account services need to prove identities: token signing and password hashing.
#[derive(Clone)]
pub struct Auth {
    pub tokens: AccessTokens,
    pub passwords: PasswordHasher,
}

impl Auth {
    pub fn new(secret: &JwtSecret) -> Result<Self, AppError> {
        Ok(Self {
            tokens: AccessTokens::new(secret),
            passwords: PasswordHasher::new()?,
        })
    }
}
