//! Organizations as their members see them: the organization, its members, its objectives.
//! Rows are read into typed structs (`sqlx::FromRow`), which the API serializes as they are.

use super::{Role, Store};
use serde::Serialize;
use sqlx::{FromRow, Row};

/// A list of option values stored as JSON text (challenges, goals).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = Vec<String>)]
pub struct JsonList(pub Vec<String>);

impl TryFrom<String> for JsonList {
    type Error = serde_json::Error;
    fn try_from(text: String) -> Result<JsonList, serde_json::Error> {
        serde_json::from_str(&text).map(JsonList)
    }
}

#[derive(Clone, Debug, Serialize, FromRow, utoipa::ToSchema)]
pub struct Organization {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub industry: String,
    pub size: String,
    pub employee_count: Option<i64>,
    pub country: String,
    pub website: Option<String>,
    pub description: String,
    pub founded_year: Option<i64>,
    pub okr_maturity: String,
    #[sqlx(try_from = "String")]
    pub challenges: JsonList,
    #[sqlx(try_from = "String")]
    pub goals: JsonList,
    pub timezone: String,
    pub okr_cycle: String,
    pub language: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize, FromRow, utoipa::ToSchema)]
pub struct Member {
    pub user_id: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub joined_at: i64,
}

#[derive(Clone, Debug, Serialize, FromRow, utoipa::ToSchema)]
pub struct Objective {
    pub id: String,
    pub position: i64,
    pub title: String,
    pub description: Option<String>,
    #[sqlx(skip)]
    pub key_results: Vec<KeyResult>,
}

#[derive(Clone, Debug, Serialize, FromRow, utoipa::ToSchema)]
pub struct KeyResult {
    #[serde(skip)]
    pub objective_id: String,
    pub position: i64,
    pub title: String,
    pub metric_type: String,
    pub baseline: f64,
    pub target: f64,
    pub unit: Option<String>,
}

impl Store {
    /// The user's role in the organization, if a member.
    pub async fn role_in(&self, user: &str, org: &str) -> Result<Option<Role>, sqlx::Error> {
        let row = self
            .read_optional(
                user,
                sqlx::query(
                    "select role from memberships where organization_id = $1 and user_id = $2",
                )
                .bind(org)
                .bind(user),
            )
            .await?;
        row.map(|r| {
            Role::try_from(r.try_get::<String, _>("role")?)
                .map_err(|e| sqlx::Error::Decode(e.into()))
        })
        .transpose()
    }

    /// The members of an organization (checked by the caller; RLS checks again on PostgreSQL).
    pub async fn members(&self, user: &str, org: &str) -> Result<Vec<Member>, sqlx::Error> {
        let rows = self
            .read_all(
                user,
                sqlx::query("select user_id, role, created_at as joined_at from memberships where organization_id = $1 order by created_at, user_id")
                    .bind(org),
            )
            .await?;
        rows.iter().map(Member::from_row).collect()
    }

    /// The objectives of an organization with their key results, in order.
    pub async fn objectives(&self, user: &str, org: &str) -> Result<Vec<Objective>, sqlx::Error> {
        let mut tx = self.begin(user).await?;
        let objectives = sqlx::query("select id, position, title, description from objectives where organization_id = $1 order by position")
            .bind(org)
            .fetch_all(&mut *tx)
            .await?;
        let key_results = sqlx::query("select objective_id, position, title, metric_type, baseline, target, unit from key_results where organization_id = $1 order by objective_id, position")
            .bind(org)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let key_results = key_results
            .iter()
            .map(KeyResult::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        objectives
            .iter()
            .map(|row| {
                let mut objective = Objective::from_row(row)?;
                objective.key_results = key_results
                    .iter()
                    .filter(|k| k.objective_id == objective.id)
                    .cloned()
                    .collect();
                Ok(objective)
            })
            .collect()
    }

    /// The organization as the API shows it.
    pub async fn organization(
        &self,
        user: &str,
        id: &str,
    ) -> Result<Option<Organization>, sqlx::Error> {
        let row = self
            .read_optional(
                user,
                sqlx::query("select id, slug, name, industry, size, employee_count, country, website, description, founded_year, okr_maturity, challenges, goals, timezone, okr_cycle, language, created_at from organizations where id = $1")
                    .bind(id),
            )
            .await?;
        row.as_ref().map(Organization::from_row).transpose()
    }
}
