//! The invitation lifecycle: created at completion or by owners and admins, each with an e-mail
//! in the outbox that carries the only copy of its token; accepted once by the invitee (and only
//! the invitee), revoked, resent, expired, each refusal with its own code; members' roles changed
//! by owners, never leaving an organization without one.

use crate::helpers::{assert_problem, reply, spawn_app_with, Engine, Reply, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::Row;
use std::time::Duration;

crate::both_engines!(
    completion_invitations_are_single_use_and_for_the_invitee_only,
    owners_and_admins_invite_revoke_and_resend,
    expired_invitations_are_refused_and_can_be_sent_again,
    owners_change_roles_and_an_owner_always_remains,
    two_owners_demoting_each_other_at_once_leave_one,
    unverified_and_lookalike_addresses_cannot_accept,
    the_token_holder_sees_what_the_invitation_is_for_before_sign_in,
);
crate::each_engine!(
    an_organization_sends_at_most_its_daily_cap,
    a_user_sends_at_most_the_cap_across_completions_and_organizations,
);

pub async fn send_as(
    app: &TestApp,
    method: Method,
    user: &str,
    email: &str,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let token = app.keys.mint(user, email, 600).unwrap();
    let mut req = app
        .http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    reply(req.send().await.unwrap()).await
}

async fn accept(app: &TestApp, user: &str, email: &str, token: &str) -> Reply {
    send_as(
        app,
        Method::POST,
        user,
        email,
        "/api/invitations/accept",
        Some(json!({ "token": token })),
    )
    .await
}

/// The token in the newest pending e-mail to `to` (read from the outbox as the mail worker
/// would), or `None` when no message waits.
pub async fn mailed_token(app: &TestApp, to: &str) -> Option<String> {
    let row = sqlx::query("select body from mail_outbox where recipient = $1 and state = 'pending' order by created_at desc, id limit 1")
        .bind(to)
        .fetch_optional(&app.pool)
        .await
        .unwrap()?;
    let body: String = row.get("body");
    token_in(&body)
}

/// The token of the accept link in a message body.
pub fn token_in(body: &str) -> Option<String> {
    let at = body.find("/invitations/accept#token=")? + "/invitations/accept#token=".len();
    Some(body[at..at + 64].to_owned())
}

pub async fn completed_org(app: &TestApp, user: &str, name: &str) -> String {
    app.fill_wizard(user, name).await;
    let done = app.post("/api/onboarding/complete", user, None).await;
    assert_eq!(done.status, 201, "{}", done.body);
    done.body["organization"]["id"].as_str().unwrap().to_owned()
}

fn find<'a>(list: &'a Value, email: &str) -> &'a Value {
    list["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == email)
        .unwrap_or_else(|| panic!("no invitation for {email} in {list}"))
}

