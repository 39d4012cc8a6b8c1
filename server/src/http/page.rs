//! The wizard page at `/`: the page itself (`web/`, embedded in the binary) and the npm package
//! it imports (`/pkg/…`, read once at start-up from the directory `make pkg` builds). Not part of
//! the API document: these are the demo's files, not endpoints.

use super::Path;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::path::Path as FsPath;
use std::sync::Arc;

const INDEX: &str = include_str!("../../../web/index.html");
const APP_JS: &str = include_str!("../../../web/app.js");
const STYLE: &str = include_str!("../../../web/style.css");
/// The page's modules (`web/js/`), imported by `app.js`.
const MODULES: [(&str, &str); 7] = [
    ("words.js", include_str!("../../../web/js/words.js")),
    ("state.js", include_str!("../../../web/js/state.js")),
    ("http.js", include_str!("../../../web/js/http.js")),
    ("autosave.js", include_str!("../../../web/js/autosave.js")),
    ("wizard.js", include_str!("../../../web/js/wizard.js")),
    (
        "suggestions.js",
        include_str!("../../../web/js/suggestions.js"),
    ),
    ("done.js", include_str!("../../../web/js/done.js")),
];

/// The package files the page loads, with their media types.
const PKG_FILES: [(&str, &str); 4] = [
    ("index.js", "text/javascript; charset=utf-8"),
    ("onboarding_wasm_bg.wasm", "application/wasm"),
    // The steps' metadata per locale, which `loadSteps` imports as a module.
    ("steps.es.js", "text/javascript; charset=utf-8"),
    ("steps.en.js", "text/javascript; charset=utf-8"),
];

/// Where the wizard page links out, configured by the operator (`TERMS_URL`, `APP_URL`); given
/// to the page as `<meta>` tags.
#[derive(Clone, Debug, Default)]
pub struct Links {
    pub terms_url: Option<String>,
    pub app_url: Option<String>,
}

/// `text` for a double-quoted HTML attribute.
fn attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// What the page serves; built once at start-up.
#[derive(Debug)]
pub struct Page {
    index: String,
    /// The package's files, or why they are missing (the page then says so instead of breaking).
    pkg: Result<Vec<PkgFile>, String>,
}

#[derive(Debug)]
struct PkgFile {
    name: &'static str,
    mime: &'static str,
    bytes: Vec<u8>,
    /// A strong ETag of the contents: with `Cache-Control: no-cache` a browser revalidates the
    /// package on every load and gets a new build at once (a stale package is detected by the
    /// page too: it compares `rulesVersion()` with the server's `rules_version`).
    etag: HeaderValue,
}

impl Page {
    /// Reads the package from `pkg_dir` (`None`: no package; `/` explains how to build it).
    pub fn load(pkg_dir: Option<&FsPath>, dev: bool, links: &Links) -> Page {
        let index = INDEX
            .replace("__MODE__", if dev { "dev" } else { "production" })
            .replace(
                "__TERMS_URL__",
                &attribute(links.terms_url.as_deref().unwrap_or("")),
            )
            .replace(
                "__APP_URL__",
                &attribute(links.app_url.as_deref().unwrap_or("")),
            );
        let pkg = match pkg_dir {
            None => Err("no package directory configured".to_owned()),
            Some(dir) => PKG_FILES
                .iter()
                .map(|(name, mime)| {
                    std::fs::read(dir.join(name))
                        .map(|bytes| {
                            use sha2::{Digest, Sha256};
                            let digest = hex::encode(&Sha256::digest(&bytes)[..16]);
                            let etag = HeaderValue::from_str(&format!("\"{digest}\""))
                                .unwrap_or(HeaderValue::from_static("\"0\""));
                            PkgFile {
                                name,
                                mime,
                                bytes,
                                etag,
                            }
                        })
                        .map_err(|e| format!("{}: {e}", dir.join(name).display()))
                })
                .collect(),
        };
        if let Err(why) = &pkg {
            tracing::warn!(%why, "the wizard page is unavailable until the npm package is built (make pkg)");
        }
        Page { index, pkg }
    }
}

pub fn router<S: Clone + Send + Sync + 'static>(page: Arc<Page>) -> Router<S> {
    Router::new()
        .route("/", get(index))
        // The invitation e-mails' link: the same page, which accepts the `#token=` it carries.
        .route("/invitations/accept", get(index))
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route("/js/{file}", get(module))
        .route("/pkg/{file}", get(pkg_file))
        .with_state(page)
}

async fn module(Path(file): Path<String>) -> Response {
    match MODULES.iter().find(|(name, _)| *name == file) {
        Some((_, text)) => asset("text/javascript; charset=utf-8", *text),
        None => {
            crate::error::ApiError::NotFound(format!("no page module \"{file}\"")).into_response()
        }
    }
}

