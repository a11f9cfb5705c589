//! Accounts and access: users with argon2id passwords, server-side sessions in an HttpOnly
//! cookie, upload API keys, login throttling, and the one middleware ([`guard`]) that applies the
//! route table in [`policy`] and the CSRF check to every `/api` request.

pub mod api_keys;
pub mod guard;
pub mod password;
pub mod policy;
pub mod ratelimit;
pub mod session;
pub mod users;

use axum::{extract::FromRequestParts, http::request::Parts};
use sha2::{Digest, Sha256};
use shared::account::Role;

use crate::error::ApiError;

/// The signed-in user of a request, put there by [`guard`]. Handlers take it as an extractor to
/// know who acts (for `created_by` and the audit log).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub session_id: i64,
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized(SIGN_IN.into()))
    }
}

/// The caller of an API-key route, put there by [`guard`].
#[derive(Debug, Clone)]
pub struct ApiKeyCaller {
    /// The key's name, or `UPLOAD_API_KEY` for the key from the environment.
    pub name: String,
}

pub const SIGN_IN: &str = "Sign in to continue; your session may have expired.";

/// `bytes` random bytes from the operating system, hex-encoded.
pub fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf)
        .map_err(|err| anyhow::anyhow!("no randomness from the OS: {err}"))?;
    Ok(hex::encode(buf))
}

/// How session tokens and API keys are stored: they are random and long, so a fast hash cannot be
/// reversed, and a stolen database copy holds nothing that signs anyone in.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares without returning early, so response times do not reveal how much of a key matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
