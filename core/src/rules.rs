//! The wizard as data: steps, fields, limits, options, labels, help texts and placeholders in
//! Spanish and English. The validator, the normalizer, the metadata export, the JSON Schema and
//! the transform all read these tables, so they cannot disagree.

use crate::context::Locale;

/// A text in both locales, kept as one string: the Spanish text, U+001F, the English text. One
/// pointer in the tables instead of two (the npm package's tables are mostly pointers, which
/// gzip cannot shrink; decision 67). Written with [`tr!`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tr(pub(crate) &'static str);

impl Tr {
    pub fn get(&self, locale: Locale) -> &'static str {
        let (es, en) = self
            .0
            .split_once(char::from(SEPARATOR))
            .unwrap_or((self.0, ""));
        match locale {
            Locale::Es => es,
            Locale::En => en,
        }
    }

    pub fn es(&self) -> &'static str {
        self.get(Locale::Es)
    }

    pub fn en(&self) -> &'static str {
        self.get(Locale::En)
    }
}

/// Between the two texts of a [`Tr`] (no label, help text or placeholder contains it).
const SEPARATOR: u8 = 0x1F;

/// `tr!("Spanish", "English")`: a [`Tr`] (both literals, joined at compile time).
macro_rules! tr {
    ($es:literal, $en:literal $(,)?) => {
        $crate::rules::Tr(concat!($es, "\u{1f}", $en))
    };
}
pub(crate) use tr;

const NONE: Tr = tr!("", "");

/// One value of an enum, with its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opt {
    pub value: &'static str,
    pub label: Tr,
}

