use crate::helpers::{assert_problem, reply, valid_wizard, TestApp, SECRET};
use reqwest::Method;
use serde_json::json;

crate::both_engines!(
    health_and_metadata,
    tokens_are_checked,
    the_whole_flow_creates_everything,
    invalid_steps_are_saved_but_not_completed_and_complete_refuses,
    stale_if_match_is_412,
    idempotency_key_replays_the_first_response,
    taken_slugs_get_a_suffix,
    concurrent_completes_create_one_organization,
    bad_input_is_a_clear_4xx_and_changes_nothing,
    restart_abandons_the_open_session,
    inactive_sessions_expire_and_drafts_are_purged,
    openapi_documents_every_route,
    concurrent_saves_without_if_match_lose_no_step,
    a_wizard_without_objectives_or_invitations_completes,
    the_objectives_read_back_as_the_wizard_gave_them,
);

/// What a completion writes in one statement per table (PostgreSQL's arrays, SQLite's
/// `json_each`) reads back as the wizard gave it: order, positions, text, numbers, nulls.
async fn the_objectives_read_back_as_the_wizard_gave_them(app: TestApp) {
    app.fill_wizard("ada", "Ada Co").await;
    let created = app.post("/api/onboarding/complete", "ada", None).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let org = created.body["organization"]["id"].as_str().unwrap();
    let read = app
        .get(&format!("/api/organizations/{org}/objectives"), "ada")
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.body["objectives"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                let krs: Vec<_> = o["key_results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| {
                        json!([
                            k["position"],
                            k["title"],
                            k["metric_type"],
                            k["baseline"],
                            k["target"],
                            k["unit"]
                        ])
                    })
                    .collect();
                json!([o["position"], o["title"], o["description"], krs])
            })
            .collect::<Vec<_>>(),
        vec![
            json!([
                0,
                "Encantar a nuestros clientes",
                "Que cada visita sea memorable.",
                [
                    [0, "Subir el NPS de 30 a 50", "number", 30.0, 50.0, null],
                    [1, "Reseñas de 5 estrellas", "percentage", 60.0, 80.0, "%"],
                ]
            ]),
            json!([
                1,
                "Abrir la segunda cafetería",
                null,
                [[0, "Local firmado", "boolean", 0.0, 1.0, null],]
            ]),
        ]
    );
}