fn asset(mime: &'static str, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

async fn index(State(page): State<Arc<Page>>) -> Response {
    let mut response = match &page.pkg {
        Ok(_) => asset("text/html; charset=utf-8", page.index.clone()),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html><meta charset=utf-8><title>Onboarding</title><p>The wizard page needs the npm package: run <code>make pkg</code> (or <code>make run</code>) and restart the server, or point <code>--pkg-dir</code> / <code>WEB_PKG_DIR</code> at it.</p>",
        )
            .into_response(),
    };
    // The page runs only its own scripts and the rules' WebAssembly, and is never framed (no
    // clickjacking): an embedding application links to it with the token in the fragment
    // (`/#token=…`), which the page reads once and asks before it replaces a signed-in user.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    );
    response
}

async fn pkg_file(
    State(page): State<Arc<Page>>,
    Path(file): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let found = page
        .pkg
        .as_ref()
        .ok()
        .and_then(|files| files.iter().find(|f| f.name == file));
    match found {
        Some(f) if headers.get(header::IF_NONE_MATCH) == Some(&f.etag) => {
            let mut response = asset(f.mime, ());
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            response.headers_mut().insert(header::ETAG, f.etag.clone());
            response
        }
        Some(f) => {
            let mut response = asset(f.mime, f.bytes.clone());
            response.headers_mut().insert(header::ETAG, f.etag.clone());
            response
        }
        None => {
            crate::error::ApiError::NotFound(format!("no package file \"{file}\"")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(page: &Arc<Page>, uri: &str) -> (StatusCode, String, String) {
        let response = router::<()>(page.clone())
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let mime = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, mime, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_operators_links_reach_the_page_escaped() {
        let links = Links {
            terms_url: Some("https://example.com/terms?a=1&b=\"2\"".into()),
            app_url: None,
        };
        let dir = std::env::temp_dir().join(format!("page-links-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, _) in PKG_FILES {
            std::fs::write(dir.join(name), name).unwrap();
        }
        let page = Arc::new(Page::load(Some(&dir), false, &links));
        let body = get(&page, "/").await.2;
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(body.contains(
            r#"<meta name="onboarding-terms" content="https://example.com/terms?a=1&amp;b=&quot;2&quot;">"#
        ));
        assert!(body.contains(r#"<meta name="onboarding-app" content="">"#));
    }

    #[tokio::test]
    async fn serves_the_page_and_the_package_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("page-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, _) in PKG_FILES {
            std::fs::write(dir.join(name), format!("contents of {name}")).unwrap();
        }
        let page = Arc::new(Page::load(Some(&dir), true, &Links::default()));
        let (status, mime, body) = get(&page, "/").await;
        assert_eq!(
            (status, mime.as_str()),
            (StatusCode::OK, "text/html; charset=utf-8")
        );
        assert!(body.contains(r#"<meta name="onboarding-mode" content="dev">"#));
        assert_eq!(get(&page, "/app.js").await.2, APP_JS);
        // Every module app.js imports (directly or through another module) is served.
        for (name, text) in MODULES {
            assert_eq!(get(&page, &format!("/js/{name}")).await.2, text, "{name}");
        }
        for source in MODULES.iter().map(|m| m.1).chain([APP_JS]) {
            for import in source.lines().filter_map(|l| l.strip_prefix("import ")) {
                let Some(from) = import.split(" from '").nth(1) else {
                    continue;
                };
                let target = from.trim_end_matches("';").rsplit('/').next().unwrap();
                if !from.starts_with("/pkg/") {
                    assert!(
                        MODULES.iter().any(|m| m.0 == target) || target == "app.js",
                        "{target} is imported but not served"
                    );
                }
            }
        }
        assert_eq!(get(&page, "/js/nope.js").await.0, StatusCode::NOT_FOUND);
        let (status, mime, body) = get(&page, "/pkg/onboarding_wasm_bg.wasm").await;
        assert_eq!(
            (status, mime.as_str(), body.as_str()),
            (
                StatusCode::OK,
                "application/wasm",
                "contents of onboarding_wasm_bg.wasm"
            )
        );
        // Revalidation: the same contents answer 304 to their ETag.
        let response = router::<()>(page.clone())
            .oneshot(Request::get("/pkg/index.js").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let etag = response.headers()[header::ETAG].clone();
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
        let again = router::<()>(page.clone())
            .oneshot(
                Request::get("/pkg/index.js")
                    .header(header::IF_NONE_MATCH, etag)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        for other in ["/pkg/package.json", "/pkg/..%2FCargo.toml", "/pkg/"] {
            assert_eq!(get(&page, other).await.0, StatusCode::NOT_FOUND, "{other}");
        }
        std::fs::remove_dir_all(&dir).unwrap();

        // Without the package the page explains what to build instead of loading a broken app.
        let missing = Arc::new(Page::load(None, false, &Links::default()));
        let (status, _, body) = get(&missing, "/").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("make pkg"));
    }
}
