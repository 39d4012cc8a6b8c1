//! Calls from a frontend on another origin (`CORS_ALLOWED_ORIGINS`).

use crate::helpers::{assert_problem, reply, spawn_app, spawn_app_with, Engine};

const APP: &str = "https://app.example.com";

async fn preflight(app: &crate::helpers::TestApp, origin: &str) -> crate::helpers::Reply {
    reply(
        app.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/onboarding/steps/company", app.base),
            )
            .header("origin", origin)
            .header("access-control-request-method", "PUT")
            .header(
                "access-control-request-headers",
                "authorization,content-type,if-match,idempotency-key",
            )
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_origins_may_call_the_api_and_others_are_refused() {
    let app = spawn_app_with(Engine::Sqlite, |s| {
        s.cors_allowed_origins =
            onboarding_server::http::cors::parse_origins(&format!("{APP}, http://localhost:5173"))
                .unwrap()
    })
    .await
    .unwrap();
    let ok = preflight(&app, APP).await;
    assert!(matches!(ok.status, 200 | 204), "{}", ok.body);
    let h = |name: &str| {
        ok.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .unwrap_or_default()
    };
    assert_eq!(h("access-control-allow-origin"), APP);
    assert!(h("access-control-allow-methods").contains("put"));
    for header in [
        "authorization",
        "content-type",
        "if-match",
        "idempotency-key",
    ] {
        assert!(
            h("access-control-allow-headers").contains(header),
            "{header}"
        );
    }
    assert_eq!(h("access-control-max-age"), "600");
    // An actual call from the listed origin: the browser may read the ETag.
    let r = app
        .http
        .get(format!("{}/api/onboarding/status", app.base))
        .bearer_auth(app.token("ana"))
        .header("origin", APP)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], APP);
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("etag") && exposed.contains("retry-after"),
        "{exposed}"
    );
    // Another origin: a preflight is refused with a problem, and nothing grants it access.
    let refused = preflight(&app, "https://evil.example.com").await;
    assert_problem(&refused, 403, "forbidden");
    assert!(refused.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_configured_origins_no_cors_headers_are_sent() {
    let app = spawn_app(Engine::Sqlite).await.unwrap();
    let r = preflight(&app, APP).await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
}
