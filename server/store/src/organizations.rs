//! Organizations as their members see them: the organization, its members, its objectives,
//! serialized by the API as they are.

use crate::Role;
use serde::Serialize;

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

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
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
    pub challenges: JsonList,
    pub goals: JsonList,
    pub timezone: String,
    pub okr_cycle: String,
    pub language: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub user_id: String,
    pub role: Role,
    pub joined_at: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Objective {
    pub id: String,
    pub position: i64,
    pub title: String,
    pub description: Option<String>,
    pub key_results: Vec<KeyResult>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
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

impl Objective {
    /// Each objective with its key results (`key_results` in order within each objective).
    pub fn with_key_results(
        mut objectives: Vec<Objective>,
        key_results: Vec<KeyResult>,
    ) -> Vec<Objective> {
        for kr in key_results {
            if let Some(o) = objectives.iter_mut().find(|o| o.id == kr.objective_id) {
                o.key_results.push(kr);
            }
        }
        objectives
    }
}
