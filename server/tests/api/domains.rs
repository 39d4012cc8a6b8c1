//! An organization's e-mail domains (issue 36): owners and admins add and remove them, members
//! list them, others do not learn they exist; domains that can never be claimed are refused
//! with the rules' codes; a domain verified by one organization is refused to the next.

use crate::helpers::{assert_problem, reply, spawn_app_with, Engine, TestApp};
use crate::invitations::{completed_org, mailed_token, send_as, token_with};
use reqwest::Method;
use serde_json::{json, Value};

crate::both_engines!(
    owners_add_list_and_remove_domains_and_the_rules_refuse_the_unclaimable,
    a_newcomer_at_a_verified_domain_is_offered_its_organizations,
);
crate::each_engine!(ownership_is_proved_by_a_dns_record_the_server_looks_up);

/// A real DNS server for the test: Debian's dnsmasq on 127.0.0.1, answering only the TXT
/// records given (nothing upstream); stopped when dropped.
struct Nameserver {
    child: std::process::Child,
}

impl Nameserver {
    fn spawn(port: u16, records: &[(&str, &str)]) -> Nameserver {
        let mut args = vec![
            "--keep-in-foreground".to_owned(),
            "--no-resolv".into(),
            "--no-hosts".into(),
            "--bind-interfaces".into(),
            "--listen-address=127.0.0.1".into(),
            format!("--port={port}"),
            "--pid-file=".into(),
            "--log-facility=-".into(),
        ];
        args.extend(
            records
                .iter()
                .map(|(name, text)| format!("--txt-record={name},{text}")),
        );
        let mut child = std::process::Command::new("dnsmasq")
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dnsmasq (Debian's dnsmasq-base; `make test` installs it) must be on PATH");
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        // Ready when it accepts a TCP connection.
        for _ in 0..100 {
            if std::net::TcpStream::connect(addr).is_ok() {
                return Nameserver { child };
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("dnsmasq did not start on {addr}");
    }
}

impl Nameserver {
    /// Another server on the same address (the test's app was configured with it).
    fn start_on(addr: std::net::SocketAddr, records: &[(&str, &str)]) -> Nameserver {
        Nameserver::spawn(addr.port(), records)
    }
}

impl Drop for Nameserver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

/// Ownership: the TXT record at `_onboarding-challenge.<domain>` holds the token (found), is
/// missing, holds another value, or the nameserver does not answer (timeout: 503); a domain
/// owned by one organization is refused to the next.
async fn ownership_is_proved_by_a_dns_record_the_server_looks_up(engine: Engine) {
    // The resolver's address is fixed before the records are known: first sockets that never
    // answer (a lookup then times out), later a name server on the same port.
    let (silent_udp, silent_tcp) = loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if let Ok(tcp) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            break (udp, tcp);
        }
    };
    let addr = silent_udp.local_addr().unwrap();
    let Some(app) = spawn_app_with(engine, |s| {
        s.dns = onboarding_server::dns::DnsSettings {
            resolver: Some(addr),
            timeout: std::time::Duration::from_secs(2),
        }
    })
    .await
    else {
        return;
    };
    let org = completed_org(&app, "alice", "Alice Co").await;
    let domains = format!("/api/organizations/{org}/domains");
    let mut tokens = Vec::new();
    for domain in ["cafenino.mx", "socios.mx", "nadie.mx"] {
        let added = send_as(
            &app,
            Method::POST,
            "alice",
            "alice@cafenino.mx",
            &domains,
            Some(json!({ "domain": domain })),
        )
        .await;
        assert_eq!(added.status, 201, "{}", added.body);
        tokens.push(added.body["ownership_token"].as_str().unwrap().to_owned());
    }
    let verify = |domain: &'static str| {
        let path = format!("{domains}/{domain}/verify");
        let app = &app;
        async move { send_as(app, Method::POST, "alice", "alice@cafenino.mx", &path, None).await }
    };

