//! Bearer JWTs, from one of three key sources: HS256 with a shared secret, an RSA or EC public
//! key (PEM), or an identity provider's JWKS document (`AUTH_JWKS_URL`, `crate::jwks`: the
//! token's `kid` picks the key; without one, the few keys of its type are tried). A token's
//! `alg` must be one its key's type verifies ([`KeyType`]: no `none`, no HS256 keyed with a
//! public key), its `typ`, when present, an access token's (RFC 9068). `exp` and `nbf` are
//! enforced; with an issuer or audience configured the claim is required and must match (`aud`
//! a string or an array, RFC 7519 §4.1.3); JWKS mode requires both to be configured.
//!
//! `sub` is the user id; the e-mail address is read from `AUTH_EMAIL_CLAIM` (default `email`)
//! and may be absent; an `email_verified` claim (`AUTH_EMAIL_VERIFIED_CLAIM`) that is not true
//! makes the address untrusted. Platform admins are whom the operator's [`AdminRule`] names.
//! Development mode mints HS256 tokens with a secret of its own, under the issuer
//! [`DEV_ISSUER`], so they are never valid on a server that is not in development mode.
//!
//! The header and claims are read here, the signature checked by `jsonwebtoken::crypto`: the
//! crate's `decode` parses headers with its own `Header`, which refuses RFC 9864's `Ed25519`.

use crate::error::ApiError;
use crate::jwks::{Jwks, JwksSettings, NoKey};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// The issuer of development-mode tokens.
pub const DEV_ISSUER: &str = "onboarding-dev";
/// Seconds of clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: i64 = 30;

/// What a verified token says about its user.
#[derive(Clone, Debug)]
pub struct Claims {
    pub sub: String,
    /// From the configured e-mail claim; `None` when the token has none, or when it says the
    /// address is not verified (`unverified_email` then tells why).
    pub email: Option<String>,
    pub unverified_email: bool,
    /// Granted by the operator's [`AdminRule`], never by a fixed claim.
    pub platform_admin: bool,
}

/// Who may read the platform's admin routes: the tokens whose `claim` holds `value` (a string,
/// a boolean or number written as text, or an array holding it), and the listed subjects.
/// Nobody when neither is configured.
#[derive(Clone, Debug, Default)]
pub struct AdminRule {
    pub claim: Option<(String, String)>,
    pub subjects: Vec<String>,
}

impl AdminRule {
    /// `AUTH_ADMIN_CLAIM` (`name=value`) and `AUTH_ADMIN_SUBJECTS` (comma-separated).
    pub fn parse(claim: Option<&str>, subjects: &str) -> Result<AdminRule, String> {
        let claim = match claim.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let (name, value) = c
                    .split_once('=')
                    .filter(|(n, v)| !n.trim().is_empty() && !v.trim().is_empty())
                    .ok_or_else(|| {
                        format!("AUTH_ADMIN_CLAIM {c:?} must be name=value, e.g. roles=okr-admin")
                    })?;
                Some((name.trim().to_owned(), value.trim().to_owned()))
            }
        };
        let subjects = subjects
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(AdminRule { claim, subjects })
    }

    fn grants(&self, sub: &str, claims: &Value) -> bool {
        if self.subjects.iter().any(|s| s == sub) {
            return true;
        }
        let Some((name, value)) = &self.claim else {
            return false;
        };
        let holds = |v: &Value| match v {
            Value::String(s) => s == value,
            Value::Bool(b) => value == if *b { "true" } else { "false" },
            Value::Number(n) => *value == n.to_string(),
            _ => false,
        };
        match claims.get(name) {
            Some(Value::Array(items)) => items.iter().any(holds),
            Some(v) => holds(v),
            None => false,
        }
    }
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

/// A verification key's type, and the algorithms it verifies (RFC 7518): an RSA key both
/// PKCS#1 v1.5 and PSS at any hash, an EC key the one of its curve, an Ed25519 key EdDSA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Hmac,
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
}

