//! An organization's e-mail domains (issue 36): members list them; owners and admins add and
//! remove them. A domain is normalized and checked by the rules (`crate::domains::claimable`:
//! never a free-mail, disposable or public-suffix domain, nor the platform's own), verified by
//! affiliation when the adder's verified address is at it, and never verified by two
//! organizations (409). Non-members get 404, as for every organization route.

use super::meta::{locale, LocaleQuery};
use super::organizations::problem;
use super::AppState;
use super::{Path, Query};
use crate::auth::AuthUser;
use crate::dns::Challenge;
use crate::error::ApiError;
use crate::store::{
    Domain, DomainAdded, DomainMode, DomainModeChange, DomainOwned, JoinOffer, Role,
};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use onboarding_core::Locale;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(remove, set_mode))
        .routes(routes!(verify))
        .routes(routes!(organizations_to_join))
}

/// An organization's domains.
#[derive(Debug, Serialize, ToSchema)]
struct Domains {
    domains: Vec<Domain>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct AddDomain {
    /// The domain, e.g. `acme.com` (an internationalized one in its `xn--` form).
    domain: String,
    /// `manual` by default; `automatic_suggestion` needs the domain verified (by the adder's
    /// address); `automatic_invitation` needs ownership (a DNS record), not yet verifiable.
    #[serde(default)]
    mode: Option<DomainMode>,
}

/// The newcomer's offer.
#[derive(Debug, Serialize, ToSchema)]
struct OrganizationsToJoin {
    /// Organizations whose verified domain is the user's verified address's, not in `manual`
    /// mode, that the user is not a member of; empty without a verified address.
    organizations: Vec<JoinOffer>,
}

/// The organizations the signed-in user may join, or ask to join, because their verified
/// e-mail address is at a domain those organizations verified. A read of its own (not in the
/// status): it changes with other organizations' domains, not with the user's session
/// (docs/domains.md).
#[utoipa::path(
    get,
    path = "/api/onboarding/organizations-to-join",
    tag = "onboarding",
    summary = "Organizations the user's verified e-mail domain may join",
    responses(
        (status = 200, description = "The offer (often empty)", body = OrganizationsToJoin),
    ),
    security(("bearer" = [])),
)]
async fn organizations_to_join(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<OrganizationsToJoin>, ApiError> {
    let organizations = match verified_domain(&user) {
        Some(d) => state.store.organizations_to_join(&user.id, &d).await?,
        None => Vec::new(),
    };
    Ok(Json(OrganizationsToJoin { organizations }))
}

/// The domain of the user's verified address (`email` is `None` when the token says the address
/// is not verified).
fn verified_domain(user: &AuthUser) -> Option<String> {
    let email = onboarding_core::email::normalize(user.email.as_deref()?);
    email.rsplit_once('@').map(|(_, d)| d.to_owned())
}

/// 409: another organization verified the domain first.
fn taken() -> ApiError {
    problem(
        StatusCode::CONFLICT,
        "domain_taken",
        "Domain verified by another organization",
        "another organization verified this domain first",
    )
}

/// The caller's role in the organization: 404 for non-members.
async fn role(state: &AppState, user: &AuthUser, id: &str) -> Result<Role, ApiError> {
    state
        .store
        .role_in(&user.id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such organization".into()))
}

async fn manager(state: &AppState, user: &AuthUser, id: &str) -> Result<(), ApiError> {
    if role(state, user, id).await?.manages_invitations() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the organization's owners and admins manage its domains".into(),
        ))
    }
}

#[utoipa::path(
    get,
    path = "/api/organizations/{id}/domains",
    tag = "organizations",
    summary = "The organization's e-mail domains (members only)",
    params(("id" = String, Path, description = "Organization id")),
    responses(
        (status = 200, description = "Domains, by name", body = Domains),
        (status = 404, description = "Not found or not a member"),
    ),
    security(("bearer" = [])),
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Domains>, ApiError> {
    role(&state, &user, &id).await?;
    Ok(Json(Domains {
        domains: state.store.domains(&user.id, &id).await?,
    }))
}