    // Nothing answers yet: the lookup times out (DNS_TIMEOUT_SECS, 2 here).
    let started = std::time::Instant::now();
    assert_problem(&verify("cafenino.mx").await, 503, "dns_unavailable");
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_secs(2) && waited < std::time::Duration::from_secs(10),
        "{waited:?}"
    );
    drop((silent_udp, silent_tcp));

    let records = [
        ("_onboarding-challenge.cafenino.mx", tokens[0].as_str()),
        ("_onboarding-challenge.socios.mx", "not-the-token"),
    ];
    let ns = Nameserver::start_on(addr, &records);
    let owned = verify("cafenino.mx").await;
    assert_eq!(owned.status, 200, "{}", owned.body);
    assert!(
        owned.body["ownership_verified_at"].is_i64(),
        "{}",
        owned.body
    );
    assert_problem(&verify("socios.mx").await, 422, "domain_record_mismatch");
    // The modes follow the verification: automatic invitations once owned, suggestions once
    // verified either way, manual always.
    let mode = |domain: &'static str, mode: &'static str| {
        let path = format!("{domains}/{domain}");
        let app = &app;
        async move {
            send_as(
                app,
                Method::PATCH,
                "alice",
                "alice@cafenino.mx",
                &path,
                Some(json!({ "mode": mode })),
            )
            .await
        }
    };
    let set = mode("cafenino.mx", "automatic_invitation").await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["mode"], "automatic_invitation");
    assert_problem(
        &mode("socios.mx", "automatic_invitation").await,
        422,
        "domain_not_verified",
    );
    assert_problem(
        &mode("socios.mx", "automatic_suggestion").await,
        422,
        "domain_not_verified",
    );
    assert_eq!(mode("socios.mx", "manual").await.status, 200);
    assert_problem(&mode("otro.mx", "manual").await, 404, "not_found");
    let luis = send_as(
        &app,
        Method::PATCH,
        "mallory",
        "mallory@x.mx",
        &format!("{domains}/cafenino.mx"),
        Some(json!({ "mode": "manual" })),
    )
    .await;
    assert_problem(&luis, 404, "not_found");
    assert_problem(&verify("nadie.mx").await, 422, "domain_record_missing");
    assert_problem(&verify("otro.mx").await, 404, "not_found");
    let member = send_as(
        &app,
        Method::POST,
        "mallory",
        "mallory@cafenino.mx",
        &format!("{domains}/cafenino.mx/verify"),
        None,
    )
    .await;
    assert_problem(&member, 404, "not_found");

    // Another organization that publishes its own token for the domain is still refused.
    let other = completed_org(&app, "bruno", "Bruno Co").await;
    let theirs = format!("/api/organizations/{other}/domains");
    let claim = send_as(
        &app,
        Method::POST,
        "bruno",
        "bruno@otra.mx",
        &theirs,
        Some(json!({ "domain": "cafenino.mx" })),
    )
    .await;
    assert_eq!(claim.status, 201, "{}", claim.body);
    let their_token = claim.body["ownership_token"].as_str().unwrap().to_owned();
    drop(ns);
    let _ns = Nameserver::start_on(
        addr,
        &[("_onboarding-challenge.cafenino.mx", their_token.as_str())],
    );
    let taken = send_as(
        &app,
        Method::POST,
        "bruno",
        "bruno@otra.mx",
        &format!("{theirs}/cafenino.mx/verify"),
        None,
    )
    .await;
    assert_problem(&taken, 409, "domain_taken");
}

/// The offer: a newcomer whose verified address is at a verified domain (not `manual`) sees the
/// organization (name, mode, member count); nobody else does, and members are not offered
/// their own organization.
async fn a_newcomer_at_a_verified_domain_is_offered_its_organizations(app: TestApp) {
    let org = completed_org(&app, "alice", "Alice Co").await;
    let domains = format!("/api/organizations/{org}/domains");
    let offer = |user: &'static str, email: &'static str| {
        let app = &app;
        async move {
            let r = send_as(
                app,
                Method::GET,
                user,
                email,
                "/api/onboarding/organizations-to-join",
                None,
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body["organizations"].as_array().unwrap().clone()
        }
    };
    // Verified by affiliation, but manual: nothing offered yet.
    let added = send_as(
        &app,
        Method::POST,
        "alice",
        "alice@cafenino.mx",
        &domains,
        Some(json!({ "domain": "cafenino.mx" })),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert!(offer("nuevo", "nuevo@cafenino.mx").await.is_empty());
    let set = send_as(
        &app,
        Method::PATCH,
        "alice",
        "alice@cafenino.mx",
        &format!("{domains}/cafenino.mx"),
        Some(json!({ "mode": "automatic_suggestion" })),
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let seen = offer("nuevo", "Nuevo@CafeNino.mx").await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["id"], org.as_str());
    assert_eq!(seen[0]["name"], "Alice Co");
    assert_eq!(seen[0]["mode"], "automatic_suggestion");
    assert_eq!(seen[0]["members"], 1);
    assert_eq!(
        seen[0].as_object().unwrap().len(),
        4,
        "no more than a non-member may see"
    );
    // Another domain, a member, an unverified claim: nothing.
    assert!(offer("otra", "otra@otra.mx").await.is_empty());
    assert!(offer("alice", "alice@cafenino.mx").await.is_empty());
    let bruno = completed_org(&app, "bruno", "Bruno Co").await;
    let theirs = format!("/api/organizations/{bruno}/domains");
    let unverified = send_as(
        &app,
        Method::POST,
        "bruno",
        "bruno@bruno.mx",
        &theirs,
        Some(json!({ "domain": "socios.mx" })),
    )
    .await;
    assert_eq!(unverified.status, 201, "{}", unverified.body);
    assert!(offer("socia", "socia@socios.mx").await.is_empty());
    // A token that says its address is not verified is offered nothing.
    let jwt = token_with(
        json!({"sub": "nuevo2", "email": "nuevo2@cafenino.mx", "email_verified": false}),
    );
    let r = reply(
        app.http
            .get(format!("{}/api/onboarding/organizations-to-join", app.base))
            .bearer_auth(jwt)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["organizations"], json!([]));
}
