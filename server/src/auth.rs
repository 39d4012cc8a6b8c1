//! Bearer JWTs: HS256 with a shared secret, or RS256/ES256 with a public key (PEM); `exp`
//! enforced, issuer and audience checked when configured. `sub` is the user id, `email` the
//! address. Development mode mints HS256 tokens with a generated secret.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub email: String,
    pub exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Platform administrators may read the onboarding analytics.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub platform_admin: bool,
}

/// How tokens are checked (and, with a secret, minted).
#[derive(Clone)]
pub struct Keys {
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    validation: Validation,
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
        validation.set_required_spec_claims(&["exp", "sub"]);
        if let Some(iss) = issuer {
            validation.set_issuer(&[iss]);
        }
        match audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Keys {
            decoding,
            encoding,
            validation,
        }
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
        let exp = u64::try_from(crate::now_ms() / 1000).unwrap_or(0) + ttl_secs;
        let claims = Claims {
            sub: sub.to_owned(),
            email: email.to_owned(),
            exp,
            iss: None,
            aud: None,
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
        let token = value.strip_prefix("Bearer ").ok_or_else(|| {
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