/// `opt!("value", "Spanish label", "English label")`.
macro_rules! opt {
    ($value:literal, $es:literal, $en:literal $(,)?) => {
        Opt {
            value: $value,
            label: tr!($es, $en),
        }
    };
}

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
    Enum(&'static [Opt]),
    /// Distinct values of `options`.
    EnumSet {
        options: &'static [Opt],
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
    pub label: Tr,
    pub help: Tr,
    pub placeholder: Tr,
    /// The value the transform uses when the field is absent, as a JSON literal.
    pub default: Option<&'static str>,
}

const fn field(
    name: &'static str,
    required: bool,
    kind: Kind,
    label: Tr,
    help: Tr,
    placeholder: Tr,
) -> Field {
    Field {
        name,
        required,
        kind,
        label,
        help,
        placeholder,
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
    pub title: Tr,
    pub description: Tr,
    /// The step may be left empty (the objectives).
    pub skippable: bool,
    pub fields: &'static [Field],
}

impl Step {
    pub fn field(&self, name: &str) -> Option<(usize, &'static Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }
}

// ---- options ----

pub const EXPERIENCE: &[Opt] = &[
    opt!("none", "Ninguna", "None"),
    opt!("beginner", "Principiante", "Beginner"),
    opt!("intermediate", "Intermedia", "Intermediate"),
    opt!("advanced", "Avanzada", "Advanced"),
];

pub const URGENCY: &[Opt] = &[
    opt!("low", "Baja", "Low"),
    opt!("medium", "Media", "Medium"),
    opt!("high", "Alta", "High"),
    opt!("critical", "Crítica", "Critical"),
];

pub const INDUSTRY: &[Opt] = &[
    opt!("technology", "Tecnología", "Technology"),
    opt!("finance", "Finanzas", "Finance"),
    opt!("healthcare", "Salud", "Healthcare"),
    opt!("education", "Educación", "Education"),
    opt!("retail", "Comercio minorista", "Retail"),
    opt!("manufacturing", "Manufactura", "Manufacturing"),
    opt!("consulting", "Consultoría", "Consulting"),
    opt!("other", "Otra", "Other"),
];

pub const COMPANY_SIZE: &[Opt] = &[
    opt!("startup", "Startup (1–10)", "Startup (1–10)"),
    opt!("small", "Pequeña (11–50)", "Small (11–50)"),
    opt!("medium", "Mediana (51–200)", "Medium (51–200)"),
    opt!("large", "Grande (201–1000)", "Large (201–1000)"),
    opt!("enterprise", "Corporación (1001+)", "Enterprise (1001+)"),
];

/// Employee ranges of the company sizes (inclusive; `None` = no upper bound).
pub const COMPANY_SIZE_RANGES: &[(&str, i64, Option<i64>)] = &[
    ("startup", 1, Some(10)),
    ("small", 11, Some(50)),
    ("medium", 51, Some(200)),
    ("large", 201, Some(1000)),
    ("enterprise", 1001, None),
];

pub const MATURITY: &[Opt] = &[
    opt!("beginner", "Principiante", "Beginner"),
    opt!("intermediate", "Intermedia", "Intermediate"),
    opt!("advanced", "Avanzada", "Advanced"),
];

pub const CHALLENGES: &[Opt] = &[
    opt!("alignment", "Alineación", "Alignment"),
    opt!("measurement", "Medición", "Measurement"),
    opt!("focus", "Foco", "Focus"),
    opt!("communication", "Comunicación", "Communication"),
    opt!("execution", "Ejecución", "Execution"),
    opt!("culture", "Cultura", "Culture"),
    opt!("resources", "Recursos", "Resources"),
    opt!("growth", "Crecimiento", "Growth"),
];

pub const BUSINESS_GOALS: &[Opt] = &[
    opt!(
        "revenue_growth",
        "Crecimiento de ingresos",
        "Revenue growth",
    ),
    opt!(
        "market_expansion",
        "Expansión de mercado",
        "Market expansion",
    ),
    opt!(
        "product_development",
        "Desarrollo de producto",
        "Product development",
    ),
    opt!(
        "operational_efficiency",
        "Eficiencia operativa",
        "Operational efficiency",
    ),
    opt!(
        "customer_satisfaction",
        "Satisfacción del cliente",
        "Customer satisfaction",
    ),
    opt!(
        "team_development",
        "Desarrollo del equipo",
        "Team development",
    ),
    opt!("innovation", "Innovación", "Innovation"),
    opt!("sustainability", "Sostenibilidad", "Sustainability"),
];

pub const METRIC_TYPES: &[Opt] = &[
    opt!("number", "Número", "Number"),
    opt!("percentage", "Porcentaje", "Percentage"),
    opt!("currency", "Moneda", "Currency"),
    opt!("boolean", "Sí / no", "Yes / no"),
];

pub const LANGUAGES: &[Opt] = &[
    opt!("es", "Español", "Spanish"),
    opt!("en", "Inglés", "English"),
];

pub const COMMUNICATION_STYLE: &[Opt] = &[
    opt!("formal", "Formal", "Formal"),
    opt!("informal", "Cercano", "Informal"),
];

pub const NOTIFICATION_FREQUENCY: &[Opt] = &[
    opt!("daily", "Diaria", "Daily"),
    opt!("weekly", "Semanal", "Weekly"),
    opt!("monthly", "Mensual", "Monthly"),
];

pub const FOCUS_AREAS: &[Opt] = &[
    opt!("strategy", "Estrategia", "Strategy"),
    opt!("execution", "Ejecución", "Execution"),
    opt!("analytics", "Analítica", "Analytics"),
    opt!("collaboration", "Colaboración", "Collaboration"),
    opt!("reporting", "Informes", "Reporting"),
];

pub const AI_LEVEL: &[Opt] = &[
    opt!("none", "Ninguna (sin IA)", "None (no AI)"),
    opt!("minimal", "Mínima", "Minimal"),
    opt!("moderate", "Moderada", "Moderate"),
    opt!("extensive", "Amplia", "Extensive"),
];

pub const OKR_CYCLE: &[Opt] = &[
    opt!("monthly", "Mensual", "Monthly"),
    opt!("quarterly", "Trimestral", "Quarterly"),
    opt!("semiannual", "Semestral", "Semiannual"),
    opt!("annual", "Anual", "Annual"),
];

pub const SETUP_DEMO: &[Opt] = &[
    opt!("yes", "Sí", "Yes"),
    opt!("no", "No", "No"),
    opt!("later", "Más tarde", "Later"),
];

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
        tr!("Nombre completo", "Full name"),
        tr!(
            "Como quieres que te llamen en la plataforma.",
            "How you would like to be called on the platform.",
        ),
        tr!("Ana García", "Jane Smith"),
    ),
    field(
        "job_title",
        true,
        Kind::Text {
            min: 2,
            max: 100,
            charset: Charset::Any,
        },
        tr!("Cargo", "Job title"),
        tr!("Tu puesto en la empresa.", "Your role in the company."),
        tr!("Directora de Operaciones", "Head of Operations"),
    ),
    field(
        "experience_with_okr",
        true,
        Kind::Enum(EXPERIENCE),
        tr!("Experiencia con OKR", "Experience with OKRs"),
        tr!(
            "Nos ayuda a adaptar las explicaciones.",
            "Helps us tailor the explanations.",
        ),
        NONE,
    ),
    field(
        "primary_goal",
        true,
        Kind::Multiline { min: 10, max: 500 },
        tr!("Objetivo principal", "Primary goal"),
        tr!(
            "¿Qué quieres conseguir con los OKR?",
            "What do you want to achieve with OKRs?",
        ),
        tr!(
            "Alinear a todos los equipos con la estrategia anual…",
            "Align every team with the yearly strategy…",
        ),
    ),
    field(
        "urgency_level",
        true,
        Kind::Enum(URGENCY),
        tr!("Urgencia", "Urgency"),
        tr!(
            "¿Con qué rapidez necesitas resultados?",
            "How soon do you need results?",
        ),
        NONE,
    ),
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
        tr!("Nombre de la empresa", "Company name"),
        tr!(
            "Se usa también para la dirección de tu espacio.",
            "Also used for your workspace address.",
        ),
        tr!("Café Niño & Co.", "Acme Inc."),
    ),
    field(
        "industry",
        true,
        Kind::Enum(INDUSTRY),
        tr!("Sector", "Industry"),
        NONE,
        NONE,
    ),
    field(
        "company_size",
        true,
        Kind::Enum(COMPANY_SIZE),
        tr!("Tamaño de la empresa", "Company size"),
        tr!("Número aproximado de personas.", "Approximate headcount."),
        NONE,
    ),
    field(
        "employee_count",
        false,
        Kind::Integer {
            min: 1,
            max: IntMax::Fixed(1_000_000),
        },
        tr!("Número de empleados", "Number of employees"),
        tr!(
            "Opcional; debería encajar con el tamaño elegido.",
            "Optional; should match the size you chose.",
        ),
        tr!("45", "45"),
    ),
    field(
        "country",
        true,
        Kind::Country,
        tr!("País", "Country"),
        tr!("País de la sede principal.", "Country of the headquarters."),
        NONE,
    ),
    field(
        "website",
        false,
        Kind::Url,
        tr!("Sitio web", "Website"),
        tr!(
            "Opcional; por ejemplo acme.com.",
            "Optional; for example acme.com.",
        ),
        tr!("https://empresa.com", "https://company.com"),
    ),
    field(
        "description",
        true,
        Kind::Multiline { min: 20, max: 1000 },
        tr!("Descripción", "Description"),
        tr!("¿A qué se dedica la empresa?", "What does the company do?"),
        tr!(
            "Tostamos y servimos café de especialidad en…",
            "We roast and serve specialty coffee in…",
        ),
    ),
    field(
        "founded_year",
        false,
        Kind::Integer {
            min: 1800,
            max: IntMax::ReferenceYear,
        },
        tr!("Año de fundación", "Year founded"),
        NONE,
        tr!("2015", "2015"),
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
        tr!("Departamento", "Department"),
        tr!("Opcional.", "Optional."),
        tr!("Operaciones", "Operations"),
    ),
    field(
        "team_size",
        false,
        Kind::Integer {
            min: 1,
            max: IntMax::Fixed(10_000),
        },
        tr!("Tamaño del equipo", "Team size"),
        tr!("Personas en tu equipo.", "People on your team."),
        tr!("8", "8"),
    ),
    field(
        "okr_maturity",
        true,
        Kind::Enum(MATURITY),
        tr!("Madurez con OKR", "OKR maturity"),
        tr!(
            "¿Cuánto usa ya la organización los OKR?",
            "How much does the organization already use OKRs?",
        ),
        NONE,
    ),
    field(
        "current_challenges",
        true,
        Kind::EnumSet {
            options: CHALLENGES,
            min: 1,
            max: 8,
        },
        tr!("Retos actuales", "Current challenges"),
        tr!("Elige al menos uno.", "Choose at least one."),
        NONE,
    ),
    field(
        "business_goals",
        true,
        Kind::EnumSet {
            options: BUSINESS_GOALS,
            min: 1,
            max: 8,
        },
        tr!("Objetivos de negocio", "Business goals"),
        tr!("Elige al menos uno.", "Choose at least one."),
        NONE,
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
        tr!("Resultado clave", "Key result"),
        tr!(
            "Algo medible que demuestre el avance.",
            "Something measurable that shows progress.",
        ),
        tr!("Aumentar el NPS", "Raise NPS"),
    ),
    field(
        "metric_type",
        true,
        Kind::Enum(METRIC_TYPES),
        tr!("Tipo de métrica", "Metric type"),
        NONE,
        NONE,
    ),
    with_default(
        field(
            "baseline",
            false,
            Kind::Number,
            tr!("Valor inicial", "Baseline"),
            tr!("Por defecto 0.", "Defaults to 0."),
            tr!("0", "0"),
        ),
        "0",
    ),
    field(
        "target",
        true,
        Kind::Number,
        tr!("Valor objetivo", "Target"),
        tr!(
            "Distinto del valor inicial.",
            "Different from the baseline.",
        ),
        tr!("100", "100"),
    ),
    field(
        "unit",
        false,
        Kind::Text {
            min: 0,
            max: 20,
            charset: Charset::Any,
        },
        tr!("Unidad", "Unit"),
        tr!(
            "Opcional; por ejemplo EUR o clientes.",
            "Optional; for example USD or customers.",
        ),
        tr!("clientes", "customers"),
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
        tr!("Objetivo", "Objective"),
        tr!("Cualitativo e inspirador.", "Qualitative and inspiring."),
        tr!("Encantar a nuestros clientes", "Delight our customers"),
    ),
    field(
        "description",
        false,
        Kind::Multiline { min: 0, max: 1000 },
        tr!("Descripción", "Description"),
        tr!("Opcional.", "Optional."),
        NONE,
    ),
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
        tr!("Resultados clave", "Key results"),
        tr!(
            "Entre 1 y 5; lo ideal son 3 como máximo.",
            "Between 1 and 5; ideally no more than 3.",
        ),
        NONE,
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
    tr!("Objetivos", "Objectives"),
    tr!(
        "Hasta 5. Puedes saltarte este paso.",
        "Up to 5. You can skip this step.",
    ),
    NONE,
)];

