//! The wizard's rules as data: steps, fields, kinds, limits and option values. The validator,
//! the normalizer, the metadata export, the JSON Schema and the transform all read these
//! tables, so they cannot disagree. What a form shows for them (titles, labels, help texts,
//! placeholders, option labels) is in `texts.rs`, keyed by the names here.

/// Which characters a single-line text may contain (control characters never).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charset {
    Any,
    /// Letters of any script, spaces, `'` (and its typographic form `’`), `-`, `.`.
    PersonName,
    /// At least one letter or digit; letters, digits, spaces and `- _ . & ( ) ' , + /` (and `’`).
    CompanyName,
}

impl Charset {
    pub fn allows(self, c: char) -> bool {
        use crate::text::{is_letter, is_letter_or_digit};
        match self {
            Charset::Any => true,
            Charset::PersonName => is_letter(c) || matches!(c, ' ' | '\'' | '’' | '-' | '.'),
            Charset::CompanyName => {
                is_letter_or_digit(c)
                    || matches!(
                        c,
                        ' ' | '-' | '_' | '.' | '&' | '(' | ')' | '\'' | '’' | ',' | '+' | '/'
                    )
            }
        }
    }
}

/// The upper bound of an integer field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntMax {
    Fixed(i64),
    /// The year of the context's reference date.
    ReferenceYear,
}

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Single-line text, lengths in Unicode scalar values after normalization.
    Text {
        min: usize,
        max: usize,
        charset: Charset,
    },
    Multiline {
        min: usize,
        max: usize,
    },
    Enum(&'static [&'static str]),
    /// Distinct values of `options`.
    EnumSet {
        options: &'static [&'static str],
        min: usize,
        max: usize,
    },
    /// A JSON integer or a string of one.
    Integer {
        min: i64,
        max: IntMax,
    },
    /// A finite JSON number or a string of one.
    Number,
    /// ISO 3166-1 alpha-2.
    Country,
    Url,
    /// An IANA tz database name.
    Timezone,
    /// A boolean that must be `true`.
    MustBeTrue,
    /// Distinct, valid e-mail addresses.
    EmailList {
        max: usize,
    },
    /// A list of objects, each with `item`'s fields.
    List {
        item: &'static [Field],
        min: usize,
        max: usize,
        /// More items than this is a `too_many_key_results` warning.
        warn_above: Option<usize>,
        /// This text field of the items must be distinct, compared case-insensitively.
        unique: Option<&'static str>,
        /// A rule across the fields of each item.
        item_rule: Option<ItemRule>,
    },
}

/// Rules that relate the fields of one list item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemRule {
    /// `target` ≠ `baseline`; percentage: both in 0–100; boolean: baseline 0 and target 1.
    KeyResultTarget,
}

impl Kind {
    /// The name frontends switch on to render the field.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Text { .. } => "text",
            Kind::Multiline { .. } => "multiline",
            Kind::Enum(_) => "enum",
            Kind::EnumSet { .. } => "enum_set",
            Kind::Integer { .. } => "integer",
            Kind::Number => "number",
            Kind::Country => "country",
            Kind::Url => "url",
            Kind::Timezone => "timezone",
            Kind::MustBeTrue => "boolean",
            Kind::EmailList { .. } => "email_list",
            Kind::List { .. } => "list",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub required: bool,
    pub kind: Kind,
    /// The value the transform uses when the field is absent, as a JSON literal.
    pub default: Option<&'static str>,
}

const fn field(name: &'static str, required: bool, kind: Kind) -> Field {
    Field {
        name,
        required,
        kind,
        default: None,
    }
}

