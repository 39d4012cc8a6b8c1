//! An organization's e-mail domains (issue 36): owners and admins add and remove them, members
//! list them, others do not learn they exist; domains that can never be claimed are refused
//! with the rules' codes; a domain verified by one organization is refused to the next.

use crate::helpers::{assert_problem, TestApp};
use crate::invitations::{completed_org, mailed_token, send_as};
use reqwest::Method;
use serde_json::{json, Value};

crate::both_engines!(owners_add_list_and_remove_domains_and_the_rules_refuse_the_unclaimable);

async fn owners_add_list_and_remove_domains_and_the_rules_refuse_the_unclaimable(app: TestApp) {
    let org = completed_org(&app, "alice", "Alice Co").await;
    let domains = format!("/api/organizations/{org}/domains");
    let add = |user: &'static str, email: &'static str, body: Value| {
        let (app, domains) = (&app, domains.clone());
        async move { send_as(app, Method::POST, user, email, &domains, Some(body)).await }
    };

    // Added by an owner whose verified address is at it: verified by affiliation.
    let added = add(
        "alice",
        "alice@cafenino.mx",
        json!({ "domain": " CafeNino.MX. " }),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(added.body["domain"], "cafenino.mx");
    assert_eq!(added.body["mode"], "manual");
    assert!(
        added.body["affiliation_verified_at"].is_i64(),
        "{}",
        added.body
    );
    assert!(added.body["ownership_verified_at"].is_null());
    assert_eq!(added.body["ownership_token"].as_str().unwrap().len(), 32);
    assert_problem(
        &add(
            "alice",
            "alice@cafenino.mx",
            json!({ "domain": "cafenino.mx" }),
        )
        .await,
        409,
        "domain_exists",
    );

    // Never claimable, each with the rules' code and words.
    let refused = add(
        "alice",
        "alice@cafenino.mx",
        json!({ "domain": "gmail.com" }),
    )
    .await;
    assert_problem(&refused, 422, "personal_email_domain");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("correo personal"),
        "{}",
        refused.body
    );
    for (domain, code) in [
        ("com.br", "public_suffix_domain"),
        ("mailinator.com", "disposable_email_domain"),
        ("no es un dominio", "invalid_domain"),
        ("uol.com.br", "personal_email_domain"),
    ] {
        assert_problem(
            &add("alice", "alice@cafenino.mx", json!({ "domain": domain })).await,
            422,
            code,
        );
    }
    // Automatic suggestions need the adder's address at the domain.
    assert_problem(
        &add(
            "alice",
            "alice@cafenino.mx",
            json!({ "domain": "socios.mx", "mode": "automatic_suggestion" }),
        )
        .await,
        422,
        "domain_not_verified",
    );
    let unverified = add(
        "alice",
        "alice@cafenino.mx",
        json!({ "domain": "socios.mx" }),
    )
    .await;
    assert_eq!(unverified.status, 201, "{}", unverified.body);
    assert!(unverified.body["affiliation_verified_at"].is_null());

    // Members list them; non-members do not learn the organization exists.
    let list = send_as(
        &app,
        Method::GET,
        "alice",
        "alice@cafenino.mx",
        &domains,
        None,
    )
    .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let names: Vec<&str> = list.body["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["domain"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cafenino.mx", "socios.mx"]);
    assert_problem(
        &send_as(
            &app,
            Method::GET,
            "mallory",
            "mallory@evil.mx",
            &domains,
            None,
        )
        .await,
        404,
        "not_found",
    );
    assert_problem(
        &add(
            "mallory",
            "mallory@cafenino.mx",
            json!({ "domain": "evil.mx" }),
        )
        .await,
        404,
        "not_found",
    );

    // A plain member lists but does not change them.
    let token = mailed_token(&app, "luis@cafenino.mx").await.unwrap();
    let joined = send_as(
        &app,
        Method::POST,
        "luis",
        "luis@cafenino.mx",
        "/api/invitations/accept",
        Some(json!({ "token": token })),
    )
    .await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    assert_eq!(
        send_as(
            &app,
            Method::GET,
            "luis",
            "luis@cafenino.mx",
            &domains,
            None
        )
        .await
        .status,
        200
    );
    assert_problem(
        &add("luis", "luis@cafenino.mx", json!({ "domain": "luis.mx" })).await,
        403,
        "forbidden",
    );
    let remove = |user: &'static str, email: &'static str, domain: &'static str| {
        let path = format!("{domains}/{domain}");
        let app = &app;
        async move { send_as(app, Method::DELETE, user, email, &path, None).await }
    };
    assert_problem(
        &remove("luis", "luis@cafenino.mx", "socios.mx").await,
        403,
        "forbidden",
    );

    // Another organization cannot verify a domain verified here; an unverified claim blocks nobody.
    let other = completed_org(&app, "bruno", "Bruno Co").await;
    let theirs = format!("/api/organizations/{other}/domains");
    let taken = send_as(
        &app,
        Method::POST,
        "bruno",
        "bruno@cafenino.mx",
        &theirs,
        Some(json!({ "domain": "cafenino.mx" })),
    )
    .await;
    assert_problem(&taken, 409, "domain_taken");
    let shared = send_as(
        &app,
        Method::POST,
        "bruno",
        "bruno@socios.mx",
        &theirs,
        Some(json!({ "domain": "socios.mx" })),
    )
    .await;
    assert_eq!(shared.status, 201, "{}", shared.body);
    assert!(shared.body["affiliation_verified_at"].is_i64());
    // Bruno's organization does not see Alice's domains, nor Alice Bruno's.
    assert_problem(
        &send_as(
            &app,
            Method::GET,
            "bruno",
            "bruno@cafenino.mx",
            &domains,
            None,
        )
        .await,
        404,
        "not_found",
    );

    // Removed by an owner; once.
    assert_eq!(
        remove("alice", "alice@cafenino.mx", "socios.mx")
            .await
            .status,
        204
    );
    assert_problem(
        &remove("alice", "alice@cafenino.mx", "socios.mx").await,
        404,
        "not_found",
    );
    let list = send_as(
        &app,
        Method::GET,
        "alice",
        "alice@cafenino.mx",
        &domains,
        None,
    )
    .await;
    assert_eq!(list.body["domains"].as_array().unwrap().len(), 1);
}