const PREFERENCES: &[Field] = &[
    field(
        "language",
        true,
        Kind::Enum(LANGUAGES),
        tr!("Idioma", "Language"),
        NONE,
        NONE,
    ),
    field(
        "communication_style",
        true,
        Kind::Enum(COMMUNICATION_STYLE),
        tr!("Estilo de comunicación", "Communication style"),
        NONE,
        NONE,
    ),
    field(
        "notification_frequency",
        true,
        Kind::Enum(NOTIFICATION_FREQUENCY),
        tr!("Frecuencia de notificaciones", "Notification frequency"),
        NONE,
        NONE,
    ),
    field(
        "focus_areas",
        true,
        Kind::EnumSet {
            options: FOCUS_AREAS,
            min: 1,
            max: 5,
        },
        tr!("Áreas de enfoque", "Focus areas"),
        tr!("Elige al menos una.", "Choose at least one."),
        NONE,
    ),
    field(
        "ai_assistance_level",
        true,
        Kind::Enum(AI_LEVEL),
        tr!("Asistencia de IA", "AI assistance"),
        tr!(
            "«Ninguna» desactiva por completo la IA.",
            "“None” turns AI off completely.",
        ),
        NONE,
    ),
    field(
        "timezone",
        true,
        Kind::Timezone,
        tr!("Zona horaria", "Time zone"),
        NONE,
        tr!("America/Mexico_City", "America/New_York"),
    ),
    with_default(
        field(
            "okr_cycle",
            false,
            Kind::Enum(OKR_CYCLE),
            tr!("Ciclo de OKR", "OKR cycle"),
            tr!(
                "Trimestral si no eliges otro.",
                "Quarterly unless you choose another.",
            ),
            NONE,
        ),
        "\"quarterly\"",
    ),
];