#[utoipa::path(
    post,
    path = "/api/organizations/{id}/domains",
    tag = "organizations",
    summary = "Add an e-mail domain (owners and admins)",
    params(
        ("id" = String, Path, description = "Organization id"),
        ("locale" = Option<Locale>, Query, description = "es or en, for the refusal's words (default: Accept-Language, then es)"),
    ),
    request_body(content = AddDomain, content_type = "application/json"),
    responses(
        (status = 201, description = "Added (verified by affiliation when the adder's verified address is at it)", body = Domain),
        (status = 400, description = "Malformed body or unsupported locale"),
        (status = 403, description = "Not an owner or admin"),
        (status = 404, description = "Not found or not a member"),
        (status = 409, description = "Already added (`domain_exists`), or verified by another organization (`domain_taken`)"),
        (status = 422, description = "A domain that can never be claimed (`invalid_domain`, `public_suffix_domain`, `personal_email_domain`, `disposable_email_domain`, `platform_domain`), or a mode its verification does not allow (`domain_not_verified`)"),
    ),
    security(("bearer" = [])),
)]
async fn add(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(q): Query<LocaleQuery>,
    headers: HeaderMap,
    super::Json(req): super::Json<AddDomain>,
) -> Result<(StatusCode, Json<Domain>), ApiError> {
    let locale = locale(q.locale.as_deref(), &headers)?;
    manager(&state, &user, &id).await?;
    let platform = url::Url::parse(&state.composer.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    let platform: Vec<&str> = platform.iter().map(String::as_str).collect();
    let domain =
        crate::domains::claimable(&req.domain, &platform).map_err(|why| ApiError::Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: why.code(),
            title: "Domain cannot be claimed",
            detail: why.message(locale).to_owned(),
        })?;
    // Affiliation: the adder's own verified address is at the domain (ownership comes later,
    // by its DNS record).
    let affiliated = verified_domain(&user).is_some_and(|d| d == domain);
    let mode = req.mode.unwrap_or(DomainMode::Manual);
    if !mode.allowed(affiliated, false) {
        return Err(not_verified());
    }
    match state
        .store
        .add_domain(&user.id, &id, &domain, mode, affiliated)
        .await?
    {
        DomainAdded::Added(d) => Ok((StatusCode::CREATED, Json(d))),
        DomainAdded::AlreadyAdded => Err(problem(
            StatusCode::CONFLICT,
            "domain_exists",
            "Domain already added",
            "the organization has this domain already",
        )),
        DomainAdded::VerifiedElsewhere => Err(taken()),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
struct SetMode {
    mode: DomainMode,
}

/// 422: the domain's verification does not allow the mode.
fn not_verified() -> ApiError {
    problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "domain_not_verified",
        "Domain not verified for this mode",
        "automatic suggestions need the domain verified (your own verified address at it); automatic invitations need ownership, proved by a DNS record",
    )
}

/// What a newcomer at the domain is offered: `automatic_suggestion` needs the domain verified
/// (affiliation or ownership), `automatic_invitation` ownership.
#[utoipa::path(
    patch,
    path = "/api/organizations/{id}/domains/{domain}",
    tag = "organizations",
    summary = "Change a domain's enrollment mode (owners and admins)",
    params(
        ("id" = String, Path, description = "Organization id"),
        ("domain" = String, Path, description = "The domain, as listed"),
    ),
    request_body(content = SetMode, content_type = "application/json"),
    responses(
        (status = 200, description = "The domain with its new mode", body = Domain),
        (status = 400, description = "Malformed body"),
        (status = 403, description = "Not an owner or admin"),
        (status = 404, description = "Not found, not a member, or no such domain"),
        (status = 422, description = "The domain's verification does not allow the mode (`domain_not_verified`)"),
    ),
    security(("bearer" = [])),
)]
async fn set_mode(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, domain)): Path<(String, String)>,
    super::Json(req): super::Json<SetMode>,
) -> Result<Json<Domain>, ApiError> {
    manager(&state, &user, &id).await?;
    let domain = domain.trim().to_ascii_lowercase();
    match state
        .store
        .set_domain_mode(&user.id, &id, &domain, req.mode)
        .await?
    {
        DomainModeChange::Changed(d) => Ok(Json(d)),
        DomainModeChange::NotFound => Err(ApiError::NotFound(
            "the organization has no such domain".into(),
        )),
        DomainModeChange::NotVerified => Err(not_verified()),
    }
}

