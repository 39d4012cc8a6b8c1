//! The transform: a pure function from a validated wizard to the records the server persists
//! (organization with its slug, owner membership, profile, objectives with key results, one
//! invitation per e-mail). The client calls the same code through `preview`.

use crate::context::Context;
use crate::report::Report;
use crate::rules::field;
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
    let slug = outcome
        .get(field::COMPANY_NAME)
        .and_then(FieldValue::as_text)
        .map(crate::slug::slugify);
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
    use field as F;
    let text = |f| o.get(f).and_then(FieldValue::as_text).map(str::to_owned);
    let choice = |f| o.get(f).and_then(FieldValue::as_enum);
    let int = |f| o.get(f).and_then(FieldValue::as_int);
    let set = |f| o.get(f).and_then(FieldValue::as_set).map(<[_]>::to_vec);
    let name = text(F::COMPANY_NAME)?;
    let timezone = text(F::TIMEZONE)?;
    let okr_cycle = choice(F::OKR_CYCLE).unwrap_or("quarterly");
    let language = choice(F::LANGUAGE)?;
    let organization = Organization {
        slug: crate::slug::slugify(&name),
        name,
        industry: choice(F::INDUSTRY)?,
        size: choice(F::COMPANY_SIZE)?,
        employee_count: int(F::EMPLOYEE_COUNT),
        country: text(F::COUNTRY)?,
        website: text(F::WEBSITE),
        description: text(F::DESCRIPTION)?,
        founded_year: int(F::FOUNDED_YEAR),
        okr_maturity: choice(F::OKR_MATURITY)?,
        challenges: set(F::CURRENT_CHALLENGES)?,
        goals: set(F::BUSINESS_GOALS)?,
        timezone: timezone.clone(),
        okr_cycle,
        language,
    };
    let profile = Profile {
        full_name: text(F::FULL_NAME)?,
        job_title: text(F::JOB_TITLE)?,
        department: text(F::DEPARTMENT),
        team_size: int(F::TEAM_SIZE),
        experience_with_okr: choice(F::EXPERIENCE_WITH_OKR)?,
        primary_goal: text(F::PRIMARY_GOAL)?,
        urgency_level: choice(F::URGENCY_LEVEL)?,
        preferences: Preferences {
            language,
            communication_style: choice(F::COMMUNICATION_STYLE)?,
            notification_frequency: choice(F::NOTIFICATION_FREQUENCY)?,
            focus_areas: set(F::FOCUS_AREAS)?,
            ai_assistance_level: choice(F::AI_ASSISTANCE_LEVEL)?,
            timezone,
            okr_cycle,
        },
        setup_demo: choice(F::SETUP_DEMO),
        additional_notes: text(F::ADDITIONAL_NOTES),
    };
    let mut objectives = Vec::new();
    for (i, item) in o
        .get(F::OBJECTIVES)
        .and_then(FieldValue::as_list)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        objectives.push(objective(i, item)?);
    }
    let invitations = o
        .get(F::INVITE_EMAILS)
        .and_then(FieldValue::as_emails)
        .unwrap_or_default()
        .iter()
        .map(|email| Invitation {
            email: email.clone(),
            role: "member",
        })
        .collect();
    Some(Records {
        organization,
        membership: Membership { role: "owner" },
        profile,
        objectives,
        invitations,
    })
}

/// The value of a list item's field, by its position in the item's table.
fn item(values: &Values, position: usize) -> Option<&FieldValue> {
    values.get(position)?.as_ref()
}

fn objective(position: usize, v: &Values) -> Option<Objective> {
    use field::objective as F;
    let mut key_results = Vec::new();
    for (i, kr) in item(v, F::KEY_RESULTS)?.as_list()?.iter().enumerate() {
        key_results.push(key_result(i, kr)?);
    }
    Some(Objective {
        position,
        title: item(v, F::TITLE)?.as_text()?.to_owned(),
        description: item(v, F::DESCRIPTION)
            .and_then(FieldValue::as_text)
            .map(str::to_owned),
        key_results,
    })
}

fn key_result(position: usize, v: &Values) -> Option<KeyResult> {
    use field::key_result as F;
    Some(KeyResult {
        position,
        title: item(v, F::TITLE)?.as_text()?.to_owned(),
        metric_type: item(v, F::METRIC_TYPE)?.as_enum()?,
        baseline: item(v, F::BASELINE)
            .and_then(FieldValue::as_num)
            .unwrap_or(0.0),
        target: item(v, F::TARGET)?.as_num()?,
        unit: item(v, F::UNIT)
            .and_then(FieldValue::as_text)
            .map(str::to_owned),
    })
}