async fn completion_invitations_are_single_use_and_for_the_invitee_only(app: TestApp) {
    let org = completed_org(&app, "alice", "Alice Co").await;
    let list = app
        .get(&format!("/api/organizations/{org}/invitations"), "alice")
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["invitations"].as_array().unwrap().len(), 2);
    let luis = find(&list.body, "luis@cafenino.mx");
    assert_eq!(luis["state"], "pending");
    assert_eq!(luis["role"], "member");
    assert_eq!(luis["invited_by"], "alice");
    assert_eq!(luis["delivery"], "queued");
    assert_eq!(
        luis["expires_at"].as_i64().unwrap() - luis["created_at"].as_i64().unwrap(),
        7 * 86_400_000
    );
    assert!(luis.get("token").is_none() && luis.get("token_hash").is_none());
    // Non-members do not learn the organization exists.
    assert_problem(
        &app.get(&format!("/api/organizations/{org}/invitations"), "mallory")
            .await,
        404,
        "not_found",
    );

    // The e-mail (in the organization's language, naming the inviter) carries the token; the
    // database holds only its hash.
    let row =
        sqlx::query("select subject, body from mail_outbox where recipient = 'luis@cafenino.mx'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let (subject, body): (String, String) = (row.get("subject"), row.get("body"));
    assert_eq!(
        subject,
        "alice@example.com te invita a la organización «Alice Co»"
    );
    assert!(
        body.contains("(alice@example.com) te ha invitado a unirte a la organización «Alice Co»"),
        "{body}"
    );
    let token = token_in(&body).unwrap();
    // Messages still waiting are never purged, however old.
    let later = app.clock.now_ms() + 365 * 86_400_000;
    assert_eq!(app.store.purge_outbox(later, 86_400_000).await.unwrap(), 0);
    let hashes: i64 = sqlx::query("select count(*) as n from invitations where token_hash = $1")
        .bind(&token)
        .fetch_one(&app.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(hashes, 0, "the raw token is not stored as a hash");

    // Someone else's address cannot use it; a malformed token is a 400; an unknown one a 404.
    assert_problem(
        &accept(&app, "mallory", "mallory@x.com", &token).await,
        403,
        "invitation_for_another_address",
    );
    assert_problem(
        &accept(&app, "luis", "luis@cafenino.mx", "zz").await,
        400,
        "bad_request",
    );
    assert_problem(
        &accept(&app, "luis", "luis@cafenino.mx", &"ab".repeat(32)).await,
        404,
        "not_found",
    );
    // The invitee joins (the address compared case-insensitively), once, in the invited role.
    let r = accept(&app, "luis", "LUIS@cafenino.mx", &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["organization_id"], org.as_str());
    assert_eq!(r.body["role"], "member");
    assert_problem(
        &accept(&app, "luis", "luis@cafenino.mx", &token).await,
        409,
        "invitation_used",
    );
    let members = app
        .get(&format!("/api/organizations/{org}/members"), "luis")
        .await;
    assert_eq!(members.status, 200);
    assert_eq!(members.body["members"].as_array().unwrap().len(), 2);
    // A plain member sees members but does not manage invitations.
    assert_problem(
        &app.get(&format!("/api/organizations/{org}/invitations"), "luis")
            .await,
        403,
        "forbidden",
    );
    let list = app
        .get(&format!("/api/organizations/{org}/invitations"), "alice")
        .await;
    let luis = find(&list.body, "luis@cafenino.mx");
    assert_eq!(luis["state"], "accepted");
    assert!(luis["accepted_at"].is_i64());
}

async fn owners_and_admins_invite_revoke_and_resend(app: TestApp) {
    let org = completed_org(&app, "alice", "Alice Co").await;
    let path = format!("/api/organizations/{org}/invitations");
    let invite = |user: &'static str, body: Value| {
        let (app, path) = (&app, path.clone());
        async move {
            send_as(
                app,
                Method::POST,
                user,
                &format!("{user}@example.com"),
                &path,
                Some(body),
            )
            .await
        }
    };
    // The wizard's e-mail rules, reported under `emails`.
    let r = invite(
        "alice",
        json!({"emails": ["ana@x.com", "Ana@X.com", "alice@example.com", "nope"]}),
    )
    .await;
    assert_problem(&r, 422, "validation_failed");
    let codes: Vec<(String, String)> = r.body["report"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap().to_owned(),
                i["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("emails[1]".to_owned(), "duplicate_item".to_owned()),
            ("emails[2]".to_owned(), "cannot_invite_self".to_owned()),
            ("emails[3]".to_owned(), "invalid_email".to_owned()),
        ],
        "{}",
        r.body
    );
    assert_problem(
        &invite("alice", json!({"emails": []})).await,
        400,
        "bad_request",
    );
    let many: Vec<String> = (0..51).map(|i| format!("p{i}@x.com")).collect();
    assert_problem(
        &invite("alice", json!({ "emails": many })).await,
        422,
        "validation_failed",
    );
    assert_problem(
        &invite("alice", json!({"emails": ["a@x.com"], "role": "owner"})).await,
        400,
        "bad_request",
    );
    assert_eq!(
        invite("alice", json!({"emails": ["a@x.com"], "role": "boss"}))
            .await
            .status,
        400
    );
    // Non-members 404, members 403.
    assert_problem(
        &invite("mallory", json!({"emails": ["a@x.com"]})).await,
        404,
        "not_found",
    );

    let r = invite(
        "alice",
        json!({"emails": [" Ana@X.com ", "bo@x.com"], "role": "admin"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.body["invitations"].as_array().unwrap();
    assert_eq!(created.len(), 2);
    assert_eq!(created[0]["email"], "ana@x.com");
    assert_eq!(created[0]["role"], "admin");
    assert_eq!(created[0]["state"], "pending");
    assert_eq!(created[0]["delivery"], "queued");
    // At most one pending invitation per address, all or nothing.
    let before = app.count("invitations").await;
    let r = invite("alice", json!({"emails": ["new@x.com", "ana@x.com"]})).await;
    assert_problem(&r, 409, "already_invited");
    assert!(r.body["detail"].as_str().unwrap().contains("ana@x.com"));
    assert_eq!(app.count("invitations").await, before);

    // Ana accepts as admin; an admin invites too, but does not change members.
    let ana_token = mailed_token(&app, "ana@x.com").await.unwrap();
    let r = accept(&app, "ana", "ana@x.com", &ana_token).await;
    assert_eq!(r.body["role"], "admin", "{}", r.body);
    let r = send_as(
        &app,
        Method::POST,
        "ana",
        "ana@x.com",
        &path,
        Some(json!({"emails": ["cy@x.com"]})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = send_as(
        &app,
        Method::PATCH,
        "ana",
        "ana@x.com",
        &format!("/api/organizations/{org}/members/alice"),
        Some(json!({"role": "member"})),
    )
    .await;
    assert_problem(&r, 403, "forbidden");

    // Revoke: the link stops working at once and the unsent e-mail is cancelled (its body, with
    // the token, cleared).
    let list = app.get(&path, "alice").await;
    let bo = find(&list.body, "bo@x.com")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bo_token = mailed_token(&app, "bo@x.com").await.unwrap();
    let r = send_as(
        &app,
        Method::DELETE,
        "alice",
        "alice@example.com",
        &format!("{path}/{bo}"),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["invitation"]["state"], "revoked");
    assert_eq!(r.body["invitation"]["delivery"], "cancelled");
    let bodies: i64 = sqlx::query(
        "select count(*) as n from mail_outbox where recipient = 'bo@x.com' and body is not null",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
    .get("n");
    assert_eq!(bodies, 0);
    assert_problem(
        &accept(&app, "bo", "bo@x.com", &bo_token).await,
        410,
        "invitation_revoked",
    );
    let again = send_as(
        &app,
        Method::DELETE,
        "alice",
        "alice@example.com",
        &format!("{path}/{bo}"),
        None,
    )
    .await;
    assert_problem(&again, 409, "invitation_not_pending");
    assert_problem(
        &app.post(&format!("{path}/{bo}/resend"), "alice", None)
            .await,
        409,
        "invitation_not_pending",
    );
    // A revoked address may be invited again.
    let r = invite("alice", json!({"emails": ["bo@x.com"]})).await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Resend: a fresh token; only the new link works.
    let cy = find(&app.get(&path, "alice").await.body, "cy@x.com")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = mailed_token(&app, "cy@x.com").await.unwrap();
    let r = app
        .post(&format!("{path}/{cy}/resend"), "alice", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["invitation"]["state"], "pending");
    let second = mailed_token(&app, "cy@x.com").await.unwrap();
    assert_ne!(first, second);
    let pending: i64 = sqlx::query(
        "select count(*) as n from mail_outbox where recipient = 'cy@x.com' and state = 'pending'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
    .get("n");
    assert_eq!(pending, 1, "the first e-mail is cancelled");
    assert_problem(
        &accept(&app, "cy", "cy@x.com", &first).await,
        404,
        "not_found",
    );
    assert_eq!(accept(&app, "cy", "cy@x.com", &second).await.status, 200);
    // Another organization's owner cannot touch this one's invitations.
    let other = completed_org(&app, "zed", "Zed Co").await;
    let r = send_as(
        &app,
        Method::DELETE,
        "zed",
        "zed@example.com",
        &format!("/api/organizations/{other}/invitations/{cy}"),
        None,
    )
    .await;
    assert_problem(&r, 404, "not_found");
}

async fn expired_invitations_are_refused_and_can_be_sent_again(app: TestApp) {
    let org = completed_org(&app, "alice", "Alice Co").await;
    let path = format!("/api/organizations/{org}/invitations");
    let luis_token = mailed_token(&app, "luis@cafenino.mx").await.unwrap();
    app.clock.advance(Duration::from_secs(7 * 86_400 + 1));
    assert_problem(
        &accept(&app, "luis", "luis@cafenino.mx", &luis_token).await,
        410,
        "invitation_expired",
    );
    let list = app.get(&path, "alice").await;
    let luis = find(&list.body, "luis@cafenino.mx");
    assert_eq!(luis["state"], "expired");
    // Inviting the address again replaces the expired invitation...
    let r = app
        .post(
            &path,
            "alice",
            Some(&json!({"emails": ["luis@cafenino.mx"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fresh = mailed_token(&app, "luis@cafenino.mx").await.unwrap();
    assert_eq!(
        accept(&app, "luis", "luis@cafenino.mx", &fresh)
            .await
            .status,
        200
    );
    // ...and resending one gives it a new expiry.
    let marta = find(&list.body, "marta@cafenino.mx")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .post(&format!("{path}/{marta}/resend"), "alice", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["invitation"]["state"], "pending");
    let token = mailed_token(&app, "marta@cafenino.mx").await.unwrap();
    let r = accept(&app, "marta", "marta@cafenino.mx", &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn owners_change_roles_and_an_owner_always_remains(app: TestApp) {
    let org = completed_org(&app, "alice", "Alice Co").await;
    let token = mailed_token(&app, "luis@cafenino.mx").await.unwrap();
    assert_eq!(
        accept(&app, "luis", "luis@cafenino.mx", &token)
            .await
            .status,
        200
    );
    let member = |user: &str| format!("/api/organizations/{org}/members/{user}");
    let patch = |as_user: &'static str, target: &str, role: &str| {
        let (app, path, body) = (&app, member(target), json!({ "role": role }));
        async move {
            app.send(Method::PATCH, &path, Some(as_user), Some(&body), &[])
                .await
        }
    };
    let delete = |as_user: &'static str, target: &str| {
        let (app, path) = (&app, member(target));
        async move {
            app.send(Method::DELETE, &path, Some(as_user), None, &[])
                .await
        }
    };
    // Members change nothing; owners cannot leave the organization ownerless.
    assert_problem(&patch("luis", "luis", "owner").await, 403, "forbidden");
    assert_problem(&delete("luis", "alice").await, 403, "forbidden");
    assert_problem(&patch("mallory", "luis", "admin").await, 404, "not_found");
    assert_problem(&patch("alice", "alice", "member").await, 409, "last_owner");
    assert_problem(&delete("alice", "alice").await, 409, "last_owner");
    assert_problem(&patch("alice", "nobody", "admin").await, 404, "not_found");
    assert_eq!(patch("alice", "luis", "boss").await.status, 400);
    // Two owners: either may step down.
    let r = patch("alice", "luis", "owner").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["role"] == "owner"));
    assert_eq!(patch("alice", "alice", "admin").await.status, 200);
    assert_problem(&patch("alice", "luis", "member").await, 403, "forbidden");
    let r = delete("luis", "alice").await;
    assert_eq!(r.status, 204);
    assert_problem(
        &app.get(&format!("/api/organizations/{org}"), "alice").await,
        404,
        "not_found",
    );
    assert_problem(&delete("luis", "luis").await, 409, "last_owner");
}

async fn two_owners_demoting_each_other_at_once_leave_one(app: TestApp) {
    let org = completed_org(&app, "alice", "Alice Co").await;
    let token = mailed_token(&app, "luis@cafenino.mx").await.unwrap();
    assert_eq!(
        accept(&app, "luis", "luis@cafenino.mx", &token)
            .await
            .status,
        200
    );
    let member = |user: &str| format!("/api/organizations/{org}/members/{user}");
    let body = json!({"role": "member"});
    for _ in 0..5 {
        // Both owners again: the one who remained promotes the other.
        let owner: String = sqlx::query(
            "select user_id from memberships where organization_id = $1 and role = 'owner'",
        )
        .bind(&org)
        .fetch_one(&app.pool)
        .await
        .unwrap()
        .get("user_id");
        let other = if owner == "alice" { "luis" } else { "alice" };
        let r = app
            .send(
                Method::PATCH,
                &member(other),
                Some(&owner),
                Some(&json!({"role": "owner"})),
                &[],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let (luis, alice) = (member("luis"), member("alice"));
        let (a, b) = tokio::join!(
            app.send(Method::PATCH, &luis, Some("alice"), Some(&body), &[]),
            app.send(Method::PATCH, &alice, Some("luis"), Some(&body), &[]),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        // One wins; the other is refused: as last owner, or (demoted first) as no longer owner.
        assert!(
            statuses == [200, 403] || statuses == [200, 409],
            "{statuses:?}: {} / {}",
            a.body,
            b.body
        );
        let owners: i64 = sqlx::query(
            "select count(*) as n from memberships where organization_id = $1 and role = 'owner'",
        )
        .bind(&org)
        .fetch_one(&app.pool)
        .await
        .unwrap()
        .get("n");
        assert_eq!(owners, 1);
    }
}

/// An owner cannot turn the server into a mail cannon: new and resent invitation e-mails of an
/// organization are capped per 24 hours (`INVITATIONS_PER_DAY`), with a 429 and `Retry-After`.
async fn an_organization_sends_at_most_its_daily_cap(engine: Engine) {
    let Some(app) = spawn_app_with(engine, |s| s.invitations_per_day = 5).await else {
        return;
    };
    // The completion's two e-mails count.
    let org = completed_org(&app, "alice", "Alice Co").await;
    let path = format!("/api/organizations/{org}/invitations");
    let r = app
        .post(
            &path,
            "alice",
            Some(&json!({"emails": ["a@x.com", "b@x.com", "c@x.com"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let before = app.count("invitations").await;
    let r = app
        .post(&path, "alice", Some(&json!({"emails": ["d@x.com"]})))
        .await;
    assert_problem(&r, 429, "rate_limited");
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((86_000..=86_400).contains(&wait), "{wait}");
    let a = find(&app.get(&path, "alice").await.body, "a@x.com")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        &app.post(&format!("{path}/{a}/resend"), "alice", None).await,
        429,
        "rate_limited",
    );
    assert_eq!(
        app.count("invitations").await,
        before,
        "nothing was created"
    );
    // A day later the window has moved on.
    app.clock.advance(Duration::from_secs(86_401));
    let r = app
        .post(&path, "alice", Some(&json!({"emails": ["d@x.com"]})))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// A token with exactly these claims (HS256 with the tests' secret).
pub fn token_with(claims: Value) -> String {
    let now = onboarding_server::now_ms() / 1000;
    let mut all = json!({"exp": now + 600});
    all.as_object_mut()
        .unwrap()
        .extend(claims.as_object().unwrap().clone());
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &all,
        &jsonwebtoken::EncodingKey::from_secret(crate::helpers::SECRET.as_bytes()),
    )
    .unwrap()
}

async fn accept_with(app: &TestApp, jwt: &str, token: &str) -> Reply {
    reply(
        app.http
            .post(format!("{}/api/invitations/accept", app.base))
            .bearer_auth(jwt)
            .json(&json!({ "token": token }))
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Hardening II, items 5 and 6: an address the token says is unverified is not trusted
/// (`email_unverified`, and the self-invitation check does not use it); an address is compared
/// as the rules normalize it, so `İvan@…` (whose Unicode lower case is `i̇van@…`, and which
/// PostgreSQL's `lower()` folded) is not `ivan@…`.
async fn unverified_and_lookalike_addresses_cannot_accept(app: TestApp) {
    let org = completed_org(&app, "alice", "Alice Co").await;
    let path = format!("/api/organizations/{org}/invitations");
    let r = app
        .post(&path, "alice", Some(&json!({"emails": ["ivan@x.com"]})))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let luis = mailed_token(&app, "luis@cafenino.mx").await.unwrap();
    let ivan = mailed_token(&app, "ivan@x.com").await.unwrap();
    let members = app.count("memberships").await;

    for verified in [json!(false), json!("false"), json!(null)] {
        let jwt = token_with(
            json!({"sub": "luis", "email": "luis@cafenino.mx", "email_verified": verified}),
        );
        let r = accept_with(&app, &jwt, &luis).await;
        assert_problem(&r, 403, "email_unverified");
    }
    // The self-invitation check does not take an unverified address as the user's.
    let jwt = token_with(json!({"sub": "eve", "email": "boss@acme.com", "email_verified": false}));
    let r = reply(
        app.http
            .post(format!("{}/api/onboarding/validate?step=review", app.base))
            .bearer_auth(&jwt)
            .json(&json!({"confirmed": true, "terms_accepted": true, "invite_emails": ["boss@acme.com"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        !r.body.to_string().contains("cannot_invite_self"),
        "{}",
        r.body
    );

    for lookalike in [
        "İvan@x.com",
        "ıvan@x.com",
        "ivan@x.com\u{200b}",
        "ＩＶＡＮ@x.com",
    ] {
        let jwt = token_with(json!({"sub": "ivan", "email": lookalike}));
        let r = accept_with(&app, &jwt, &ivan).await;
        assert_problem(&r, 403, "invitation_for_another_address");
    }
    assert_eq!(app.count("memberships").await, members, "nobody joined");

    // The real invitees, verified (or with no such claim), join; ASCII case still folds.
    let jwt = token_with(json!({"sub": "ivan", "email": "IVAN@x.com"}));
    assert_eq!(accept_with(&app, &jwt, &ivan).await.status, 200);
    let jwt =
        token_with(json!({"sub": "luis", "email": "luis@cafenino.mx", "email_verified": true}));
    assert_eq!(accept_with(&app, &jwt, &luis).await.status, 200);
}

/// Hardening II, item 7: a user's invitation e-mails are capped per 24 hours across every
/// organization (`INVITATIONS_PER_USER_PER_DAY`), the completion's included: restarting and
/// completing again founds a new organization but not a fresh allowance. Over a cap the
/// request is a 429 and nothing is written.
async fn a_user_sends_at_most_the_cap_across_completions_and_organizations(engine: Engine) {
    let Some(app) = spawn_app_with(engine, |s| {
        s.invitations_per_day = 3;
        s.invitations_per_user_per_day = 3;
    })
    .await
    else {
        return;
    };
    // One completion with more invitees than an organization may send: refused, nothing kept.
    let mut wizard = crate::helpers::valid_wizard();
    wizard["review"]["invite_emails"] = json!(["a@x.com", "b@x.com", "c@x.com", "d@x.com"]);
    app.fill_wizard_with("bob", &wizard).await;
    let r = app.post("/api/onboarding/complete", "bob", None).await;
    assert_problem(&r, 429, "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
    assert_eq!(app.count("organizations").await, 0);
    assert_eq!(app.count("mail_outbox").await, 0);
    assert_eq!(app.count("invitations").await, 0);

    // Alice completes with two invitees, then restarts and completes again with two more: the
    // second organization's e-mails would make four.
    let first = completed_org(&app, "alice", "Alice Co").await;
    assert_eq!(app.count("mail_outbox").await, 2);
    let mut again = crate::helpers::valid_wizard();
    again["company"]["company_name"] = json!("Alice Two");
    again["review"]["invite_emails"] = json!(["e@x.com", "f@x.com"]);
    app.fill_wizard_with("alice", &again).await;
    let r = app.post("/api/onboarding/complete", "alice", None).await;
    assert_problem(&r, 429, "rate_limited");
    assert_eq!(
        app.count("organizations").await,
        1,
        "no second organization"
    );
    assert_eq!(app.count("mail_outbox").await, 2);
    // One more fits (three in all), then none, in either organization.
    let path = format!("/api/organizations/{first}/invitations");
    let r = app
        .post(&path, "alice", Some(&json!({"emails": ["g@x.com"]})))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post(&path, "alice", Some(&json!({"emails": ["h@x.com"]})))
        .await;
    assert_problem(&r, 429, "rate_limited");
    assert_eq!(app.count("mail_outbox").await, 3);
    // A day later the window has moved on: the second completion goes through.
    app.clock.advance(Duration::from_secs(86_401));
    let r = app.post("/api/onboarding/complete", "alice", None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(app.count("mail_outbox").await, 5);
}

async fn preview(app: &TestApp, token: &str) -> Reply {
    let req = app
        .http
        .post(format!("{}/api/invitations/preview", app.base))
        .json(&json!({ "token": token }));
    reply(req.send().await.unwrap()).await
}

/// The landing page's question, without sign-in: the organization, who invited, and the
/// invitation's state; nothing for an unknown or malformed token.
async fn the_token_holder_sees_what_the_invitation_is_for_before_sign_in(app: TestApp) {
    let org = completed_org(&app, "alice", "Alice Co").await;
    let token = mailed_token(&app, "luis@cafenino.mx").await.unwrap();
    let seen = preview(&app, &token).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["organization"], "Alice Co");
    let inviter = seen.body["inviter"].as_str().unwrap();
    assert!(!inviter.is_empty(), "{}", seen.body);
    assert_eq!(seen.body["state"], "pending");
    assert!(seen.body.get("email").is_none() && seen.body.get("role").is_none());
    assert_problem(&preview(&app, &"0".repeat(64)).await, 404, "not_found");
    assert_problem(&preview(&app, "not-a-token").await, 400, "bad_request");
    // Revoked: the page can say so before anyone signs in.
    let list = app
        .get(&format!("/api/organizations/{org}/invitations"), "alice")
        .await;
    let id = find(&list.body, "luis@cafenino.mx")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = send_as(
        &app,
        Method::DELETE,
        "alice",
        "alice@cafenino.mx",
        &format!("/api/organizations/{org}/invitations/{id}"),
        None,
    )
    .await;
    assert!(revoked.status < 300, "{}", revoked.body);
    assert_eq!(preview(&app, &token).await.body["state"], "revoked");
}