/// Proves ownership: the TXT record at `_onboarding-challenge.<domain>` must hold the domain's
/// `ownership_token`, looked up by the server's resolver (`DNS_RESOLVER`) within
/// `DNS_TIMEOUT_SECS`.
#[utoipa::path(
    post,
    path = "/api/organizations/{id}/domains/{domain}/verify",
    tag = "organizations",
    summary = "Verify ownership of a domain by its DNS record (owners and admins)",
    params(
        ("id" = String, Path, description = "Organization id"),
        ("domain" = String, Path, description = "The domain, as listed"),
    ),
    responses(
        (status = 200, description = "Verified: the record holds the token", body = Domain),
        (status = 403, description = "Not an owner or admin"),
        (status = 404, description = "Not found, not a member, or no such domain"),
        (status = 409, description = "Verified by another organization first (`domain_taken`)"),
        (status = 422, description = "No TXT record at the name (`domain_record_missing`), or none with the token (`domain_record_mismatch`)"),
        (status = 503, description = "The nameserver did not answer in time (`dns_unavailable`)"),
    ),
    security(("bearer" = [])),
)]
async fn verify(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, domain)): Path<(String, String)>,
) -> Result<Json<Domain>, ApiError> {
    manager(&state, &user, &id).await?;
    let domain = domain.trim().to_ascii_lowercase();
    let listed = state.store.domains(&user.id, &id).await?;
    let Some(claim) = listed.into_iter().find(|d| d.domain == domain) else {
        return Err(ApiError::NotFound(
            "the organization has no such domain".into(),
        ));
    };
    let name = crate::dns::challenge_name(&domain);
    match state.dns.check(&domain, &claim.ownership_token).await {
        Challenge::Found => {}
        Challenge::Missing => {
            return Err(problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "domain_record_missing",
                "Ownership record not found",
                &format!("no TXT record at {name}: publish one with the domain's ownership_token, then verify again"),
            ))
        }
        Challenge::Mismatch => {
            return Err(problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "domain_record_mismatch",
                "Ownership record does not match",
                &format!("the TXT records at {name} do not hold this organization's token"),
            ))
        }
        Challenge::Unavailable(why) => {
            tracing::warn!(%domain, %why, "DNS lookup of an ownership record failed");
            return Err(problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "dns_unavailable",
                "DNS unavailable",
                "the nameserver did not answer in time; try again shortly",
            ));
        }
    }
    match state
        .store
        .verify_domain_ownership(&user.id, &id, &domain)
        .await?
    {
        DomainOwned::Verified(d) => Ok(Json(d)),
        DomainOwned::NotFound => Err(ApiError::NotFound(
            "the organization has no such domain".into(),
        )),
        DomainOwned::VerifiedElsewhere => Err(taken()),
    }
}

#[utoipa::path(
    delete,
    path = "/api/organizations/{id}/domains/{domain}",
    tag = "organizations",
    summary = "Remove an e-mail domain (owners and admins)",
    params(
        ("id" = String, Path, description = "Organization id"),
        ("domain" = String, Path, description = "The domain, as listed"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an owner or admin"),
        (status = 404, description = "Not found, not a member, or no such domain"),
    ),
    security(("bearer" = [])),
)]
async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, domain)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    manager(&state, &user, &id).await?;
    let domain = domain.trim().to_ascii_lowercase();
    if state.store.remove_domain(&user.id, &id, &domain).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(
            "the organization has no such domain".into(),
        ))
    }
}
