//! Short-lived HS256 access tokens and opaque rotating refresh tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Issuer claim of every access token.
pub const ISSUER: &str = "griddispatch";

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Session id.
    pub sid: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Signature fine, but past its expiry.
    Expired,
    /// Anything else: bad signature, wrong algorithm (including `none`), malformed.
    Invalid,
}

/// Signing and verification keys plus lifetimes.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Key of the refresh-token chain (see [`TokenKeys::successor`]), derived from the secret.
    chain_key: [u8; 32],
    /// Access-token lifetime.
    pub access_ttl: Duration,
    /// Refresh-token lifetime.
    pub refresh_ttl: Duration,
}

impl TokenKeys {
    /// Keys from a shared secret.
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Self {
        // Only HS256 is accepted: a token that names another algorithm (or `none`) fails.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            chain_key: Sha256::new()
                .chain_update(b"griddispatch refresh-token chain\0")
                .chain_update(secret)
                .finalize()
                .into(),
            access_ttl,
            refresh_ttl,
        }
    }

    /// Sign an access token for a session.
    pub fn issue(
        &self,
        user_id: &str,
        session_id: &str,
        now: NaiveDateTime,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = now.and_utc().timestamp();
        let claims = Claims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            iat,
            exp: iat + self.access_ttl.num_seconds(),
            iss: ISSUER.to_owned(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Check signature, algorithm, issuer and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

/// How far back [`TokenKeys::chain_steps`] looks: a client refreshing every 15 minutes for 30
/// days rotates 2880 times; a replayed token older than this is refused without revoking.
pub const MAX_CHAIN_STEPS: u32 = 4096;

impl TokenKeys {
    /// The refresh token that replaces `token` in its session: `<session id>.<SHA-256 of the
    /// chain key and the token, base64url>`. Deterministic, so that presenting the previous
    /// token again (its answer was lost) yields the same successor without storing any token,
    /// and a token's place in the chain can be recognised later. Only the server can compute
    /// it (the key is secret); knowing a successor reveals nothing about the next one. A plain
    /// keyed hash suffices: length extension would only give successors of tokens no session
    /// ever issued.
    pub fn successor(&self, session_id: &str, token: &str) -> String {
        let digest = Sha256::new()
            .chain_update(self.chain_key)
            .chain_update(token.as_bytes())
            .finalize();
        format!("{session_id}.{}", URL_SAFE_NO_PAD.encode(digest))
    }

    /// How many rotations ago `token` was replaced in the chain whose current token hashes
    /// to `current_hash` (1: the immediately previous token); `None` if it is not part of it.
    pub fn chain_steps(&self, session_id: &str, token: &str, current_hash: &str) -> Option<u32> {
        let mut t = token.to_owned();
        for step in 1..=MAX_CHAIN_STEPS {
            t = self.successor(session_id, &t);
            if hash_refresh_token(&t) == current_hash {
                return Some(step);
            }
        }
        None
    }
}

/// A new refresh token `<session id>.<32 random bytes, base64url>`; the session id lets the
/// server find the row, the random part is what proves possession.
pub fn new_refresh_token(session_id: &str) -> String {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    format!("{session_id}.{}", URL_SAFE_NO_PAD.encode(secret))
}

/// The session id a refresh token names, if it is well-formed.
pub fn refresh_token_session(token: &str) -> Option<&str> {
    let (sid, secret) = token.split_once('.')?;
    (!sid.is_empty() && secret.len() >= 40).then_some(sid)
}

/// SHA-256 (hex) of a refresh token, as stored.
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random secret for signing, when none is configured.
pub fn generate_secret() -> String {
    let mut secret = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut secret);
    URL_SAFE_NO_PAD.encode(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::minutes(15),
            Duration::days(30),
        )
    }

    fn now() -> NaiveDateTime {
        chrono::Utc::now().naive_utc()
    }

    #[test]
    fn an_issued_token_verifies_and_carries_the_session() {
        let k = keys();
        let t = k.issue("u1", "s1", now()).unwrap();
        let c = k.verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.sid.as_str()), ("u1", "s1"));
    }

    #[test]
    fn an_old_token_is_expired() {
        let k = keys();
        let t = k.issue("u1", "s1", now() - Duration::hours(1)).unwrap();
        assert_eq!(k.verify(&t).unwrap_err(), TokenError::Expired);
    }

    #[test]
    fn a_token_signed_with_another_secret_is_invalid() {
        let other = TokenKeys::new(
            b"another-secret-another-secret-xx",
            Duration::minutes(15),
            Duration::days(1),
        );
        let t = other.issue("u1", "s1", now()).unwrap();
        assert_eq!(keys().verify(&t).unwrap_err(), TokenError::Invalid);
    }

    #[test]
    fn successors_are_keyed_and_their_chain_is_recognised() {
        let k = keys();
        let t0 = new_refresh_token("s1");
        let t1 = k.successor("s1", &t0);
        let t2 = k.successor("s1", &t1);
        assert_eq!(refresh_token_session(&t1), Some("s1"));
        assert_eq!(k.successor("s1", &t0), t1, "deterministic");
        let other = TokenKeys::new(
            b"another-secret-another-secret-xx",
            Duration::minutes(15),
            Duration::days(1),
        );
        assert_ne!(other.successor("s1", &t0), t1, "keyed by the secret");
        let current = hash_refresh_token(&t2);
        assert_eq!(k.chain_steps("s1", &t1, &current), Some(1));
        assert_eq!(k.chain_steps("s1", &t0, &current), Some(2));
        assert_eq!(
            k.chain_steps("s1", &new_refresh_token("s1"), &current),
            None
        );
    }

    #[test]
    fn refresh_tokens_name_their_session_and_hash_stably() {
        let t = new_refresh_token("sess-1");
        assert_eq!(refresh_token_session(&t), Some("sess-1"));
        assert_eq!(hash_refresh_token(&t), hash_refresh_token(&t));
        assert_ne!(new_refresh_token("sess-1"), t);
        assert_eq!(refresh_token_session("garbage"), None);
    }
}