impl KeyType {
    pub fn allows(self, alg: Algorithm) -> bool {
        use Algorithm::*;
        match self {
            KeyType::Hmac => alg == HS256,
            KeyType::Rsa => matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512),
            KeyType::EcP256 => alg == ES256,
            KeyType::EcP384 => alg == ES384,
            KeyType::Ed25519 => alg == EdDSA,
        }
    }
}

enum Source {
    /// A secret (HS256, which can also mint) or one public key.
    Static {
        decoding: DecodingKey,
        encoding: Option<EncodingKey>,
        key_type: KeyType,
    },
    /// An identity provider's keys, by `kid`.
    Jwks(Arc<Jwks>),
}

/// How tokens are checked (and, with a secret, minted).
pub struct Keys {
    source: Source,
    issuer: Option<String>,
    audience: Option<String>,
    /// The claim holding the user's e-mail address, and the one saying whether it is verified.
    email_claim: String,
    email_verified_claim: String,
    admin: AdminRule,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

/// A token's header, read here rather than by `jsonwebtoken` (whose `Header` refuses the
/// RFC 9864 algorithm name `Ed25519`).
#[derive(Deserialize)]
struct TokenHeader {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    /// Extensions the token says must be understood (RFC 7515 §4.1.11): none are.
    crit: Option<Value>,
}

impl Keys {
    pub fn hs256(secret: &[u8], issuer: Option<&str>, audience: Option<&str>) -> Keys {
        Keys::with(
            Source::Static {
                decoding: DecodingKey::from_secret(secret),
                encoding: Some(EncodingKey::from_secret(secret)),
                key_type: KeyType::Hmac,
            },
            issuer,
            audience,
        )
    }