/// The completion's inserts leave out the empty ones: no objectives (the step may be left
/// empty) and no invitations.
async fn a_wizard_without_objectives_or_invitations_completes(app: TestApp) {
    app.post("/api/onboarding/start", "solo", None).await;
    let mut wizard = valid_wizard();
    wizard["objectives"]["objectives"] = json!([]);
    wizard["review"]["invite_emails"] = json!([]);
    for step in onboarding_core::StepId::ALL.map(onboarding_core::StepId::name) {
        let r = app.put_step("solo", step, &wizard[step], None).await;
        assert_eq!(r.body["report"]["valid"], true, "{step}: {}", r.body);
    }
    let r = app.post("/api/onboarding/complete", "solo", None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (r.body["objectives"].clone(), r.body["invitations"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(app.count("organizations").await, 1);
    assert_eq!(app.count("memberships").await, 1);
    assert_eq!(app.count("profiles").await, 1);
    assert_eq!(app.count("objectives").await, 0);
    assert_eq!(app.count("invitations").await, 0);
    assert_eq!(
        app.count("onboarding_events where kind = 'completed'")
            .await,
        1
    );
}

async fn inactive_sessions_expire_and_drafts_are_purged(app: TestApp) {
    app.post("/api/onboarding/start", "old", None).await;
    app.put_step("old", "welcome", &json!({"full_name": "Olga"}), None)
        .await;
    app.post("/api/onboarding/start", "fresh", None).await;
    let day = 86_400_000;
    // Six days on: nothing expires. Eight days on (as seen by the purge's clock): both do.
    assert_eq!(
        app.store
            .expire_sessions(onboarding_server::now_ms() + 6 * day, 7 * day)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.store
            .expire_sessions(onboarding_server::now_ms() + 8 * day, 7 * day)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        app.store
            .expire_sessions(onboarding_server::now_ms() + 8 * day, 7 * day)
            .await
            .unwrap(),
        0
    );
    let status = app.get("/api/onboarding/status", "old").await;
    assert_eq!(status.body["status"], "expired");
    assert_eq!(status.body["draft"], serde_json::Value::Null);
    use sqlx::Row;
    let steps: i64 = sqlx::query("select count(*) as n from onboarding_steps d join onboarding_sessions s on s.id = d.session_id where s.user_id = 'old'")
        .fetch_one(&app.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(steps, 0, "the expired draft is discarded");
    // Starting again after expiry begins fresh.
    let start = app.post("/api/onboarding/start", "old", None).await;
    assert_eq!(start.status, 201);
    assert_eq!(start.body["draft"], json!({}));
    let r = app.put_step("old", "welcome", &json!({}), Some(1)).await;
    assert_eq!(r.status, 200);
}

async fn health_and_metadata(app: TestApp) {
    let r = reply(
        app.http
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = reply(
        app.http
            .get(format!("{}/readyz", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = reply(
        app.http
            .get(format!("{}/api/onboarding/steps?locale=en", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.body[0]["title"], "Welcome");
    let r = reply(
        app.http
            .get(format!("{}/api/onboarding/steps", app.base))
            .header("accept-language", "en-US")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.body[0]["title"], "Welcome");
    let r = reply(
        app.http
            .get(format!("{}/api/onboarding/steps", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.body[0]["title"], "Bienvenida");
    let r = reply(
        app.http
            .get(format!("{}/api/onboarding/schema", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        r.body["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let r = reply(
        app.http
            .get(format!("{}/api/onboarding/steps?locale=fr", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&r, 400, "bad_request");
    let r = reply(
        app.http
            .get(format!("{}/nope", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&r, 404, "not_found");
    // Stateless validation: the same bytes as the rules everywhere else.
    let r = app
        .http
        .post(format!("{}/api/onboarding/validate?locale=en", app.base))
        .bearer_auth(app.token("u1"))
        .json(&json!({"welcome": {"full_name": "A"}}))
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    let ctx = onboarding_core::Context::new(
        onboarding_core::Locale::En,
        onboarding_server::today(),
        Some("u1@example.com"),
    );
    assert_eq!(
        text,
        onboarding_core::to_json(&onboarding_core::validate_wizard(
            &json!({"welcome": {"full_name": "A"}}),
            &ctx
        ))
    );
}

async fn tokens_are_checked(app: TestApp) {
    let status = |auth: Option<String>| {
        let mut req = app.http.get(format!("{}/api/onboarding/status", app.base));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        async move { reply(req.send().await.unwrap()).await }
    };
    for auth in [
        None,
        Some("Basic abc".to_owned()),
        Some("Bearer not.a.jwt".to_owned()),
    ] {
        let r = status(auth).await;
        assert_problem(&r, 401, "unauthorized");
        assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer");
    }
    let other =
        onboarding_server::auth::Keys::hs256(b"another-secret-another-secret-0123456", None, None);
    assert_problem(
        &status(Some(format!(
            "Bearer {}",
            other.mint("u", "u@x.com", 60).unwrap()
        )))
        .await,
        401,
        "unauthorized",
    );
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "u", "email": "u@x.com", "exp": 1_000_000_000}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let r = status(Some(format!("Bearer {expired}"))).await;
    assert_problem(&r, 401, "unauthorized");
    assert!(
        r.body["detail"].as_str().unwrap().contains("expired"),
        "{}",
        r.body
    );
    // Hardening II, item 14: the detail says what was wrong in the product's words, never the
    // JWT library's internals ("unknown variant `none`, expected one of …", "InvalidSignature").
    let none = format!(
        "{}.{}.",
        base64url(br#"{"alg":"none","typ":"JWT"}"#),
        base64url(br#"{"sub":"u","exp":9999999999}"#)
    );
    for (token, says) in [
        (none, "algorithm is not accepted"),
        (
            other.mint("u", "u@x.com", 60).unwrap(),
            "signature does not verify",
        ),
        ("not.a.jwt".to_owned(), "header is not"),
    ] {
        let r = status(Some(format!("Bearer {token}"))).await;
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{detail}");
        for internal in [
            "variant",
            "expected one of",
            "InvalidSignature",
            "Base64",
            "Json(",
        ] {
            assert!(!detail.contains(internal), "{detail}");
        }
    }
    assert_eq!(
        status(Some(format!("Bearer {}", app.token("u"))))
            .await
            .status,
        200
    );
}

async fn the_whole_flow_creates_everything(app: TestApp) {
    let r = app.get("/api/onboarding/status", "ana").await;
    assert_eq!(r.body["status"], "not_started");
    let r = app.post("/api/onboarding/start", "ana", None).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.headers.get("etag").unwrap(), "\"1\"");
    let again = app.post("/api/onboarding/start", "ana", None).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["session_id"], r.body["session_id"]);
    app.fill_wizard("ana", "Café Niño & Co.").await;
    let r = app.get("/api/onboarding/status", "ana").await;
    assert_eq!(r.body["completion_percent"], 100);
    assert_eq!(r.body["next"], "complete");
    assert_eq!(
        r.body["draft"]["company"]["company_name"],
        "Café Niño & Co."
    );

    let created = app.post("/api/onboarding/complete", "ana", None).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["organization"]["slug"], "cafe-nino-co");
    assert_eq!(created.body["organization"]["country"], "MX");
    assert_eq!(
        created.body["organization"]["website"],
        "https://cafenino.mx"
    );
    for (table, n) in [
        ("organizations", 1),
        ("memberships", 1),
        ("profiles", 1),
        ("objectives", 2),
        ("key_results", 3),
        ("invitations", 2),
    ] {
        assert_eq!(app.count(table).await, n, "{table}");
    }
    // started + 6 × (step_saved, step_completed) + completed
    assert_eq!(app.count("onboarding_events").await, 14);
    let r = app.get("/api/onboarding/status", "ana").await;
    assert_eq!(r.body["status"], "completed");
    assert_eq!(r.body["next"], "done");
    // Invitation tokens are stored hashed (64 hex chars), never in the clear.
    use sqlx::Row;
    let hash: String = sqlx::query("select token_hash from invitations limit 1")
        .fetch_one(&app.pool)
        .await
        .unwrap()
        .get("token_hash");
    assert_eq!(hash.len(), 64);
    // Metrics count it, per route template.
    let metrics = app.text("/metrics").await;
    assert!(
        metrics.contains("onboarding_completions_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("onboarding_steps_saved_total 6"),
        "{metrics}"
    );
    assert!(metrics.contains(r#"http_requests_total{method="PUT",route="/api/onboarding/steps/{step}",status="2xx"} 6"#), "{metrics}");
    assert!(metrics.contains(r#"http_request_duration_seconds_count{method="POST",route="/api/onboarding/complete"} 1"#), "{metrics}");
    // A second complete answers with the same organization and creates nothing.
    let r2 = app.post("/api/onboarding/complete", "ana", None).await;
    assert_eq!(r2.status, 200, "{}", r2.body);
    assert_eq!(
        r2.body["organization"]["id"],
        created.body["organization"]["id"]
    );
    assert_eq!(app.count("organizations").await, 1);
}

async fn invalid_steps_are_saved_but_not_completed_and_complete_refuses(app: TestApp) {
    app.post("/api/onboarding/start", "luis", None).await;
    let r = app
        .put_step(
            "luis",
            "company",
            &json!({"company_name": "A", "country": "zz"}),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["report"]["valid"], false);
    assert_eq!(
        r.body["report"]["issues"][0]["path"],
        "company.company_name"
    );
    assert_eq!(
        r.body["report"]["issues"][0]["message"],
        "Debe tener al menos 2 caracteres."
    );
    assert_eq!(r.body["completed_steps"], json!([]));
    let status = app.get("/api/onboarding/status", "luis").await;
    assert_eq!(status.body["draft"]["company"]["country"], "zz");
    // Valid now: the step completes; then invalid again: it is no longer complete.
    app.put_step("luis", "company", &valid_wizard()["company"], None)
        .await;
    assert_eq!(
        app.get("/api/onboarding/status", "luis").await.body["completed_steps"],
        json!(["company"])
    );
    let r = app.put_step("luis", "company", &json!({}), None).await;
    assert_eq!(r.body["completed_steps"], json!([]));

    let r = app
        .send(
            Method::POST,
            "/api/onboarding/complete?locale=en",
            Some("luis"),
            None,
            &[],
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["report"]["valid"], false);
    assert_eq!(
        r.body["report"]["issues"][0]["message"],
        "This field is required."
    );
    assert_eq!(app.count("organizations").await, 0);
    assert_eq!(
        app.get("/api/onboarding/status", "luis").await.body["status"],
        "in_progress"
    );
}

async fn stale_if_match_is_412(app: TestApp) {
    let start = app.post("/api/onboarding/start", "eva", None).await;
    let v1 = start.body["version"].as_i64().unwrap();
    let r = app
        .put_step("eva", "welcome", &json!({"full_name": "Eva"}), Some(v1))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers.get("etag").unwrap(), &format!("\"{}\"", v1 + 1));
    // Another tab still holds v1.
    let stale = app
        .put_step("eva", "welcome", &json!({"full_name": "Eve"}), Some(v1))
        .await;
    assert_problem(&stale, 412, "stale_version");
    assert_eq!(stale.body["current_version"], v1 + 1);
    assert_eq!(
        app.get("/api/onboarding/status", "eva").await.body["draft"]["welcome"]["full_name"],
        "Eva"
    );
    let bad = app
        .send(
            Method::PUT,
            "/api/onboarding/steps/welcome",
            Some("eva"),
            Some(&json!({})),
            &[("if-match", "latest")],
        )
        .await;
    assert_problem(&bad, 400, "bad_request");
}

async fn idempotency_key_replays_the_first_response(app: TestApp) {
    app.fill_wizard("ines", "Acme").await;
    let headers = [("idempotency-key", "key-1")];
    let first = app
        .send(
            Method::POST,
            "/api/onboarding/complete",
            Some("ines"),
            None,
            &headers,
        )
        .await;
    assert_eq!(first.status, 201);
    let second = app
        .send(
            Method::POST,
            "/api/onboarding/complete",
            Some("ines"),
            None,
            &headers,
        )
        .await;
    assert_eq!(second.status, 201);
    assert_eq!(second.body, first.body);
    // A retry replays before it is read further: a malformed If-Match or locale is not a 400.
    let malformed = [
        (
            "/api/onboarding/complete",
            vec![headers[0], ("if-match", "latest")],
        ),
        ("/api/onboarding/complete?locale=xx", vec![headers[0]]),
    ];
    for (path, with) in malformed {
        let third = app
            .send(Method::POST, path, Some("ines"), None, &with)
            .await;
        assert_eq!(
            (third.status, &third.body),
            (201, &first.body),
            "{path} {with:?}"
        );
    }
    // Another key has nothing to replay: the malformed header is the answer.
    let other = app
        .send(
            Method::POST,
            "/api/onboarding/complete",
            Some("ines"),
            None,
            &[("idempotency-key", "key-2"), ("if-match", "latest")],
        )
        .await;
    assert_problem(&other, 400, "bad_request");
    assert_eq!(app.count("organizations").await, 1);
}

async fn taken_slugs_get_a_suffix(app: TestApp) {
    let mut slugs = Vec::new();
    for user in ["u1", "u2", "u3"] {
        app.fill_wizard(user, "Café Niño & Co.").await;
        let r = app.post("/api/onboarding/complete", user, None).await;
        assert_eq!(r.status, 201, "{}", r.body);
        slugs.push(r.body["organization"]["slug"].as_str().unwrap().to_owned());
    }
    assert_eq!(slugs, ["cafe-nino-co", "cafe-nino-co-2", "cafe-nino-co-3"]);
}

async fn concurrent_completes_create_one_organization(app: TestApp) {
    app.fill_wizard("race", "Race Inc").await;
    let requests = (0..20).map(|_| app.post("/api/onboarding/complete", "race", None));
    let replies = futures::future::join_all(requests).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, r.body.clone()))
            .collect::<Vec<_>>()
    );
    let id = &replies.iter().find(|r| r.status == 201).unwrap().body["organization"]["id"];
    for r in &replies {
        assert!(
            r.status == 201 || r.status == 200,
            "{} {}",
            r.status,
            r.body
        );
        assert_eq!(&r.body["organization"]["id"], id);
    }
    assert_eq!(app.count("organizations").await, 1);
    assert_eq!(app.count("memberships").await, 1);
    assert_eq!(app.count("objectives").await, 2);
}

async fn bad_input_is_a_clear_4xx_and_changes_nothing(app: TestApp) {
    app.post("/api/onboarding/start", "bad", None).await;
    let before = app.get("/api/onboarding/status", "bad").await.body["version"]
        .as_i64()
        .unwrap();
    let url = format!("{}/api/onboarding/steps/welcome", app.base);
    let token = app.token("bad");
    let raw = |body: Vec<u8>, content_type: &'static str| {
        let req = app
            .http
            .put(&url)
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body);
        async move { reply(req.send().await.unwrap()).await }
    };
    assert_problem(
        &raw(b"{not json".to_vec(), "application/json").await,
        400,
        "bad_request",
    );
    assert_problem(
        &raw(
            b"{\"full_name\": \"\xff\xfe\"}".to_vec(),
            "application/json",
        )
        .await,
        400,
        "bad_request",
    );
    assert_problem(
        &raw(b"{}".to_vec(), "text/plain").await,
        415,
        "unsupported_media_type",
    );
    let big = format!("{{\"full_name\": \"{}\"}}", "x".repeat(300 * 1024));
    assert_problem(
        &raw(big.into_bytes(), "application/json").await,
        413,
        "payload_too_large",
    );
    let nested = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_problem(
        &raw(nested.into_bytes(), "application/json").await,
        400,
        "bad_request",
    );
    let r = app.put_step("bad", "payment", &json!({}), None).await;
    assert_problem(&r, 404, "not_found");
    let r = app
        .send(
            Method::POST,
            "/api/onboarding/start",
            Some("bad"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    let r = reply(
        app.http
            .post(format!("{}/api/onboarding/start", app.base))
            .bearer_auth(&token)
            .body("{\"restart\": \"yes\"}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&r, 400, "bad_request");
    // A JSON `null` body is no body: the open session is resumed.
    let r = reply(
        app.http
            .post(format!("{}/api/onboarding/start", app.base))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("null")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.get("/api/onboarding/status", "bad").await.body["version"]
            .as_i64()
            .unwrap(),
        before
    );
    assert_eq!(app.count("onboarding_events").await, 1);
    // Without a session there is nothing to save or complete.
    let r = app.put_step("nobody", "welcome", &json!({}), None).await;
    assert_problem(&r, 409, "conflict");
    let r = app.post("/api/onboarding/complete", "nobody", None).await;
    assert_problem(&r, 409, "conflict");
}

async fn restart_abandons_the_open_session(app: TestApp) {
    let first = app.post("/api/onboarding/start", "rita", None).await;
    let second = app
        .post(
            "/api/onboarding/start",
            "rita",
            Some(&json!({"restart": true})),
        )
        .await;
    assert_eq!(second.status, 201);
    assert_ne!(first.body["session_id"], second.body["session_id"]);
    use sqlx::Row;
    let rows = sqlx::query("select status from onboarding_sessions order by created_at")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    let statuses: Vec<String> = rows.iter().map(|r| r.get("status")).collect();
    assert!(
        statuses.contains(&"abandoned".to_owned()) && statuses.contains(&"in_progress".to_owned()),
        "{statuses:?}"
    );
}

async fn openapi_documents_every_route(app: TestApp) {
    let spec: serde_json::Value =
        serde_json::from_str(&app.text("/api/openapi.json").await).unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    let mut operations = Vec::new();
    for (path, item) in paths {
        for method in item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| ["get", "post", "put", "delete", "patch"].contains(&k.as_str()))
        {
            operations.push((method.to_uppercase(), path.clone()));
        }
    }
    // Every route the server has is documented (the router and the document are built together)...
    for expected in [
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/api/onboarding/steps"),
        ("GET", "/api/onboarding/schema"),
        ("POST", "/api/onboarding/validate"),
        ("POST", "/api/dev/token"),
        ("GET", "/api/onboarding/status"),
        ("POST", "/api/onboarding/start"),
        ("PUT", "/api/onboarding/steps/{step}"),
        ("POST", "/api/onboarding/complete"),
        ("GET", "/api/organizations/{id}"),
        ("GET", "/api/organizations/{id}/objectives"),
        ("GET", "/api/organizations/{id}/members"),
        ("GET", "/api/organizations/{id}/invitations"),
        ("POST", "/api/organizations/{id}/invitations"),
        ("DELETE", "/api/organizations/{id}/invitations/{invitation}"),
        (
            "POST",
            "/api/organizations/{id}/invitations/{invitation}/resend",
        ),
        ("PATCH", "/api/organizations/{id}/members/{user}"),
        ("DELETE", "/api/organizations/{id}/members/{user}"),
        ("GET", "/api/dev/outbox"),
        ("GET", "/api/admin/outbox"),
        ("POST", "/api/invitations/accept"),
        ("POST", "/api/invitations/preview"),
        ("GET", "/api/organizations/{id}/domains"),
        ("POST", "/api/organizations/{id}/domains"),
        ("DELETE", "/api/organizations/{id}/domains/{domain}"),
        ("POST", "/api/organizations/{id}/domains/{domain}/verify"),
        ("PATCH", "/api/organizations/{id}/domains/{domain}"),
        ("GET", "/api/onboarding/organizations-to-join"),
        ("GET", "/api/onboarding/suggestions"),
        ("POST", "/api/onboarding/suggestions/{id}/feedback"),
        ("GET", "/api/admin/onboarding/funnel"),
    ] {
        assert!(
            operations.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not documented"
        );
    }
    assert_eq!(operations.len(), 33, "{operations:?}");
    // ...with its bodies typed: every reference resolves, every JSON answer has a schema that is
    // not an untyped object, and every refusal is a problem+json `Problem`...
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let text = spec.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(schemas.contains_key(name), "unresolved reference to {name}");
    }
    for (method, path) in &operations {
        let op = &spec["paths"][path][method.to_lowercase()];
        let responses = op["responses"].as_object().unwrap();
        for (status, response) in responses {
            let content = &response["content"];
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            } else if let Some(json) = content.get("application/json") {
                assert_ne!(json["schema"], json!({}), "{method} {path} {status}");
                assert_ne!(
                    json["schema"],
                    json!({"type": "object"}),
                    "{method} {path} {status}"
                );
            }
        }
        let needs = |code: &str| responses.contains_key(code);
        if op.get("security").is_some() {
            assert!(needs("401"), "{method} {path} 401");
        }
        if op.get("requestBody").is_some() {
            assert!(
                needs("400") && needs("413") && needs("415"),
                "{method} {path}"
            );
        }
        if method != "GET" {
            assert!(needs("429"), "{method} {path} 429");
        }
    }
    // ...and every documented operation is served (never the router's "no such route").
    for (method, path) in operations {
        let url = format!(
            "{}{}",
            app.base,
            path.replace("{step}", "welcome")
                .replace("{id}", "x")
                .replace("{invitation}", "y")
                .replace("{user}", "z")
        );
        let req = app
            .http
            .request(method.parse().unwrap(), url)
            .bearer_auth(app.token("doc"))
            .json(&json!({}));
        let r = crate::helpers::reply(req.send().await.unwrap()).await;
        assert_ne!(r.status, 405, "{method} {path}");
        assert_ne!(
            r.body.get("detail").and_then(|d| d.as_str()),
            Some("no such route"),
            "{method} {path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_get_a_503_problem_not_a_hang() {
    let timeout = std::time::Duration::from_millis(300);
    let app = crate::helpers::spawn_app_with_timeout(crate::helpers::Engine::Sqlite, timeout)
        .await
        .unwrap();
    app.post("/api/onboarding/start", "slow", None).await;
    // Another writer holds SQLite's write lock: the save waits on it, and the request timeout
    // answers first, with a problem and Retry-After.
    let mut blocker = app.pool.acquire().await.unwrap();
    sqlx::query("begin immediate")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let r = app
        .put_step("slow", "welcome", &json!({"full_name": "Sol"}), None)
        .await;
    let waited = started.elapsed();
    sqlx::query("commit").execute(&mut *blocker).await.unwrap();
    assert_problem(&r, 503, "timeout");
    assert_eq!(r.headers.get("retry-after").unwrap(), "2");
    assert!(waited < std::time::Duration::from_secs(3), "{waited:?}");
    // Nothing was half-written, and the next save goes through.
    let status = app.get("/api/onboarding/status", "slow").await;
    assert_eq!(status.body["version"], 1);
    assert_eq!(
        app.put_step("slow", "welcome", &json!({"full_name": "Sol"}), None)
            .await
            .status,
        200
    );
}

async fn concurrent_saves_without_if_match_lose_no_step(app: TestApp) {
    app.post("/api/onboarding/start", "tabs", None).await;
    let wizard = valid_wizard();
    let steps = onboarding_core::StepId::ALL.map(onboarding_core::StepId::name);
    let saves = (0..24).map(|i| {
        let step = steps[i % steps.len()];
        let data = wizard[step].clone();
        let app = &app;
        async move { app.put_step("tabs", step, &data, None).await }
    });
    let replies = futures::future::join_all(saves).await;
    assert!(
        replies.iter().all(|r| r.status == 200),
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, r.body.clone()))
            .collect::<Vec<_>>()
    );
    let status = app.get("/api/onboarding/status", "tabs").await;
    assert_eq!(status.body["completion_percent"], 100, "{}", status.body);
    assert_eq!(status.body["version"], 25);
    for step in steps {
        assert_eq!(status.body["draft"][step], wizard[step], "{step}");
    }
}

/// base64url without padding (test tokens built by hand).
fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
