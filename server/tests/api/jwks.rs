//! Tokens from an identity provider's JWKS document (`AUTH_JWKS_URL`), against a real HTTP
//! server in the test that serves the document (and can rotate it, fail, and count fetches).

use crate::helpers::{assert_problem, reply, spawn_app_with, Engine, TestApp};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use onboarding_server::jwks::JwksSettings;
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

/// The provider: serves `{"keys": …}` (or an error status) with `max-age`, after a delay,
/// counting the fetches. `/redirect` answers 302 to the document; `/big` serves the document
/// padded past a megabyte.
#[derive(Clone)]
struct Provider {
    document: Arc<Mutex<Served>>,
    fetches: Arc<AtomicUsize>,
    url: String,
}

#[derive(Clone)]
struct Served {
    status: u16,
    body: Value,
    max_age: u64,
    delay: Duration,
}

impl Provider {
    async fn start(kids: &[&str]) -> Provider {
        Provider::start_with(keys(kids)).await
    }

    async fn start_with(body: Value) -> Provider {
        use axum::response::IntoResponse;
        let document = Arc::new(Mutex::new(Served {
            status: 200,
            body,
            max_age: 300,
            delay: Duration::ZERO,
        }));
        let fetches = Arc::new(AtomicUsize::new(0));
        let serve = {
            let (doc, count) = (document.clone(), fetches.clone());
            move |padding: usize| {
                let (doc, count) = (doc.clone(), count.clone());
                async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    let served = doc.lock().unwrap().clone();
                    tokio::time::sleep(served.delay).await;
                    let mut body = served.body;
                    if padding > 0 {
                        body["padding"] = Value::from("x".repeat(padding));
                    }
                    (
                        axum::http::StatusCode::from_u16(served.status).unwrap(),
                        [(
                            "cache-control",
                            format!("public, max-age={}", served.max_age),
                        )],
                        axum::Json(body),
                    )
                        .into_response()
                }
            }
        };
        let (plain, big) = (serve.clone(), serve);
        let app = axum::Router::new()
            .route(
                "/.well-known/jwks.json",
                axum::routing::get(move || plain(0)),
            )
            .route("/big", axum::routing::get(move || big(1 << 21)))
            .route(
                "/redirect",
                axum::routing::get(|| async {
                    axum::response::Redirect::to("/.well-known/jwks.json")
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
        let mut served = self.document.lock().unwrap();
        served.status = status;
        served.body = keys(kids);
    }

    fn set(&self, change: impl FnOnce(&mut Served)) {
        change(&mut self.document.lock().unwrap());
    }

    /// Another path of the provider's server.
    fn at(&self, path: &str) -> String {
        self.url.replace("/.well-known/jwks.json", path)
    }
}

fn keys(kids: &[&str]) -> Value {
    json!({ "keys": kids.iter().map(|k| jwk(k)).collect::<Vec<_>>() })
}

async fn app_for(provider: &Provider, min_refresh: Duration) -> TestApp {
    app_at(
        &provider.url,
        JwksSettings {
            min_refresh,
            ..Default::default()
        },
    )
    .await
}

async fn app_at(url: &str, settings: JwksSettings) -> TestApp {
    let keys = onboarding_server::auth::Keys::jwks(url, ISSUER, AUDIENCE, settings).unwrap();
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
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &encoding(key, alg)).unwrap()
}

fn encoding(key: &str, alg: Algorithm) -> EncodingKey {
    let pem = fixture(&format!("{key}.pem"));
    match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => EncodingKey::from_rsa_pem(pem.as_bytes()),
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
        _ => unreachable!(),
    }
    .unwrap()
}

/// A token with the header exactly as given (`alg` under any name, `typ`, no `kid`…), signed
/// by the fixture `key` with `alg`.
fn raw_token(key: &str, alg: Algorithm, header: &Value, claims: &Value) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &encoding(key, alg), alg).unwrap();
    format!("{message}.{signature}")
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
        ISSUER,
        AUDIENCE,
        JwksSettings {
            min_refresh: Duration::ZERO,
            ..Default::default()
        },
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