const fn with_default(f: Field, default: &'static str) -> Field {
    Field {
        default: Some(default),
        ..f
    }
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StepId {
    Welcome,
    Company,
    Organization,
    Objectives,
    Preferences,
    Review,
}

impl StepId {
    pub const ALL: [StepId; 6] = [
        StepId::Welcome,
        StepId::Company,
        StepId::Organization,
        StepId::Objectives,
        StepId::Preferences,
        StepId::Review,
    ];

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn parse(s: &str) -> Option<StepId> {
        StepId::ALL.into_iter().find(|id| id.name() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn spec(self) -> &'static Step {
        &STEPS[self.index()]
    }
}

#[derive(Debug)]
pub struct Step {
    pub id: StepId,
    pub name: &'static str,
    /// The step may be left empty (the objectives).
    pub skippable: bool,
    pub fields: &'static [Field],
}

impl Step {
    pub fn field(&self, name: &str) -> Option<(usize, &'static Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }
}

/// A field of a step: its step and its position in the step's table. The transform and the
/// cross-field rules name the fields they read with these (`field::COMPANY_NAME`), so a field
/// they need is found by the compiler rather than by its name at run time; a test checks each
/// handle names the field of its table it says it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldRef {
    pub step: StepId,
    pub index: usize,
}

impl FieldRef {
    pub fn spec(self) -> &'static Field {
        &self.step.spec().fields[self.index]
    }
}

/// `NAME = Step index;` → `pub const NAME: FieldRef`, and the list the test checks.
macro_rules! field_refs {
    ($($name:ident = $step:ident $index:literal;)*) => {
        $(pub const $name: FieldRef = FieldRef { step: StepId::$step, index: $index };)*
        #[cfg(test)]
        pub(super) const ALL: &[(FieldRef, &str)] = &[$(($name, stringify!($name)),)*];
    };
}

/// Handles of the steps' fields, and positions of the list items' fields.
pub mod field {
    use super::{FieldRef, StepId};

    field_refs! {
        FULL_NAME = Welcome 0;
        JOB_TITLE = Welcome 1;
        EXPERIENCE_WITH_OKR = Welcome 2;
        PRIMARY_GOAL = Welcome 3;
        URGENCY_LEVEL = Welcome 4;
        COMPANY_NAME = Company 0;
        INDUSTRY = Company 1;
        COMPANY_SIZE = Company 2;
        EMPLOYEE_COUNT = Company 3;
        COUNTRY = Company 4;
        WEBSITE = Company 5;
        DESCRIPTION = Company 6;
        FOUNDED_YEAR = Company 7;
        DEPARTMENT = Organization 0;
        TEAM_SIZE = Organization 1;
        OKR_MATURITY = Organization 2;
        CURRENT_CHALLENGES = Organization 3;
        BUSINESS_GOALS = Organization 4;
        OBJECTIVES = Objectives 0;
        LANGUAGE = Preferences 0;
        COMMUNICATION_STYLE = Preferences 1;
        NOTIFICATION_FREQUENCY = Preferences 2;
        FOCUS_AREAS = Preferences 3;
        AI_ASSISTANCE_LEVEL = Preferences 4;
        TIMEZONE = Preferences 5;
        OKR_CYCLE = Preferences 6;
        CONFIRMED = Review 0;
        TERMS_ACCEPTED = Review 1;
        ADDITIONAL_NOTES = Review 2;
        SETUP_DEMO = Review 3;
        INVITE_EMAILS = Review 4;
    }

    /// The fields of an objective (`OBJECTIVE`), by position.
    pub mod objective {
        pub const TITLE: usize = 0;
        pub const DESCRIPTION: usize = 1;
        pub const KEY_RESULTS: usize = 2;
    }

    /// The fields of a key result (`KEY_RESULT`), by position.
    pub mod key_result {
        pub const TITLE: usize = 0;
        pub const METRIC_TYPE: usize = 1;
        pub const BASELINE: usize = 2;
        pub const TARGET: usize = 3;
        pub const UNIT: usize = 4;
    }
}

// ---- options ----

pub const EXPERIENCE: &[&str] = &["none", "beginner", "intermediate", "advanced"];

pub const URGENCY: &[&str] = &["low", "medium", "high", "critical"];

pub const INDUSTRY: &[&str] = &[
    "technology",
    "finance",
    "healthcare",
    "education",
    "retail",
    "manufacturing",
    "consulting",
    "other",
];

pub const COMPANY_SIZE: &[&str] = &["startup", "small", "medium", "large", "enterprise"];

/// Employee ranges of the company sizes (inclusive; `None` = no upper bound).
pub const COMPANY_SIZE_RANGES: &[(&str, i64, Option<i64>)] = &[
    ("startup", 1, Some(10)),
    ("small", 11, Some(50)),
    ("medium", 51, Some(200)),
    ("large", 201, Some(1000)),
    ("enterprise", 1001, None),
];

pub const MATURITY: &[&str] = &["beginner", "intermediate", "advanced"];

pub const CHALLENGES: &[&str] = &[
    "alignment",
    "measurement",
    "focus",
    "communication",
    "execution",
    "culture",
    "resources",
    "growth",
];

pub const BUSINESS_GOALS: &[&str] = &[
    "revenue_growth",
    "market_expansion",
    "product_development",
    "operational_efficiency",
    "customer_satisfaction",
    "team_development",
    "innovation",
    "sustainability",
];

pub const METRIC_TYPES: &[&str] = &["number", "percentage", "currency", "boolean"];

pub const LANGUAGES: &[&str] = &["es", "en"];

pub const COMMUNICATION_STYLE: &[&str] = &["formal", "informal"];

pub const NOTIFICATION_FREQUENCY: &[&str] = &["daily", "weekly", "monthly"];

pub const FOCUS_AREAS: &[&str] = &[
    "strategy",
    "execution",
    "analytics",
    "collaboration",
    "reporting",
];

pub const AI_LEVEL: &[&str] = &["none", "minimal", "moderate", "extensive"];

pub const OKR_CYCLE: &[&str] = &["monthly", "quarterly", "semiannual", "annual"];

pub const SETUP_DEMO: &[&str] = &["yes", "no", "later"];

// ---- steps ----

const WELCOME: &[Field] = &[
    field(
        "full_name",
        true,
        Kind::Text {
            min: 2,
            max: 100,
            charset: Charset::PersonName,
        },
    ),
    field(
        "job_title",
        true,
        Kind::Text {
            min: 2,
            max: 100,
            charset: Charset::Any,
        },
    ),
    field("experience_with_okr", true, Kind::Enum(EXPERIENCE)),
    field("primary_goal", true, Kind::Multiline { min: 10, max: 500 }),
    field("urgency_level", true, Kind::Enum(URGENCY)),
];

const COMPANY: &[Field] = &[
    field(
        "company_name",
        true,
        Kind::Text {
            min: 2,
            max: 120,
            charset: Charset::CompanyName,
        },
    ),
    field("industry", true, Kind::Enum(INDUSTRY)),
    field("company_size", true, Kind::Enum(COMPANY_SIZE)),
    field(
        "employee_count",
        false,
        Kind::Integer {
            min: 1,
            max: IntMax::Fixed(1_000_000),
        },
    ),
    field("country", true, Kind::Country),
    field("website", false, Kind::Url),
    field("description", true, Kind::Multiline { min: 20, max: 1000 }),
    field(
        "founded_year",
        false,
        Kind::Integer {
            min: 1800,
            max: IntMax::ReferenceYear,
        },
    ),
];

const ORGANIZATION: &[Field] = &[
    field(
        "department",
        false,
        Kind::Text {
            min: 0,
            max: 100,
            charset: Charset::Any,
        },
    ),
    field(
        "team_size",
        false,
        Kind::Integer {
            min: 1,
            max: IntMax::Fixed(10_000),
        },
    ),
    field("okr_maturity", true, Kind::Enum(MATURITY)),
    field(
        "current_challenges",
        true,
        Kind::EnumSet {
            options: CHALLENGES,
            min: 1,
            max: 8,
        },
    ),
    field(
        "business_goals",
        true,
        Kind::EnumSet {
            options: BUSINESS_GOALS,
            min: 1,
            max: 8,
        },
    ),
];

pub const KEY_RESULT: &[Field] = &[
    field(
        "title",
        true,
        Kind::Text {
            min: 5,
            max: 200,
            charset: Charset::Any,
        },
    ),
    field("metric_type", true, Kind::Enum(METRIC_TYPES)),
    with_default(field("baseline", false, Kind::Number), "0"),
    field("target", true, Kind::Number),
    field(
        "unit",
        false,
        Kind::Text {
            min: 0,
            max: 20,
            charset: Charset::Any,
        },
    ),
];

pub const OBJECTIVE: &[Field] = &[
    field(
        "title",
        true,
        Kind::Text {
            min: 5,
            max: 200,
            charset: Charset::Any,
        },
    ),
    field("description", false, Kind::Multiline { min: 0, max: 1000 }),
    field(
        "key_results",
        true,
        Kind::List {
            item: KEY_RESULT,
            min: 1,
            max: 5,
            warn_above: Some(3),
            unique: None,
            item_rule: Some(ItemRule::KeyResultTarget),
        },
    ),
];

const OBJECTIVES: &[Field] = &[field(
    "objectives",
    false,
    Kind::List {
        item: OBJECTIVE,
        min: 0,
        max: 5,
        warn_above: None,
        unique: Some("title"),
        item_rule: None,
    },
)];

const PREFERENCES: &[Field] = &[
    field("language", true, Kind::Enum(LANGUAGES)),
    field("communication_style", true, Kind::Enum(COMMUNICATION_STYLE)),
    field(
        "notification_frequency",
        true,
        Kind::Enum(NOTIFICATION_FREQUENCY),
    ),
    field(
        "focus_areas",
        true,
        Kind::EnumSet {
            options: FOCUS_AREAS,
            min: 1,
            max: 5,
        },
    ),
    field("ai_assistance_level", true, Kind::Enum(AI_LEVEL)),
    field("timezone", true, Kind::Timezone),
    with_default(
        field("okr_cycle", false, Kind::Enum(OKR_CYCLE)),
        "\"quarterly\"",
    ),
];

const REVIEW: &[Field] = &[
    field("confirmed", true, Kind::MustBeTrue),
    field("terms_accepted", true, Kind::MustBeTrue),
    field(
        "additional_notes",
        false,
        Kind::Multiline { min: 0, max: 1000 },
    ),
    field("setup_demo", false, Kind::Enum(SETUP_DEMO)),
    field("invite_emails", false, Kind::EmailList { max: 50 }),
];

pub static STEPS: [Step; 6] = [
    Step {
        id: StepId::Welcome,
        name: "welcome",
        skippable: false,
        fields: WELCOME,
    },
    Step {
        id: StepId::Company,
        name: "company",
        skippable: false,
        fields: COMPANY,
    },
    Step {
        id: StepId::Organization,
        name: "organization",
        skippable: false,
        fields: ORGANIZATION,
    },
    Step {
        id: StepId::Objectives,
        name: "objectives",
        skippable: true,
        fields: OBJECTIVES,
    },
    Step {
        id: StepId::Preferences,
        name: "preferences",
        skippable: false,
        fields: PREFERENCES,
    },
    Step {
        id: StepId::Review,
        name: "review",
        skippable: false,
        fields: REVIEW,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_in_id_order_with_unique_fields() {
        for (i, step) in STEPS.iter().enumerate() {
            assert_eq!(step.id.index(), i);
            let mut names: Vec<_> = step.fields.iter().map(|f| f.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), step.fields.len(), "{}", step.name);
        }
    }

    #[test]
    fn every_field_handle_names_its_field() {
        for (handle, name) in field::ALL {
            assert_eq!(handle.spec().name.to_uppercase(), *name);
        }
        let names = |fields: &[Field]| fields.iter().map(|f| f.name).collect::<Vec<_>>();
        let all: usize = STEPS.iter().map(|s| s.fields.len()).sum();
        assert_eq!(field::ALL.len(), all, "a handle for every field");
        assert_eq!(
            names(OBJECTIVE),
            ["title", "description", "key_results"],
            "field::objective"
        );
        assert_eq!(
            names(KEY_RESULT),
            ["title", "metric_type", "baseline", "target", "unit"],
            "field::key_result"
        );
        assert_eq!(
            [
                field::objective::TITLE,
                field::objective::DESCRIPTION,
                field::objective::KEY_RESULTS
            ],
            [0, 1, 2]
        );
        assert_eq!(
            [
                field::key_result::TITLE,
                field::key_result::METRIC_TYPE,
                field::key_result::BASELINE,
                field::key_result::TARGET,
                field::key_result::UNIT
            ],
            [0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn size_ranges_match_options() {
        let names: Vec<_> = COMPANY_SIZE_RANGES.iter().map(|r| r.0).collect();
        assert_eq!(names, COMPANY_SIZE);
    }
}
