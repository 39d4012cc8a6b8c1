//! Bearer JWTs: HS256 with a shared secret, or RS256/ES256 with a public key (PEM); `exp` and
//! `nbf` enforced; with an issuer or audience configured the claim is required and must match
//! (`aud` a string or an array, RFC 7519 §4.1.3). `sub` is the user id, `email` the address.
//! Development mode mints HS256 tokens with a secret of its own, under the issuer
//! [`DEV_ISSUER`], so they are never valid on a server that is not in development mode.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The issuer of development-mode tokens.
pub const DEV_ISSUER: &str = "onboarding-dev";

/// The claims the server reads. `iss`, `aud` and `nbf` are checked by `jsonwebtoken` from the
/// raw claims (so `aud` may be a string or an array), not read here.
#[derive(Clone, Debug, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub email: String,
    /// Platform administrators may read the onboarding analytics.
    #[serde(default)]
    pub platform_admin: bool,
}

/// The claims of a token this server mints (`token`, development mode).
#[derive(Serialize)]
struct MintedClaims<'a> {
    sub: &'a str,
    email: &'a str,
    iat: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    platform_admin: bool,
}

/// How tokens are checked (and, with a secret, minted).
#[derive(Clone)]
pub struct Keys {
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    validation: Validation,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl Keys {
    pub fn hs256(secret: &[u8], issuer: Option<&str>, audience: Option<&str>) -> Keys {
        Keys::with(
            DecodingKey::from_secret(secret),
            Some(EncodingKey::from_secret(secret)),
            Algorithm::HS256,
            issuer,
            audience,
        )
    }

    /// RS256 or ES256 from a PEM public key (the algorithm follows the key type).
    pub fn public_pem(
        pem: &str,
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Keys, String> {
        if let Ok(k) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
            return Ok(Keys::with(k, None, Algorithm::RS256, issuer, audience));
        }
        DecodingKey::from_ec_pem(pem.as_bytes())
            .map(|k| Keys::with(k, None, Algorithm::ES256, issuer, audience))
            .map_err(|e| {
                format!("AUTH_JWT_PUBLIC_KEY is neither an RSA nor an EC public key in PEM: {e}")
            })
    }

    fn with(
        decoding: DecodingKey,
        encoding: Option<EncodingKey>,
        alg: Algorithm,
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> Keys {
        let mut validation = Validation::new(alg);
        validation.leeway = 30;
        validation.validate_nbf = true;
        // A configured issuer or audience is required, not only compared when present.
        let mut required = vec!["exp", "sub"];
        if let Some(iss) = issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        match audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        Keys {
            decoding,
            encoding,
            validation,
            issuer: issuer.map(str::to_owned),
            audience: audience.map(str::to_owned),
        }
    }

    /// Development mode's keys: a fresh random secret (whatever `AUTH_JWT_SECRET` says, so a dev
    /// server never mints tokens a real deployment accepts) and the issuer [`DEV_ISSUER`].
    pub fn dev() -> Keys {
        let secret: [u8; 32] = rand::random();
        Keys::hs256(hex::encode(secret).as_bytes(), Some(DEV_ISSUER), None)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| ApiError::Unauthorized(format!("invalid token: {e}")))
    }

    /// Mints a token (HS256 keys only) valid for `ttl_secs`.
    pub fn mint(&self, sub: &str, email: &str, ttl_secs: u64) -> Result<String, String> {
        self.mint_with(sub, email, ttl_secs, false)
    }

    /// [`Keys::mint`], optionally with the platform-admin claim.
    pub fn mint_with(
        &self,
        sub: &str,
        email: &str,
        ttl_secs: u64,
        platform_admin: bool,
    ) -> Result<String, String> {
        let key = self
            .encoding
            .as_ref()
            .ok_or("tokens can only be minted with AUTH_JWT_SECRET (HS256)")?;
        let now = u64::try_from(crate::now_ms() / 1000).unwrap_or(0);
        let claims = MintedClaims {
            sub,
            email,
            iat: now,
            exp: now + ttl_secs,
            iss: self.issuer.as_deref(),
            aud: self.audience.as_deref(),
            platform_admin,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, key)
            .map_err(|e| e.to_string())
    }
}

/// The authenticated user of a request.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub id: String,
    pub email: String,
    pub platform_admin: bool,
}

/// Anything holding the keys can authenticate requests.
pub trait HasKeys {
    fn keys(&self) -> &Arc<Keys>;
}

impl AuthUser {
    /// The user a request's `Authorization: Bearer` header names, checked against `keys`.
    pub fn from_headers(
        headers: &axum::http::HeaderMap,
        keys: &Keys,
    ) -> Result<AuthUser, ApiError> {
        let header = headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::Unauthorized("missing Authorization: Bearer <token>".into())
            })?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
        // The scheme is case-insensitive (RFC 9110 §11.1).
        let token = value
            .trim_start()
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .ok_or_else(|| {
                ApiError::Unauthorized("expected Authorization: Bearer <token>".into())
            })?;
        let claims = keys.verify(token.trim())?;
        if claims.sub.is_empty() || claims.sub.len() > 200 {
            return Err(ApiError::Unauthorized(
                "token `sub` must be 1 to 200 characters".into(),
            ));
        }
        if claims.sub.chars().any(char::is_control) {
            return Err(ApiError::Unauthorized(
                "token `sub` must not contain control characters".into(),
            ));
        }
        Ok(AuthUser {
            id: claims.sub,
            email: claims.email,
            platform_admin: claims.platform_admin,
        })
    }
}

impl<S: HasKeys + Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A middleware that already checked the token (the write limits) leaves the user here.
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(user.clone());
        }
        AuthUser::from_headers(&parts.headers, state.keys())
    }
}
