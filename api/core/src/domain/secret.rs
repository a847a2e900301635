//! What the database keeps of a secret a client holds: a refresh token, the token of a
//! password-reset or verification link, a guest cart's id.

use sha2::{Digest, Sha256};

/// SHA-256 in hex. A fast hash is right here (unlike for passwords): each of these
/// secrets has at least 192 random bits, so there is nothing to brute-force, and a leaked
/// database cannot be replayed as the secrets themselves.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_lower_case_hex_of_sha256() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
