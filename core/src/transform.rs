//! The transform: a pure function from a validated wizard to the records the server persists
//! (organization with its slug, owner membership, profile, objectives with key results, one
//! invitation per e-mail). The client calls the same code through `preview`.

use crate::context::Context;
use crate::report::Report;
use crate::rules::StepId;
use crate::validate::{self, FieldValue, Outcome, Values};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preview {
    /// The slug the organization would get (before the server makes it unique), whenever the
    /// company name is valid, even if other fields are not yet.
    pub slug: Option<String>,
    /// The records, when the wizard is valid.
    pub records: Option<Records>,
    pub report: Report,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Records {
    pub organization: Organization,
    pub membership: Membership,
    pub profile: Profile,
    pub objectives: Vec<Objective>,
    pub invitations: Vec<Invitation>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organization {
    pub name: String,
    pub slug: String,
    pub industry: &'static str,
    pub size: &'static str,
    pub employee_count: Option<i64>,
    pub country: String,
    pub website: Option<String>,
    pub description: String,
    pub founded_year: Option<i64>,
    pub okr_maturity: &'static str,
    pub challenges: Vec<&'static str>,
    pub goals: Vec<&'static str>,
    pub timezone: String,
    pub okr_cycle: &'static str,
    pub language: &'static str,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    pub role: &'static str,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    pub full_name: String,
    pub job_title: String,
    pub department: Option<String>,
    pub team_size: Option<i64>,
    pub experience_with_okr: &'static str,
    pub primary_goal: String,
    pub urgency_level: &'static str,
    pub preferences: Preferences,
    pub setup_demo: Option<&'static str>,
    pub additional_notes: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preferences {
    pub language: &'static str,
    pub communication_style: &'static str,
    pub notification_frequency: &'static str,
    pub focus_areas: Vec<&'static str>,
    pub ai_assistance_level: &'static str,
    pub timezone: String,
    pub okr_cycle: &'static str,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Objective {
    pub position: usize,
    pub title: String,
    pub description: Option<String>,
    pub key_results: Vec<KeyResult>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyResult {
    pub position: usize,
    pub title: String,
    pub metric_type: &'static str,
    pub baseline: f64,
    pub target: f64,
    pub unit: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub email: String,
    pub role: &'static str,
}

pub fn preview(input: &serde_json::Value, ctx: &Context) -> Preview {
    let outcome = validate::wizard(input, ctx);
    let slug = text(outcome.value(StepId::Company, "company_name")).map(crate::slug::slugify);
    let records = if outcome.issues.has_errors() {
        None
    } else {
        records(&outcome)
    };
    Preview {
        slug,
        records,
        report: outcome.report(ctx.locale),
    }
}

/// The records of a wizard that passed validation (`None` if it did not).
pub fn records(o: &Outcome) -> Option<Records> {
    use StepId as S;
    let text_of = |s, f| text(o.value(s, f)).map(str::to_owned);
    let enum_of = |s, f| match o.value(s, f) {
        Some(FieldValue::Enum(e)) => Some(*e),
        _ => None,
    };
    let int_of = |s, f| match o.value(s, f) {
        Some(FieldValue::Int(i)) => Some(*i),
        _ => None,
    };
    let set_of = |s, f| match o.value(s, f) {
        Some(FieldValue::Set(v)) => Some(v.clone()),
        _ => None,
    };
    let name = text_of(S::Company, "company_name")?;
    let timezone = text_of(S::Preferences, "timezone")?;
    let okr_cycle = enum_of(S::Preferences, "okr_cycle").unwrap_or("quarterly");
    let language = enum_of(S::Preferences, "language")?;
    let organization = Organization {
        slug: crate::slug::slugify(&name),
        name,
        industry: enum_of(S::Company, "industry")?,
        size: enum_of(S::Company, "company_size")?,
        employee_count: int_of(S::Company, "employee_count"),
        country: text_of(S::Company, "country")?,
        website: text_of(S::Company, "website"),
        description: text_of(S::Company, "description")?,
        founded_year: int_of(S::Company, "founded_year"),
        okr_maturity: enum_of(S::Organization, "okr_maturity")?,
        challenges: set_of(S::Organization, "current_challenges")?,
        goals: set_of(S::Organization, "business_goals")?,
        timezone: timezone.clone(),
        okr_cycle,
        language,
    };
    let profile = Profile {
        full_name: text_of(S::Welcome, "full_name")?,
        job_title: text_of(S::Welcome, "job_title")?,
        department: text_of(S::Organization, "department"),
        team_size: int_of(S::Organization, "team_size"),
        experience_with_okr: enum_of(S::Welcome, "experience_with_okr")?,
        primary_goal: text_of(S::Welcome, "primary_goal")?,
        urgency_level: enum_of(S::Welcome, "urgency_level")?,
        preferences: Preferences {
            language,
            communication_style: enum_of(S::Preferences, "communication_style")?,
            notification_frequency: enum_of(S::Preferences, "notification_frequency")?,
            focus_areas: set_of(S::Preferences, "focus_areas")?,
            ai_assistance_level: enum_of(S::Preferences, "ai_assistance_level")?,
            timezone,
            okr_cycle,
        },
        setup_demo: enum_of(S::Review, "setup_demo"),
        additional_notes: text_of(S::Review, "additional_notes"),
    };
    let mut objectives = Vec::new();
    if let Some(FieldValue::List(items)) = o.value(S::Objectives, "objectives") {
        for (i, v) in items.iter().enumerate() {
            objectives.push(objective(i, v)?);
        }
    }
    let invitations = match o.value(S::Review, "invite_emails") {
        Some(FieldValue::Emails(list)) => list
            .iter()
            .map(|email| Invitation {
                email: email.clone(),
                role: "member",
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(Records {
        organization,
        membership: Membership { role: "owner" },
        profile,
        objectives,
        invitations,
    })
}

fn text(v: Option<&FieldValue>) -> Option<&str> {
    match v {
        Some(FieldValue::Text(t)) => Some(t),
        _ => None,
    }
}

/// The value of the field `name` of a list item whose fields are `fields`.
fn item<'v>(fields: &[crate::rules::Field], v: &'v Values, name: &str) -> Option<&'v FieldValue> {
    let i = fields.iter().position(|f| f.name == name)?;
    v.get(i)?.as_ref()
}

fn objective(position: usize, v: &Values) -> Option<Objective> {
    let f = crate::rules::OBJECTIVE;
    let FieldValue::List(krs) = item(f, v, "key_results")? else {
        return None;
    };
    let mut key_results = Vec::with_capacity(krs.len());
    for (i, kr) in krs.iter().enumerate() {
        key_results.push(key_result(i, kr)?);
    }
    Some(Objective {
        position,
        title: text(item(f, v, "title"))?.to_owned(),
        description: text(item(f, v, "description")).map(str::to_owned),
        key_results,
    })
}

fn key_result(position: usize, v: &Values) -> Option<KeyResult> {
    let f = crate::rules::KEY_RESULT;
    let num = |name| match item(f, v, name) {
        Some(FieldValue::Num(n)) => Some(*n),
        _ => None,
    };
    Some(KeyResult {
        position,
        title: text(item(f, v, "title"))?.to_owned(),
        metric_type: match item(f, v, "metric_type")? {
            FieldValue::Enum(e) => e,
            _ => return None,
        },
        baseline: num("baseline").unwrap_or(0.0),
        target: num("target")?,
        unit: text(item(f, v, "unit")).map(str::to_owned),
    })
}
