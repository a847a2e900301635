use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Access tokens live 15 minutes; a refresh token renews them.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;
const ISSUER: &str = "shop";
const AUDIENCE: &str = "shop-api";
const TOKEN_TYPE: &str = "access";
const LEEWAY_SECS: u64 = 5;

/// The HMAC key that signs access tokens: at least 32 bytes, never printed.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    pub const MIN_LEN: usize = 32;

    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            raw.len() >= Self::MIN_LEN,
            "SHOP_JWT_SECRET must be at least {} bytes long (it is {})",
            Self::MIN_LEN,
            raw.len()
        );
        Ok(Self(raw.as_bytes().to_vec()))
    }

    pub fn random() -> Self {
        Self(rand::random::<[u8; 32]>().to_vec())
    }

    /// For keys derived from this secret (refresh-token successors), within `auth` only.
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    iat: i64,
    exp: i64,
    typ: String,
    /// The session (login) the token was issued for: its refresh-token family. Tokens
    /// issued before this claim existed lack it; they expire within the TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

/// What a valid access token says: whose it is, which session issued it, and until when
/// it is good. A connection that outlives a request (a WebSocket) keeps it, to notice when
/// the token expires or its session is revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessGrant {
    pub user_id: i32,
    /// The refresh-token family of the login behind the token, if the token names it.
    pub session: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Issues and verifies access tokens: HS256 only, with issuer, audience, subject, expiry,
/// issue time and a token type that must be "access".
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl AccessTokens {
    pub fn new(secret: &JwtSecret) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(&secret.0),
            decoding: DecodingKey::from_secret(&secret.0),
            validation,
        }
    }

    /// An access token for `user_id`, tied to the session (refresh-token family) `session`
    /// so that long-lived connections can tell when that session is revoked.
    pub fn issue(&self, user_id: i32, session: &str) -> Result<String, AppError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.to_string(),
            iat: now,
            exp: now + ACCESS_TOKEN_TTL_SECS,
            typ: TOKEN_TYPE.into(),
            sid: Some(session.to_owned()),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(AppError::internal)
    }

    /// The user id a valid access token names.
    pub fn verify(&self, token: &str) -> Result<i32, AppError> {
        Ok(self.grant(token)?.user_id)
    }

    /// Everything a valid access token grants.
    pub fn grant(&self, token: &str) -> Result<AccessGrant, AppError> {
        let invalid = || AppError::Unauthenticated("the access token is invalid or has expired");
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| invalid())?
            .claims;
        let issued_in_future = claims.iat > Utc::now().timestamp() + LEEWAY_SECS as i64;
        if claims.typ != TOKEN_TYPE || issued_in_future {
            return Err(invalid());
        }
        Ok(AccessGrant {
            user_id: claims.sub.parse().map_err(|_| invalid())?,
            session: claims.sid,
            expires_at: DateTime::from_timestamp(claims.exp, 0).ok_or_else(invalid)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> AccessTokens {
        AccessTokens::new(&JwtSecret::parse(&"k".repeat(32)).expect("long enough"))
    }

    #[test]
    fn a_secret_shorter_than_32_bytes_is_refused() {
        assert!(JwtSecret::parse(&"k".repeat(31)).is_err());
    }

    #[test]
    fn an_issued_token_verifies_to_its_user() {
        let tokens = tokens();
        let token = tokens.issue(7, "session").expect("issued");
        assert_eq!(tokens.verify(&token).ok(), Some(7));
    }

    #[test]
    fn an_issued_token_grants_its_session_until_its_expiry() {
        let tokens = tokens();
        let before = Utc::now().timestamp();
        let grant = tokens.grant(&tokens.issue(7, "family").expect("issued"));
        let grant = grant.expect("valid");
        assert_eq!(grant.session.as_deref(), Some("family"));
        let lifetime = grant.expires_at.timestamp() - before;
        assert!((ACCESS_TOKEN_TTL_SECS..=ACCESS_TOKEN_TTL_SECS + 1).contains(&lifetime));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = AccessTokens::new(&JwtSecret::parse(&"x".repeat(32)).expect("long"));
        let token = other.issue(7, "session").expect("issued");
        assert!(tokens().verify(&token).is_err());
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let tokens = tokens();
        let token = tokens.issue(7, "session").expect("issued");
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1].insert(3, 'A');
        assert!(tokens.verify(&parts.join(".")).is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::strategies::any_text;

    fn tokens() -> AccessTokens {
        AccessTokens::new(&JwtSecret::parse(&"k".repeat(32)).expect("long enough"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_text_as_a_bearer_token_is_refused_without_panicking(
            raw in prop_oneof![any_text(), "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,43}"],
        ) {
            prop_assert!(tokens().verify(&raw).is_err());
        }

        #[test]
        fn an_issued_token_verifies_to_its_user(user_id in any::<i32>()) {
            let tokens = tokens();
            let token = tokens.issue(user_id, "session").expect("issued");
            prop_assert_eq!(tokens.verify(&token).ok(), Some(user_id));
        }

        #[test]
        fn any_single_character_change_to_a_token_is_refused(
            user_id in any::<i32>(),
            at in any::<prop::sample::Index>(),
            new_char in prop_oneof![prop::char::range('A', 'Z'), prop::char::range('a', 'z'), Just('-'), Just('.'), Just('=')],
        ) {
            let tokens = tokens();
            let token = tokens.issue(user_id, "session").expect("issued");
            let mut chars: Vec<char> = token.chars().collect();
            let i = at.index(chars.len());
            prop_assume!(chars[i] != new_char);
            chars[i] = new_char;
            let changed: String = chars.into_iter().collect();
            prop_assert!(tokens.verify(&changed).is_err(), "{changed} was accepted");
        }
    }
}
