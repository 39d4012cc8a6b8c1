//! Tokens from an identity provider's JWKS document (`AUTH_JWKS_URL`), against a real HTTP
//! server in the test that serves the document (and can rotate it, fail, and count fetches).

use crate::helpers::{assert_problem, reply, spawn_app_with, Engine, TestApp};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ISSUER: &str = "https://id.example.com";
const AUDIENCE: &str = "onboarding-api";

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/jwks/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

/// The public JWKs of the fixtures, by kid.
fn jwk(kid: &str) -> Value {
    serde_json::from_str::<Value>(&fixture("keys.json")).unwrap()[kid].clone()
}

/// The provider: serves `{"keys": …}` (or an error status), counting the fetches.
#[derive(Clone)]
struct Provider {
    document: Arc<Mutex<(u16, Value)>>,
    fetches: Arc<AtomicUsize>,
    url: String,
}

impl Provider {
    async fn start(kids: &[&str]) -> Provider {
        let document = Arc::new(Mutex::new((200, keys(kids))));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (doc, count) = (document.clone(), fetches.clone());
        let app = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || {
                let (doc, count) = (doc.clone(), count.clone());
                async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = doc.lock().unwrap().clone();
                    (
                        axum::http::StatusCode::from_u16(status).unwrap(),
                        [("cache-control", "public, max-age=300")],
                        axum::Json(body),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Provider {
            document,
            fetches,
            url,
        }
    }

    fn serve(&self, status: u16, kids: &[&str]) {
        *self.document.lock().unwrap() = (status, keys(kids));
    }
}

fn keys(kids: &[&str]) -> Value {
    json!({ "keys": kids.iter().map(|k| jwk(k)).collect::<Vec<_>>() })
}

async fn app_for(provider: &Provider, min_refresh: Duration) -> TestApp {
    let keys = onboarding_server::auth::Keys::jwks(
        &provider.url,
        Some(ISSUER),
        Some(AUDIENCE),
        min_refresh,
    )
    .unwrap();
    let keys = Arc::new(keys);
    spawn_app_with(Engine::Sqlite, move |s| s.keys = keys)
        .await
        .unwrap()
}

fn claims(extra: Value) -> Value {
    let now = onboarding_server::now_ms() / 1000;
    let mut c = json!({"sub": "idp|ana", "email": "ana@acme.com", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600, "iat": now});
    c.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    c
}

/// A token signed with the fixture `key` (private PEM), naming `kid` and `alg`.
fn token(key: &str, kid: &str, alg: Algorithm, claims: &Value) -> String {
    let pem = fixture(&format!("{key}.pem"));
    let encoding = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
        _ => unreachable!(),
    }
    .unwrap();
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &encoding).unwrap()
}