    /// An RSA or EC (P-256) public key in PEM; the token's algorithm must be of the key's type.
    pub fn public_pem(
        pem: &str,
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Keys, String> {
        let (decoding, key_type) = match DecodingKey::from_rsa_pem(pem.as_bytes()) {
            Ok(k) => (k, KeyType::Rsa),
            Err(_) => DecodingKey::from_ec_pem(pem.as_bytes())
                .map(|k| (k, KeyType::EcP256))
                .map_err(|e| {
                    format!(
                        "AUTH_JWT_PUBLIC_KEY is neither an RSA nor an EC public key in PEM: {e}"
                    )
                })?,
        };
        let source = Source::Static {
            decoding,
            encoding: None,
            key_type,
        };
        Ok(Keys::with(source, issuer, audience))
    }

    /// The keys of an identity provider's JWKS document; call [`Keys::start`] once a runtime
    /// runs, to fetch them. The issuer and audience are required (a provider signs tokens for
    /// every application and tenant it serves); [`Keys::jwks_unchecked`] is the development
    /// opt-out.
    pub fn jwks(
        url: &str,
        issuer: &str,
        audience: &str,
        settings: JwksSettings,
    ) -> Result<Keys, String> {
        let jwks = Arc::new(Jwks::new(url, settings)?);
        Ok(Keys::with(Source::Jwks(jwks), Some(issuer), Some(audience)))
    }

    /// JWKS keys with the issuer and audience optional: any token the provider signs, for any
    /// application, is accepted. Development only (`AUTH_JWT_INSECURE_ANY_AUDIENCE`).
    pub fn jwks_unchecked(
        url: &str,
        issuer: Option<&str>,
        audience: Option<&str>,
        settings: JwksSettings,
    ) -> Result<Keys, String> {
        let jwks = Arc::new(Jwks::new(url, settings)?);
        Ok(Keys::with(Source::Jwks(jwks), issuer, audience))
    }

    /// Reads the user's e-mail address from `claim` instead of `email`.
    pub fn with_email_claim(mut self, claim: &str) -> Keys {
        claim.clone_into(&mut self.email_claim);
        self
    }

    /// Reads whether the address is verified from `claim` instead of `email_verified`.
    pub fn with_email_verified_claim(mut self, claim: &str) -> Keys {
        claim.clone_into(&mut self.email_verified_claim);
        self
    }

    /// Who is a platform admin.
    pub fn with_admin(mut self, admin: AdminRule) -> Keys {
        self.admin = admin;
        self
    }

    /// Starts fetching a JWKS document (nothing for the other sources).
    pub fn start(&self) {
        if let Source::Jwks(jwks) = &self.source {
            jwks.start();
        }
    }

    /// For `/readyz`: `None` without a JWKS, else whether its keys are usable.
    pub fn readiness(&self) -> Option<Result<String, String>> {
        match &self.source {
            Source::Jwks(jwks) => Some(jwks.readiness()),
            Source::Static { .. } => None,
        }
    }

    fn with(source: Source, issuer: Option<&str>, audience: Option<&str>) -> Keys {
        Keys {
            source,
            issuer: issuer.map(str::to_owned),
            audience: audience.map(str::to_owned),
            email_claim: "email".to_owned(),
            email_verified_claim: "email_verified".to_owned(),
            admin: AdminRule::default(),
        }
    }

    /// Development mode's keys: a fresh random secret (whatever `AUTH_JWT_SECRET` says, so a dev
    /// server never mints tokens a real deployment accepts), the issuer [`DEV_ISSUER`], and the
    /// `platform_admin: true` claim of its own tokens granting the admin routes.
    pub fn dev() -> Keys {
        let secret: [u8; 32] = rand::random();
        Keys::hs256(hex::encode(secret).as_bytes(), Some(DEV_ISSUER), None).with_admin(AdminRule {
            claim: Some(("platform_admin".into(), "true".into())),
            subjects: Vec::new(),
        })
    }

    /// Checks a token: its header (`alg` of the key's type, `typ` an access token's when
    /// present), its signature, `exp` and `nbf` (30 s of leeway), `sub`, and the configured
    /// issuer and audience (required when configured). Errors say what was wrong in the
    /// product's words, never the JWT library's.
    pub async fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let invalid = |why: &str| ApiError::Unauthorized(format!("invalid token: {why}"));
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid(
                "not a JWT (three base64url parts separated by dots)",
            ));
        };
        let header: TokenHeader = decode_part(header)
            .ok_or_else(|| invalid("its header is not base64url-encoded JSON with an `alg`"))?;
        if header.crit.is_some() {
            return Err(invalid(
                "it lists critical header extensions (`crit`) this server does not support",
            ));
        }
        if let Some(typ) = &header.typ {
            let typ = typ.to_ascii_lowercase();
            if !matches!(typ.as_str(), "jwt" | "at+jwt" | "application/at+jwt") {
                return Err(invalid(
                    "its type (`typ`) is not an access token's (at+jwt or JWT)",
                ));
            }
        }
        let alg = algorithm(&header.alg).ok_or_else(|| {
            invalid("its algorithm is not accepted (RS, PS, ES256, ES384, EdDSA or HS256)")
        })?;
        let message = &token[..header_and_payload_len(token)];
        let signed = match &self.source {
            Source::Static {
                decoding, key_type, ..
            } => {
                if !key_type.allows(alg) {
                    return Err(invalid("its algorithm is not the key's"));
                }
                verify_signature(signature, message, decoding, alg)
            }
            Source::Jwks(jwks) => {
                let keys = jwks
                    .keys_for(header.kid.as_deref(), alg)
                    .await
                    .map_err(|e| match e {
                        NoKey::Unavailable => invalid(
                            "the identity provider's signing keys cannot be fetched; try again later",
                        ),
                        NoKey::UnknownKid(_) => invalid("it names a signing key (`kid`) the identity provider does not publish"),
                        NoKey::KidRequired => invalid("it names no signing key (`kid`)"),
                    })?;
                if header.kid.is_some() && !keys.iter().any(|k| k.verifies(alg)) {
                    return Err(invalid("its algorithm is not its signing key's"));
                }
                keys.iter()
                    .filter(|k| k.verifies(alg))
                    .any(|k| verify_signature(signature, message, &k.decoding, alg))
            }
        };
        if !signed {
            return Err(invalid("its signature does not verify"));
        }
        let claims: Value = decode_part(payload)
            .filter(Value::is_object)
            .ok_or_else(|| invalid("its claims are not base64url-encoded JSON"))?;
        self.check_claims(&claims).map_err(|why| invalid(&why))?;
        let sub = claims["sub"].as_str().unwrap_or_default().to_owned();
        let verified = match claims.get(&self.email_verified_claim) {
            None => true,
            Some(v) => v == &Value::Bool(true) || v.as_str() == Some("true"),
        };
        let email = claims
            .get(&self.email_claim)
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Claims {
            platform_admin: self.admin.grants(&sub, &claims),
            unverified_email: email.is_some() && !verified,
            email: email.filter(|_| verified),
            sub,
        })
    }

    fn check_claims(&self, claims: &Value) -> Result<(), String> {
        let now = crate::now_ms() / 1000;
        let time = |name: &str| claims.get(name).map(|v| v.as_f64().map(|t| t as i64));
        match time("exp") {
            None => return Err("it has no expiry (`exp`)".into()),
            Some(None) => return Err("its expiry (`exp`) is not a number".into()),
            Some(Some(exp)) if exp + LEEWAY_SECS < now => return Err("it has expired".into()),
            Some(Some(_)) => {}
        }
        match time("nbf") {
            Some(None) => return Err("its `nbf` is not a number".into()),
            Some(Some(nbf)) if nbf - LEEWAY_SECS > now => {
                return Err("it is not valid yet (`nbf`)".into())
            }
            _ => {}
        }
        if claims.get("sub").and_then(Value::as_str).is_none() {
            return Err("it names no user (`sub`)".into());
        }
        if let Some(issuer) = &self.issuer {
            if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
                return Err("it was issued by another issuer (`iss`)".into());
            }
        }
        if let Some(audience) = &self.audience {
            let ours = match claims.get("aud") {
                Some(Value::String(a)) => a == audience,
                Some(Value::Array(all)) => all.iter().any(|a| a.as_str() == Some(audience)),
                _ => false,
            };
            if !ours {
                return Err("it is for another audience (`aud`)".into());
            }
        }
        Ok(())
    }

    /// Mints a token (HS256 keys only) valid for `ttl_secs`.
    pub fn mint(&self, sub: &str, email: &str, ttl_secs: u64) -> Result<String, String> {
        self.mint_with(sub, email, ttl_secs, false)
    }

    /// [`Keys::mint`], optionally with the claim `platform_admin: true` (which grants the admin
    /// routes only where `AUTH_ADMIN_CLAIM=platform_admin=true` is configured, and in `--dev`).
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