async fn readyz(app: &TestApp) -> (u16, String) {
    let r = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn wait_until_signed_in(app: &TestApp, token: &str) {
    for _ in 0..100 {
        if status(app, token).await.status == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the keys were never fetched");
}

/// Hardening II, item 1: the keys are refreshed in the background when their max-age runs out;
/// a provider answering in 4 s never delays a request while keys are cached. While fetches
/// fail the keys serve for the configured stale bound, then every token is refused, and
/// `/readyz` says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_or_failing_provider_never_stalls_requests_and_stale_keys_expire() {
    let provider = Provider::start(&["r1"]).await;
    provider.set(|s| s.max_age = 1);
    let app = app_at(
        &provider.url,
        JwksSettings {
            min_refresh: Duration::ZERO,
            max_stale: Duration::from_secs(6),
            min_ttl: Duration::from_secs(1),
        },
    )
    .await;
    let t = token("r1", "r1", Algorithm::RS256, &claims(json!({})));
    wait_until_signed_in(&app, &t).await;
    assert_eq!(readyz(&app).await, (200, "ready\njwks: up".to_owned()));

    provider.set(|s| s.delay = Duration::from_secs(4));
    tokio::time::sleep(Duration::from_millis(1200)).await; // past max-age: a refresh is due
    for _ in 0..6 {
        let started = std::time::Instant::now();
        assert_eq!(status(&app, &t).await.status, 200);
        let took = started.elapsed();
        // (The old refresh held every request for the provider's 4 s.)
        assert!(took < Duration::from_secs(2), "a request waited {took:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // The provider fails: the keys serve stale (ready, saying so), then are refused.
    provider.set(|s| {
        s.delay = Duration::ZERO;
        s.status = 503;
    });
    let mut saw_stale = false;
    let mut refused = false;
    for _ in 0..200 {
        let (code, text) = readyz(&app).await;
        if code == 200 && text.contains("jwks: stale") {
            saw_stale = true;
            assert_eq!(status(&app, &t).await.status, 200, "stale keys still serve");
        }
        if code == 503 {
            assert!(text.contains("jwks: unavailable"), "{text}");
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saw_stale && refused, "stale {saw_stale}, refused {refused}");
    let r = status(&app, &t).await;
    assert_problem(&r, 401, "unauthorized");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("cannot be fetched"),
        "{}",
        r.body
    );
    // The provider is back: the refresh task picks the keys up again by itself.
    provider.set(|s| s.status = 200);
    wait_until_signed_in(&app, &t).await;
}

/// Hardening II, item 3: no redirect is followed, no document over a megabyte or with more than
/// a hundred keys is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_huge_documents_and_key_floods_are_refused() {
    let provider = Provider::start(&["r1"]).await;
    let t = token("r1", "r1", Algorithm::RS256, &claims(json!({})));
    // The document itself, for comparison: accepted.
    let direct = app_at(&provider.url, JwksSettings::default()).await;
    wait_until_signed_in(&direct, &t).await;
    for path in ["/redirect", "/big"] {
        let app = app_at(&provider.at(path), JwksSettings::default()).await;
        let why = if path == "/big" {
            "larger than"
        } else {
            "redirect"
        };
        let (code, text) = readyz_saying(&app, why).await;
        assert_eq!(code, 503, "{path}: {text}");
        assert_problem(&status(&app, &t).await, 401, "unauthorized");
    }
    let mut many = keys(&["r1"]);
    let filler = jwk("r2");
    for i in 0..100 {
        let mut k = filler.clone();
        k["kid"] = Value::from(format!("filler-{i}"));
        many["keys"].as_array_mut().unwrap().push(k);
    }
    provider.set(|s| s.body = many);
    let app = app_at(&provider.url, JwksSettings::default()).await;
    let (code, text) = readyz_saying(&app, "more than 100 keys").await;
    assert_eq!(code, 503, "{text}");
    assert_problem(&status(&app, &t).await, 401, "unauthorized");
}

/// `/readyz` once it says `why` (the first fetch runs in the background), within 10 s.
async fn readyz_saying(app: &TestApp, why: &str) -> (u16, String) {
    for _ in 0..200 {
        let (code, text) = readyz(app).await;
        if text.contains(why) {
            return (code, text);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/readyz never said {why:?}: {:?}", readyz(app).await);
}

/// Hardening II, item 4: real providers' keys and tokens. An RSA key without `alg` verifies the
/// RS and PS families; ES384 keys; EdDSA under RFC 9864's `Ed25519` name (key and token);
/// tokens without `kid` against few keys; `typ` an access token's when present.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_algorithm_of_a_key_type_and_tokens_without_kid() {
    let mut rsa = jwk("r1");
    rsa.as_object_mut().unwrap().remove("alg");
    let mut ed = jwk("d1");
    ed["alg"] = Value::from("Ed25519");
    let provider = Provider::start_with(json!({"keys": [rsa, jwk("e1"), jwk("e384"), ed]})).await;
    let app = app_for(&provider, Duration::ZERO).await;
    let good = claims(json!({}));
    for alg in [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ] {
        let r = status(&app, &token("r1", "r1", alg, &good)).await;
        assert_eq!(r.status, 200, "{alg:?}: {}", r.body);
    }
    let r = status(&app, &token("e384", "e384", Algorithm::ES384, &good)).await;
    assert_eq!(r.status, 200, "ES384: {}", r.body);
    // ES384 on the P-256 key, ES256 on the P-384 key: refused.
    assert_eq!(
        status(&app, &token("e384", "e1", Algorithm::ES384, &good))
            .await
            .status,
        401
    );
    assert_eq!(
        status(&app, &token("e1", "e384", Algorithm::ES256, &good))
            .await
            .status,
        401
    );
    for name in ["EdDSA", "Ed25519"] {
        let t = raw_token(
            "d1",
            Algorithm::EdDSA,
            &json!({"alg": name, "kid": "d1"}),
            &good,
        );
        let r = status(&app, &t).await;
        assert_eq!(r.status, 200, "{name}: {}", r.body);
    }
    // Without kid: the keys of the token's type are tried (four keys here).
    for (key, alg, name) in [
        ("r1", Algorithm::PS256, "PS256"),
        ("e1", Algorithm::ES256, "ES256"),
        ("d1", Algorithm::EdDSA, "Ed25519"),
    ] {
        let t = raw_token(key, alg, &json!({"alg": name, "typ": "at+jwt"}), &good);
        let r = status(&app, &t).await;
        assert_eq!(r.status, 200, "no kid, {name}: {}", r.body);
    }
    let wrong = raw_token(
        "attacker",
        Algorithm::RS256,
        &json!({"alg": "RS256"}),
        &good,
    );
    assert_eq!(status(&app, &wrong).await.status, 401);
    // typ: access tokens (RFC 9068) and plain JWTs pass; anything else is refused.
    for (typ, code) in [
        ("at+jwt", 200),
        ("application/at+jwt", 200),
        ("JWT", 200),
        ("dpop+jwt", 401),
        ("secevent+jwt", 401),
    ] {
        let t = raw_token(
            "r1",
            Algorithm::RS256,
            &json!({"alg": "RS256", "kid": "r1", "typ": typ}),
            &good,
        );
        let r = status(&app, &t).await;
        assert_eq!(r.status, code, "typ {typ}: {}", r.body);
    }

    // A critical extension the server does not know: refused (RFC 7515 §4.1.11).
    let crit = raw_token(
        "r1",
        Algorithm::RS256,
        &json!({"alg": "RS256", "kid": "r1", "crit": ["exp-ext"], "exp-ext": 1}),
        &good,
    );
    assert_problem(&status(&app, &crit).await, 401, "unauthorized");

    // With more than five keys a token must name its kid.
    let many: Vec<Value> = (0..6)
        .map(|i| {
            let mut k = jwk("r1");
            k["kid"] = Value::from(format!("r1-{i}"));
            k
        })
        .collect();
    let crowded = Provider::start_with(json!({ "keys": many })).await;
    let app = app_for(&crowded, Duration::ZERO).await;
    let t = raw_token("r1", Algorithm::RS256, &json!({"alg": "RS256"}), &good);
    let r = status(&app, &t).await;
    assert_problem(&r, 401, "unauthorized");
    assert!(
        r.body["detail"].as_str().unwrap().contains("kid"),
        "{}",
        r.body
    );
    let named = raw_token(
        "r1",
        Algorithm::RS256,
        &json!({"alg": "RS256", "kid": "r1-5"}),
        &good,
    );
    assert_eq!(status(&app, &named).await.status, 200);
}

/// Hardening II, item 2: a top-level `platform_admin: true` from the provider opens nothing;
/// the admin routes follow the operator's rule (a claim and value, or subjects).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_rights_come_only_from_the_operators_rule() {
    let provider = Provider::start(&["r1"]).await;
    let funnel = |app: &TestApp, claims: Value| {
        let t = token("r1", "r1", Algorithm::RS256, &claims);
        let req = app
            .http
            .get(format!("{}/api/admin/onboarding/funnel", app.base))
            .bearer_auth(t);
        async move { reply(req.send().await.unwrap()).await.status }
    };
    let plain = app_for(&provider, Duration::ZERO).await;
    assert_eq!(
        funnel(&plain, claims(json!({"platform_admin": true}))).await,
        403
    );

    let keys = onboarding_server::auth::Keys::jwks(
        &provider.url,
        ISSUER,
        AUDIENCE,
        JwksSettings::default(),
    )
    .unwrap()
    .with_admin(
        onboarding_server::auth::AdminRule::parse(Some("roles=okr-admin"), "idp|root").unwrap(),
    );
    let keys = Arc::new(keys);
    let ruled = spawn_app_with(Engine::Sqlite, move |s| s.keys = keys)
        .await
        .unwrap();
    assert_eq!(
        funnel(&ruled, claims(json!({"platform_admin": true}))).await,
        403
    );
    assert_eq!(
        funnel(&ruled, claims(json!({"roles": "okr-admin"}))).await,
        200
    );
    assert_eq!(
        funnel(&ruled, claims(json!({"roles": ["viewer", "okr-admin"]}))).await,
        200
    );
    assert_eq!(
        funnel(&ruled, claims(json!({"roles": ["viewer"]}))).await,
        403
    );
    assert_eq!(
        funnel(&ruled, claims(json!({"sub": "idp|root"}))).await,
        200
    );
}

/// Hardening II, item 2: JWKS mode refuses to start without an issuer and an audience, naming
/// both; the development opt-out starts, saying so loudly.
#[test]
fn jwks_mode_requires_issuer_and_audience() {
    let run = |env: &[(&str, &str)]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_onboarding-server"))
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--database-url",
                "sqlite::memory:",
            ])
            .env_remove("AUTH_JWT_SECRET")
            .env("AUTH_JWKS_URL", "http://127.0.0.1:9/jwks")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    for env in [
        &[][..],
        &[("AUTH_JWT_ISSUER", ISSUER)][..],
        &[("AUTH_JWT_AUDIENCE", AUDIENCE)][..],
    ] {
        let out = run(env).wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{env:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("AUTH_JWT_ISSUER") && err.contains("AUTH_JWT_AUDIENCE"),
            "{err}"
        );
    }
    let mut child = run(&[("AUTH_JWT_INSECURE_ANY_AUDIENCE", "true")]);
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        assert!(
            std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0,
            "exited"
        );
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("AUTH_JWT_INSECURE_ANY_AUDIENCE"), "{err}");
}