const REVIEW: &[Field] = &[
    field(
        "confirmed",
        true,
        Kind::MustBeTrue,
        tr!("He revisado los datos", "I have reviewed the information"),
        NONE,
        NONE,
    ),
    field(
        "terms_accepted",
        true,
        Kind::MustBeTrue,
        tr!(
            "Acepto los términos y condiciones",
            "I accept the terms and conditions",
        ),
        NONE,
        NONE,
    ),
    field(
        "additional_notes",
        false,
        Kind::Multiline { min: 0, max: 1000 },
        tr!("Notas adicionales", "Additional notes"),
        tr!("Opcional.", "Optional."),
        NONE,
    ),
    field(
        "setup_demo",
        false,
        Kind::Enum(SETUP_DEMO),
        tr!(
            "¿Preparamos datos de demostración?",
            "Shall we set up demo data?",
        ),
        NONE,
        NONE,
    ),
    field(
        "invite_emails",
        false,
        Kind::EmailList { max: 50 },
        tr!("Invitar a tu equipo", "Invite your team"),
        tr!(
            "Hasta 50 direcciones de correo.",
            "Up to 50 e-mail addresses.",
        ),
        tr!("ana@empresa.com", "jane@company.com"),
    ),
];

pub static STEPS: [Step; 6] = [
    Step {
        id: StepId::Welcome,
        name: "welcome",
        title: tr!("Bienvenida", "Welcome"),
        description: tr!(
            "Cuéntanos un poco sobre ti.",
            "Tell us a little about yourself.",
        ),
        skippable: false,
        fields: WELCOME,
    },
    Step {
        id: StepId::Company,
        name: "company",
        title: tr!("Empresa", "Company"),
        description: tr!("Los datos básicos de tu empresa.", "Your company's basics."),
        skippable: false,
        fields: COMPANY,
    },
    Step {
        id: StepId::Organization,
        name: "organization",
        title: tr!("Organización", "Organization"),
        description: tr!(
            "Tu equipo y lo que queréis mejorar.",
            "Your team and what you want to improve.",
        ),
        skippable: false,
        fields: ORGANIZATION,
    },
    Step {
        id: StepId::Objectives,
        name: "objectives",
        title: tr!("Objetivos", "Objectives"),
        description: tr!(
            "Tus primeros OKR. Puedes saltarte este paso y crearlos más tarde.",
            "Your first OKRs. You can skip this step and create them later.",
        ),
        skippable: true,
        fields: OBJECTIVES,
    },
    Step {
        id: StepId::Preferences,
        name: "preferences",
        title: tr!("Preferencias", "Preferences"),
        description: tr!(
            "Cómo quieres trabajar con la plataforma.",
            "How you want to work with the platform.",
        ),
        skippable: false,
        fields: PREFERENCES,
    },
    Step {
        id: StepId::Review,
        name: "review",
        title: tr!("Revisión", "Review"),
        description: tr!(
            "Confirma y, si quieres, invita a tu equipo.",
            "Confirm and, if you like, invite your team.",
        ),
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
    fn every_label_is_translated() {
        fn check(fields: &[Field]) {
            for f in fields {
                assert!(
                    !f.label.es().is_empty() && !f.label.en().is_empty(),
                    "{}",
                    f.name
                );
                if let Kind::Enum(o) | Kind::EnumSet { options: o, .. } = f.kind {
                    assert!(o
                        .iter()
                        .all(|o| !o.label.es().is_empty() && !o.label.en().is_empty()));
                }
                if let Kind::List { item, .. } = f.kind {
                    check(item);
                }
            }
        }
        STEPS.iter().for_each(|s| check(s.fields));
    }

    #[test]
    fn every_text_splits_into_its_two_locales() {
        let separators = |t: &Tr| t.0.bytes().filter(|&b| b == SEPARATOR).count();
        fn each(fields: &[Field], f: &mut dyn FnMut(&Tr)) {
            for field in fields {
                [field.label, field.help, field.placeholder]
                    .iter()
                    .for_each(&mut *f);
                if let Kind::Enum(o) | Kind::EnumSet { options: o, .. } = field.kind {
                    o.iter().for_each(|o| f(&o.label));
                }
                if let Kind::List { item, .. } = field.kind {
                    each(item, f);
                }
            }
        }
        let mut texts = vec![];
        for step in STEPS.iter() {
            texts.extend([step.title, step.description]);
            each(step.fields, &mut |t| texts.push(*t));
        }
        assert!(texts.len() > 150);
        for t in &texts {
            assert_eq!(separators(t), 1, "{t:?}");
            assert_eq!([t.es(), t.en()].join("\u{1f}"), t.0);
        }
        let welcome = StepId::Welcome.spec().title;
        assert_eq!((welcome.es(), welcome.en()), ("Bienvenida", "Welcome"));
        assert_eq!((NONE.es(), NONE.en()), ("", ""));
    }

    #[test]
    fn size_ranges_match_options() {
        let names: Vec<_> = COMPANY_SIZE_RANGES.iter().map(|r| r.0).collect();
        let opts: Vec<_> = COMPANY_SIZE.iter().map(|o| o.value).collect();
        assert_eq!(names, opts);
    }
}
