//! Invitations: members list them and issue tokens; the invitee (and only the invitee, once,
//! before expiry) accepts and becomes a member.

use crate::helpers::{assert_problem, reply, TestApp};
use serde_json::{json, Value};

crate::both_engines!(invitations_are_single_use_and_for_the_invitee_only);

async fn post_as(
    app: &TestApp,
    user: &str,
    email: &str,
    path: &str,
    body: Value,
) -> crate::helpers::Reply {
    let token = app.keys.mint(user, email, 600).unwrap();
    reply(
        app.http
            .post(format!("{}{path}", app.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn invitations_are_single_use_and_for_the_invitee_only(app: TestApp) {
    app.fill_wizard("alice", "Alice Co").await;
    let org = app
        .post("/api/onboarding/complete", "alice", None)
        .await
        .body["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = app
        .get(&format!("/api/organizations/{org}/invitations"), "alice")
        .await;
    let invites = list.body["invitations"].as_array().unwrap().clone();
    assert_eq!(invites.len(), 2);
    let luis = invites
        .iter()
        .find(|i| i["email"] == "luis@cafenino.mx")
        .unwrap();
    assert_eq!(luis["accepted_at"], Value::Null);
    let path = format!(
        "/api/organizations/{org}/invitations/{}/token",
        luis["id"].as_str().unwrap()
    );
    assert_problem(&app.post(&path, "mallory", None).await, 404, "not_found");
    let issued = app.post(&path, "alice", None).await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let token = issued.body["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);

    // Someone else's address cannot use it; a malformed token is a 400.
    let r = post_as(
        &app,
        "mallory",
        "mallory@x.com",
        "/api/invitations/accept",
        json!({"token": token}),
    )
    .await;
    assert_problem(&r, 404, "not_found");
    let r = post_as(
        &app,
        "luis",
        "luis@cafenino.mx",
        "/api/invitations/accept",
        json!({"token": "zz"}),
    )
    .await;
    assert_problem(&r, 400, "bad_request");
    // The invitee joins, once.
    let r = post_as(
        &app,
        "luis",
        "LUIS@cafenino.mx",
        "/api/invitations/accept",
        json!({"token": token}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["organization_id"], org.as_str());
    let r = post_as(
        &app,
        "luis",
        "luis@cafenino.mx",
        "/api/invitations/accept",
        json!({"token": token}),
    )
    .await;
    assert_problem(&r, 404, "not_found");
    let members = app
        .get(&format!("/api/organizations/{org}/members"), "luis")
        .await;
    assert_eq!(members.status, 200);
    assert_eq!(members.body["members"].as_array().unwrap().len(), 2);
    // A used invitation cannot be re-issued; a re-issued one invalidates the previous token.
    assert_problem(&app.post(&path, "alice", None).await, 404, "not_found");
    let marta = invites
        .iter()
        .find(|i| i["email"] == "marta@cafenino.mx")
        .unwrap();
    let marta_path = format!(
        "/api/organizations/{org}/invitations/{}/token",
        marta["id"].as_str().unwrap()
    );
    let first = app.post(&marta_path, "alice", None).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = app.post(&marta_path, "alice", None).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = post_as(
        &app,
        "marta",
        "marta@cafenino.mx",
        "/api/invitations/accept",
        json!({"token": first}),
    )
    .await;
    assert_problem(&r, 404, "not_found");
    let r = post_as(
        &app,
        "marta",
        "marta@cafenino.mx",
        "/api/invitations/accept",
        json!({"token": second}),
    )
    .await;
    assert_eq!(r.status, 200);
    // Expired invitations are refused.
    sqlx::query("update invitations set accepted_at = null, expires_at = 0")
        .execute(&app.store.pool)
        .await
        .unwrap();
    let r = post_as(
        &app,
        "luis",
        "luis@cafenino.mx",
        "/api/invitations/accept",
        json!({"token": token}),
    )
    .await;
    assert_problem(&r, 404, "not_found");
}
