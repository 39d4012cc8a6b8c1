//! Bearer JWTs, from one of three key sources: HS256 with a shared secret, RS256/ES256 with a
//! public key (PEM), or an identity provider's JWKS document (`AUTH_JWKS_URL`, `crate::jwks`:
//! the token's `kid` picks the key, and the token's `alg` must be that key's). `exp` and `nbf`
//! are enforced; with an issuer or audience configured the claim is required and must match
//! (`aud` a string or an array, RFC 7519 §4.1.3). `sub` is the user id; the e-mail address is
//! read from `AUTH_EMAIL_CLAIM` (default `email`) and may be absent. Development mode mints
//! HS256 tokens with a secret of its own, under the issuer [`DEV_ISSUER`], so they are never
//! valid on a server that is not in development mode.

use crate::error::ApiError;
use crate::jwks::Jwks;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// The issuer of development-mode tokens.
pub const DEV_ISSUER: &str = "onboarding-dev";

/// The claims the server reads. `iss`, `aud` and `nbf` are checked by `jsonwebtoken` from the
/// raw claims (so `aud` may be a string or an array), not read here.
#[derive(Clone, Debug, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// From the configured e-mail claim; `None` when the token has none.
    #[serde(default)]
    pub email: Option<String>,
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

enum Source {
    /// A secret (HS256, which can also mint) or one public key.
    Static {
        decoding: DecodingKey,
        encoding: Option<EncodingKey>,
        alg: Algorithm,
    },
    /// An identity provider's keys, by `kid`.
    Jwks(Arc<Jwks>),
}

/// How tokens are checked (and, with a secret, minted).
pub struct Keys {
    source: Source,
    /// One validation per algorithm this source verifies, built once.
    validations: Vec<(Algorithm, Validation)>,
    issuer: Option<String>,
    audience: Option<String>,
    /// The claim holding the user's e-mail address.
    email_claim: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let algorithms: Vec<Algorithm> = self.validations.iter().map(|(a, _)| *a).collect();
        f.debug_struct("Keys")
            .field("algorithms", &algorithms)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Keys {
    pub fn hs256(secret: &[u8], issuer: Option<&str>, audience: Option<&str>) -> Keys {
        Keys::with(
            Source::Static {
                decoding: DecodingKey::from_secret(secret),
                encoding: Some(EncodingKey::from_secret(secret)),
                alg: Algorithm::HS256,
            },
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
        let (decoding, alg) = match DecodingKey::from_rsa_pem(pem.as_bytes()) {
            Ok(k) => (k, Algorithm::RS256),
            Err(_) => DecodingKey::from_ec_pem(pem.as_bytes())
                .map(|k| (k, Algorithm::ES256))
                .map_err(|e| {
                    format!(
                        "AUTH_JWT_PUBLIC_KEY is neither an RSA nor an EC public key in PEM: {e}"
                    )
                })?,
        };
        let source = Source::Static {
            decoding,
            encoding: None,
            alg,
        };
        Ok(Keys::with(source, issuer, audience))
    }

    /// The keys of an identity provider's JWKS document; call [`Keys::start`] once a runtime
    /// runs, to fetch them.
    pub fn jwks(
        url: &str,
        issuer: Option<&str>,
        audience: Option<&str>,
        min_refresh: std::time::Duration,
    ) -> Result<Keys, String> {
        let jwks = Arc::new(Jwks::new(url, min_refresh)?);
        Ok(Keys::with(Source::Jwks(jwks), issuer, audience))
    }

    /// Reads the user's e-mail address from `claim` instead of `email`.
    pub fn with_email_claim(mut self, claim: &str) -> Keys {
        claim.clone_into(&mut self.email_claim);
        self
    }

    /// Starts fetching a JWKS document (nothing for the other sources).
    pub fn start(&self) {
        if let Source::Jwks(jwks) = &self.source {
            jwks.start();
        }
    }

    fn with(source: Source, issuer: Option<&str>, audience: Option<&str>) -> Keys {
        let algorithms: &[Algorithm] = match &source {
            Source::Static { alg, .. } => &[*alg],
            Source::Jwks(_) => &[Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA],
        };
        let validations = algorithms
            .iter()
            .map(|alg| (*alg, validation(*alg, issuer, audience)))
            .collect();
        Keys {
            source,
            validations,
            issuer: issuer.map(str::to_owned),
            audience: audience.map(str::to_owned),
            email_claim: "email".to_owned(),
        }
    }

    /// Development mode's keys: a fresh random secret (whatever `AUTH_JWT_SECRET` says, so a dev
    /// server never mints tokens a real deployment accepts) and the issuer [`DEV_ISSUER`].
    pub fn dev() -> Keys {
        let secret: [u8; 32] = rand::random();
        Keys::hs256(hex::encode(secret).as_bytes(), Some(DEV_ISSUER), None)
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let invalid = |why: String| ApiError::Unauthorized(format!("invalid token: {why}"));
        let jwks_key;
        let (key, alg) = match &self.source {
            Source::Static { decoding, alg, .. } => (decoding, *alg),
            Source::Jwks(jwks) => {
                let header =
                    jsonwebtoken::decode_header(token).map_err(|e| invalid(e.to_string()))?;
                let kid = header
                    .kid
                    .ok_or_else(|| invalid("no `kid` in its header".into()))?;
                jwks_key = jwks
                    .key(&kid)
                    .await
                    .ok_or_else(|| invalid(format!("unknown signing key {kid:?}")))?;
                if header.alg != jwks_key.1 {
                    return Err(invalid(format!(
                        "{:?} is not the algorithm of key {kid:?}",
                        header.alg
                    )));
                }
                (&*jwks_key.0, jwks_key.1)
            }
        };
        let validation = self
            .validations
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, v)| v)
            .ok_or_else(|| invalid(format!("{alg:?} is not accepted")))?;
        if self.email_claim == "email" {
            return jsonwebtoken::decode::<Claims>(token, key, validation)
                .map(|d| d.claims)
                .map_err(|e| invalid(e.to_string()));
        }
        let claims = jsonwebtoken::decode::<Value>(token, key, validation)
            .map_err(|e| invalid(e.to_string()))?
            .claims;
        Ok(Claims {
            sub: claims["sub"].as_str().unwrap_or_default().to_owned(),
            email: claims[self.email_claim.as_str()]
                .as_str()
                .map(str::to_owned),
            platform_admin: claims["platform_admin"].as_bool().unwrap_or(false),
        })
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
        let Source::Static {
            encoding: Some(key),
            ..
        } = &self.source
        else {
            return Err("tokens can only be minted with AUTH_JWT_SECRET (HS256)".into());
        };
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

/// The checks of one algorithm: `exp`, `nbf`, and a configured issuer and audience (required,
/// not only compared when present).
fn validation(alg: Algorithm, issuer: Option<&str>, audience: Option<&str>) -> Validation {
    let mut validation = Validation::new(alg);
    validation.leeway = 30;
    validation.validate_nbf = true;
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
    validation
}

/// The authenticated user of a request.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub id: String,
    /// `None` when the token carries no e-mail claim (some identity providers leave it out).
    pub email: Option<String>,
    pub platform_admin: bool,
}

/// Anything holding the keys can authenticate requests.
pub trait HasKeys {
    fn keys(&self) -> &Arc<Keys>;
}

impl AuthUser {
    /// The user a request's `Authorization: Bearer` header names, checked against `keys`.
    pub async fn from_headers(
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
        let claims = keys.verify(token.trim()).await?;
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
        AuthUser::from_headers(&parts.headers, state.keys()).await
    }
}
