use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// A new refresh token: 256 random bits, shown to the client once. The database keeps only
/// its hash, so a leaked database cannot be replayed as sessions.
pub struct RefreshToken {
    pub token: String,
    pub hash: String,
}

impl RefreshToken {
    pub fn generate() -> Self {
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let hash = hash_refresh_token(&token);
        Self { token, hash }
    }
}

/// SHA-256 in hex. A fast hash is right here (unlike for passwords): the token already has
/// 256 bits of entropy, so there is nothing to brute-force.
pub fn hash_refresh_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