/// The algorithm a header's `alg` names (RFC 7518, and RFC 9864's `Ed25519` as EdDSA).
fn algorithm(name: &str) -> Option<Algorithm> {
    use Algorithm::*;
    Some(match name {
        "HS256" => HS256,
        "RS256" => RS256,
        "RS384" => RS384,
        "RS512" => RS512,
        "PS256" => PS256,
        "PS384" => PS384,
        "PS512" => PS512,
        "ES256" => ES256,
        "ES384" => ES384,
        "EdDSA" | "Ed25519" => EdDSA,
        _ => return None,
    })
}

/// The length of `header.payload`, the signed part of a token already split in three.
fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

fn verify_signature(signature: &str, message: &str, key: &DecodingKey, alg: Algorithm) -> bool {
    jsonwebtoken::crypto::verify(signature, message.as_bytes(), key, alg).unwrap_or(false)
}

/// A base64url (unpadded) part decoded as JSON.
fn decode_part<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The authenticated user of a request.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub id: String,
    /// `None` when the token carries no e-mail claim (some identity providers leave it out),
    /// or one its `email_verified` claim says is not verified.
    pub email: Option<String>,
    /// The token carried an address it says is not verified (not trusted, so `email` is `None`).
    pub unverified_email: bool,
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
            unverified_email: claims.unverified_email,
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
