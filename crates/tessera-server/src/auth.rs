//! Who is calling, and the secrets that prove it.
//!
//! - **API tokens**: `Authorization: Bearer tsk_<64 hex>`; 256 random bits, stored as SHA-256.
//!   (A fast hash is enough for a high-entropy token; argon2 is for guessable passwords.)
//! - **Sessions**: cookie `tessera_session` (HttpOnly, SameSite=Lax, Secure when the public URL
//!   is https), stored as SHA-256. Every cookie-authenticated request that changes something
//!   must carry the session's CSRF token (synchronizer token) in `x-csrf-token` or, for HTML
//!   forms, a `csrf_token` field; bearer requests need none (a browser never adds them itself).
//! - **Passwords**: argon2id (default parameters, 19 MiB, t=2) in `spawn_blocking`.
//!
//! [`Auth`] and [`MaybeAuth`] are the extractors; [`Caller`] has the access checks handlers use.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use sha2::{Digest, Sha256};
use tessera_core::account::Role;
use tessera_store::auth::Principal;

use crate::error::AppError;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tessera_session";
/// The header carrying the CSRF token on cookie-authenticated changes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Prefix of personal API tokens (lets secret scanners recognise them).
pub const API_TOKEN_PREFIX: &str = "tsk_";

/// A fresh 256-bit secret as lowercase hex, with `prefix`.
pub fn new_secret(prefix: &str) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Internal(format!("no randomness: {e}").into()))?;
    Ok(format!("{prefix}{}", hex::encode(bytes)))
}

/// SHA-256 of a secret, hex: what the database stores.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Hashes a password with argon2id off the async workers.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let mut salt_bytes = [0u8; 16];
        getrandom::fill(&mut salt_bytes)
            .map_err(|e| AppError::Internal(format!("no randomness: {e}").into()))?;
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| AppError::Internal(format!("salt: {e}").into()))?;
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("argon2: {e}").into()))
    })
    .await
    .map_err(AppError::internal)?
}

/// A valid argon2id hash of a random password, checked when the e-mail is unknown so that a
/// login for a missing account takes as long as one with a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Zx1oC0tJQwlPqnSvCTuGPL6DWd2V1FC0jpvpSoEnU1E";

/// Checks a password against a stored hash (or the dummy) off the async workers.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| AppError::Internal(format!("stored hash: {e}").into()))?;
        let ok = argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && ok)
    })
    .await
    .map_err(AppError::internal)?
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of cookie `name`, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` value for a session.
pub fn session_cookie(secret: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// An authenticated caller and what they may do.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// The caller's user id.
    pub fn user_id(&self) -> &str {
        &self.0.user_id
    }

    /// Whether the caller runs the whole platform.
    pub fn is_platform_admin(&self) -> bool {
        self.0.is_platform_admin
    }

    /// The caller's roles in one organisation.
    pub fn roles_in<'a>(&'a self, org_id: &'a str) -> impl Iterator<Item = Role> + 'a {
        self.0
            .roles
            .iter()
            .filter(move |(o, _)| o == org_id)
            .map(|(_, r)| *r)
    }

    /// Whether the caller may see the organisation's things at all (any role, or platform admin).
    pub fn can_see(&self, org_id: &str) -> bool {
        self.is_platform_admin() || self.roles_in(org_id).next().is_some()
    }

    /// Passes if the caller may see the organisation; otherwise not-found, so that outsiders
    /// do not learn what exists.
    pub fn require_member(&self, org_id: &str) -> Result<(), AppError> {
        if self.can_see(org_id) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// Passes if the caller holds a role satisfying `allowed` in the organisation (platform
    /// admins always pass); members without it get 403, outsiders 404.
    pub fn require_role(
        &self,
        org_id: &str,
        allowed: impl Fn(Role) -> bool,
    ) -> Result<(), AppError> {
        self.require_member(org_id)?;
        if self.is_platform_admin() || self.roles_in(org_id).any(allowed) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// Extractor: the caller must be authenticated (401 otherwise).
#[derive(Debug, Clone)]
pub struct Auth(pub Caller);

/// Extractor: the caller, if authenticated.
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let now = state.clock.now();
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| t.starts_with(API_TOKEN_PREFIX))
                .ok_or(AppError::Unauthenticated)?;
            let principal = state
                .store
                .principal_by_api_token(&hash_secret(token), now)
                .await?
                .ok_or(AppError::Unauthenticated)?;
            return Ok(Self(Some(Caller(principal))));
        }
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE).filter(|s| !s.is_empty()) else {
            return Ok(Self(None));
        };
        let Some(principal) = state
            .store
            .principal_by_session(&hash_secret(secret), now)
            .await?
        else {
            return Ok(Self(None));
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            // Forms carry the token in their body; they are checked by the form handler, which
            // marks the request with `FormCsrf` before this runs. JSON callers send the header.
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            let expected = principal.csrf_token.as_deref().unwrap_or("");
            let form_checked = parts.extensions.get::<FormCsrfChecked>().is_some();
            if !form_checked && !sent.is_some_and(|s| constant_time_eq(s, expected)) {
                return Err(AppError::CsrfFailed);
            }
        }
        Ok(Self(Some(Caller(principal))))
    }
}

/// Set on a request whose form body carried the right CSRF token.
#[derive(Debug, Clone, Copy)]
pub struct FormCsrfChecked;

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match MaybeAuth::from_request_parts(parts, state).await? {
            MaybeAuth(Some(caller)) => Ok(Self(caller)),
            MaybeAuth(None) => Err(AppError::Unauthenticated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; tessera_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn session_cookies_are_httponly_lax_and_secure_only_on_https() {
        let c = session_cookie("s", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(!session_cookie("s", 60, false).contains("Secure"));
    }

    #[test]
    fn secrets_are_random_and_hashes_are_stable() {
        let a = new_secret("tsk_").unwrap();
        let b = new_secret("tsk_").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert_eq!(hash_secret("x"), hash_secret("x"));
        assert_ne!(hash_secret(&a), a);
    }

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong".into(), Some(h)).await.unwrap());
        assert!(!verify_password("anything".into(), None).await.unwrap());
    }
}