async fn status(app: &TestApp, token: &str) -> crate::helpers::Reply {
    reply(
        app.http
            .get(format!("{}/api/onboarding/status", app.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn b64(v: &Value) -> String {
    use std::fmt::Write;
    // base64url without padding, by hand (no extra dependency for two test tokens).
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = v.to_string().into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            let _ = out.write_char(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_by_kid_rotation_and_every_bad_token() {
    let provider = Provider::start(&["r1", "e1", "d1"]).await;
    let app = app_for(&provider, Duration::ZERO).await;
    let good = claims(json!({}));
    for (key, alg) in [
        ("r1", Algorithm::RS256),
        ("e1", Algorithm::ES256),
        ("d1", Algorithm::EdDSA),
    ] {
        let r = status(&app, &token(key, key, alg, &good)).await;
        assert_eq!(r.status, 200, "{key}: {}", r.body);
    }
    // Rotation: r2 appears and r1 disappears; followed without a restart.
    provider.serve(200, &["r2", "e1"]);
    let r = status(&app, &token("r2", "r2", Algorithm::RS256, &good)).await;
    assert_eq!(r.status, 200, "the new key: {}", r.body);
    let old = status(&app, &token("r1", "r1", Algorithm::RS256, &good)).await;
    assert_problem(&old, 401, "unauthorized");

    let now = onboarding_server::now_ms() / 1000;
    let r2_public = fixture("r2.pub.pem");
    let refused = [
        ("unknown kid", token("r2", "nope", Algorithm::RS256, &good)),
        (
            "wrong signature",
            token("attacker", "r2", Algorithm::RS256, &good),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "kid": "r2"})),
                b64(&good)
            ),
        ),
        ("HS256 keyed with the public key", {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("r2".into());
            jsonwebtoken::encode(
                &header,
                &good,
                &EncodingKey::from_secret(r2_public.as_bytes()),
            )
            .unwrap()
        }),
        (
            "ES256 header on an RSA key",
            token("e1", "r2", Algorithm::ES256, &good),
        ),
        (
            "expired",
            token(
                "r2",
                "r2",
                Algorithm::RS256,
                &claims(json!({"exp": now - 3600})),
            ),
        ),
        (
            "wrong issuer",
            token(
                "r2",
                "r2",
                Algorithm::RS256,
                &claims(json!({"iss": "https://evil.example.com"})),
            ),
        ),
        (
            "wrong audience",
            token(
                "r2",
                "r2",
                Algorithm::RS256,
                &claims(json!({"aud": "another-api"})),
            ),
        ),
    ];
    for (why, t) in refused {
        let r = status(&app, &t).await;
        assert_eq!(r.status, 401, "{why}: {}", r.body);
        assert_problem(&r, 401, "unauthorized");
    }

    // A token without an e-mail claim signs in, but cannot accept an invitation.
    let mut anonymous = good.clone();
    anonymous.as_object_mut().unwrap().remove("email");
    let t = token("r2", "r2", Algorithm::RS256, &anonymous);
    assert_eq!(status(&app, &t).await.status, 200);
    let accept = reply(
        app.http
            .post(format!("{}/api/invitations/accept", app.base))
            .bearer_auth(&t)
            .json(&json!({"token": "ab".repeat(32)}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&accept, 403, "email_unknown");
}

/// Invented kids prompt at most one fetch per minimum interval (30 s by default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_kids_does_not_hammer_the_provider() {
    let provider = Provider::start(&["r1"]).await;
    let app = app_for(&provider, onboarding_server::jwks::MIN_REFRESH).await;
    let good = claims(json!({}));
    // The start-up fetch (in the background) has the keys soon.
    let mut ok = false;
    for _ in 0..50 {
        if status(&app, &token("r1", "r1", Algorithm::RS256, &good))
            .await
            .status
            == 200
        {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "the keys were never fetched");
    let before = provider.fetches.load(Ordering::SeqCst);
    for i in 0..20 {
        let t = token("r1", &format!("invented-{i}"), Algorithm::RS256, &good);
        assert_problem(&status(&app, &t).await, 401, "unauthorized");
    }
    let extra = provider.fetches.load(Ordering::SeqCst) - before;
    assert!(extra <= 1, "{extra} fetches for 20 invented kids");
}

/// A provider that cannot be reached at start-up: every token is refused (never accepted
/// unchecked) until the keys can be fetched, then they work without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_refused_until_the_keys_can_be_fetched() {
    let provider = Provider::start(&["r1"]).await;
    provider.serve(503, &[]);
    let app = app_for(&provider, Duration::ZERO).await;
    let t = token("r1", "r1", Algorithm::RS256, &claims(json!({})));
    assert_problem(&status(&app, &t).await, 401, "unauthorized");
    provider.serve(200, &["r1"]);
    assert_eq!(status(&app, &t).await.status, 200);
}

/// `AUTH_EMAIL_CLAIM`: the address comes from the configured claim (here a namespaced one, as
/// Auth0 writes custom claims), and the rules' self-invitation check uses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_email_claim_is_configurable() {
    let provider = Provider::start(&["r1"]).await;
    let keys = onboarding_server::auth::Keys::jwks(
        &provider.url,
        Some(ISSUER),
        Some(AUDIENCE),
        Duration::ZERO,
    )
    .unwrap()
    .with_email_claim("https://acme.com/email");
    let keys = Arc::new(keys);
    let app = spawn_app_with(Engine::Sqlite, move |s| s.keys = keys)
        .await
        .unwrap();
    let validate = |claims: Value| {
        let app = &app;
        async move {
            let t = token("r1", "r1", Algorithm::RS256, &claims);
            reply(
                app.http
                    .post(format!("{}/api/onboarding/validate?step=review", app.base))
                    .bearer_auth(t)
                    .json(&json!({"confirmed": true, "terms_accepted": true, "invite_emails": ["boss@acme.com"]}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let mut own = claims(json!({"https://acme.com/email": "boss@acme.com"}));
    own.as_object_mut().unwrap().remove("email");
    let r = validate(own).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.to_string().contains("cannot_invite_self"),
        "{}",
        r.body
    );
    // The plain `email` claim is not read when another is configured.
    let r = validate(claims(json!({"email": "boss@acme.com"}))).await;
    assert!(
        !r.body.to_string().contains("cannot_invite_self"),
        "{}",
        r.body
    );
}
