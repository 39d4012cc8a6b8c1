//! The wizard's words, apart from its rules: each step's title and description, each field's
//! label, help text and placeholder, and each option's label, in Spanish and English. They are
//! for rendering the wizard (the metadata, `steps(locale)`, and the JSON Schema's titles); the
//! validator never reads them, so what only validates (the npm package's module) does not carry
//! them. Keyed by the names in `rules.rs`; a test checks that every step, field and option there
//! has its words here and that nothing here lacks a rule.

use crate::context::Locale;

/// A text in both locales. Written with [`tr!`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tr {
    es: &'static str,
    en: &'static str,
}

impl Tr {
    pub const fn new(es: &'static str, en: &'static str) -> Tr {
        Tr { es, en }
    }

    pub fn get(&self, locale: Locale) -> &'static str {
        match locale {
            Locale::Es => self.es,
            Locale::En => self.en,
        }
    }

    pub fn es(&self) -> &'static str {
        self.get(Locale::Es)
    }

    pub fn en(&self) -> &'static str {
        self.get(Locale::En)
    }
}

/// `tr!("Spanish", "English")`: a [`Tr`].
macro_rules! tr {
    ($es:literal, $en:literal $(,)?) => {
        $crate::texts::Tr::new($es, $en)
    };
}
pub(crate) use tr;

/// No text (a field without help or placeholder).
pub const NONE: Tr = tr!("", "");

/// A step's words.
#[derive(Debug)]
pub struct StepWords {
    pub title: Tr,
    pub description: Tr,
    pub fields: &'static [FieldWords],
}

/// A field's words: its label, help text and placeholder, its options' labels (by value), and
/// a list's item fields.
#[derive(Debug)]
pub struct FieldWords {
    pub name: &'static str,
    pub label: Tr,
    pub help: Tr,
    pub placeholder: Tr,
    pub options: &'static [(&'static str, Tr)],
    pub items: &'static [FieldWords],
}

impl StepWords {
    /// The words of a field of this step, by name.
    pub fn field(&self, name: &str) -> Option<&'static FieldWords> {
        self.fields.iter().find(|f| f.name == name)
    }
}

impl FieldWords {
    /// The words of an item field of this list field, by name.
    pub fn item(&self, name: &str) -> Option<&'static FieldWords> {
        self.items.iter().find(|f| f.name == name)
    }

    /// An option's label (empty when the value has none).
    pub fn option(&self, value: &str) -> Tr {
        self.options
            .iter()
            .find(|(v, _)| *v == value)
            .map_or(NONE, |(_, label)| *label)
    }
}

/// The words of the steps, in the order of `StepId`.
pub static STEPS: [StepWords; 6] = [
    StepWords {
        title: tr!("Bienvenida", "Welcome"),
        description: tr!(
            "Cuéntanos un poco sobre ti.",
            "Tell us a little about yourself."
        ),
        fields: WELCOME,
    },
    StepWords {
        title: tr!("Empresa", "Company"),
        description: tr!("Los datos básicos de tu empresa.", "Your company's basics."),
        fields: COMPANY,
    },
    StepWords {
        title: tr!("Organización", "Organization"),
        description: tr!(
            "Tu equipo y lo que queréis mejorar.",
            "Your team and what you want to improve."
        ),
        fields: ORGANIZATION,
    },
    StepWords {
        title: tr!("Objetivos", "Objectives"),
        description: tr!(
            "Tus primeros OKR. Puedes saltarte este paso y crearlos más tarde.",
            "Your first OKRs. You can skip this step and create them later.",
        ),
        fields: OBJECTIVES,
    },
    StepWords {
        title: tr!("Preferencias", "Preferences"),
        description: tr!(
            "Cómo quieres trabajar con la plataforma.",
            "How you want to work with the platform.",
        ),
        fields: PREFERENCES,
    },
    StepWords {
        title: tr!("Revisión", "Review"),
        description: tr!(
            "Confirma y, si quieres, invita a tu equipo.",
            "Confirm and, if you like, invite your team.",
        ),
        fields: REVIEW,
    },
];

// ---- fields ----

const WELCOME: &[FieldWords] = &[
    FieldWords {
        name: "full_name",
        label: tr!("Nombre completo", "Full name"),
        help: tr!(
            "Como quieres que te llamen en la plataforma.",
            "How you would like to be called on the platform.",
        ),
        placeholder: tr!("Ana García", "Jane Smith"),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "job_title",
        label: tr!("Cargo", "Job title"),
        help: tr!("Tu puesto en la empresa.", "Your role in the company."),
        placeholder: tr!("Directora de Operaciones", "Head of Operations"),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "experience_with_okr",
        label: tr!("Experiencia con OKR", "Experience with OKRs"),
        help: tr!(
            "Nos ayuda a adaptar las explicaciones.",
            "Helps us tailor the explanations."
        ),
        placeholder: NONE,
        options: EXPERIENCE,
        items: &[],
    },
    FieldWords {
        name: "primary_goal",
        label: tr!("Objetivo principal", "Primary goal"),
        help: tr!(
            "¿Qué quieres conseguir con los OKR?",
            "What do you want to achieve with OKRs?"
        ),
        placeholder: tr!(
            "Alinear a todos los equipos con la estrategia anual…",
            "Align every team with the yearly strategy…",
        ),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "urgency_level",
        label: tr!("Urgencia", "Urgency"),
        help: tr!(
            "¿Con qué rapidez necesitas resultados?",
            "How soon do you need results?"
        ),
        placeholder: NONE,
        options: URGENCY,
        items: &[],
    },
];

const COMPANY: &[FieldWords] = &[
    FieldWords {
        name: "company_name",
        label: tr!("Nombre de la empresa", "Company name"),
        help: tr!(
            "Se usa también para la dirección de tu espacio.",
            "Also used for your workspace address.",
        ),
        placeholder: tr!("Café Niño & Co.", "Acme Inc."),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "industry",
        label: tr!("Sector", "Industry"),
        help: NONE,
        placeholder: NONE,
        options: INDUSTRY,
        items: &[],
    },
    FieldWords {
        name: "company_size",
        label: tr!("Tamaño de la empresa", "Company size"),
        help: tr!("Número aproximado de personas.", "Approximate headcount."),
        placeholder: NONE,
        options: COMPANY_SIZE,
        items: &[],
    },
    FieldWords {
        name: "employee_count",
        label: tr!("Número de empleados", "Number of employees"),
        help: tr!(
            "Opcional; debería encajar con el tamaño elegido.",
            "Optional; should match the size you chose.",
        ),
        placeholder: tr!("45", "45"),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "country",
        label: tr!("País", "Country"),
        help: tr!("País de la sede principal.", "Country of the headquarters."),
        placeholder: NONE,
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "website",
        label: tr!("Sitio web", "Website"),
        help: tr!(
            "Opcional; por ejemplo acme.com.",
            "Optional; for example acme.com."
        ),
        placeholder: tr!("https://empresa.com", "https://company.com"),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "description",
        label: tr!("Descripción", "Description"),
        help: tr!("¿A qué se dedica la empresa?", "What does the company do?"),
        placeholder: tr!(
            "Tostamos y servimos café de especialidad en…",
            "We roast and serve specialty coffee in…",
        ),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "founded_year",
        label: tr!("Año de fundación", "Year founded"),
        help: NONE,
        placeholder: tr!("2015", "2015"),
        options: &[],
        items: &[],
    },
];

const ORGANIZATION: &[FieldWords] = &[
    FieldWords {
        name: "department",
        label: tr!("Departamento", "Department"),
        help: tr!("Opcional.", "Optional."),
        placeholder: tr!("Operaciones", "Operations"),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "team_size",
        label: tr!("Tamaño del equipo", "Team size"),
        help: tr!("Personas en tu equipo.", "People on your team."),
        placeholder: tr!("8", "8"),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "okr_maturity",
        label: tr!("Madurez con OKR", "OKR maturity"),
        help: tr!(
            "¿Cuánto usa ya la organización los OKR?",
            "How much does the organization already use OKRs?",
        ),
        placeholder: NONE,
        options: MATURITY,
        items: &[],
    },
    FieldWords {
        name: "current_challenges",
        label: tr!("Retos actuales", "Current challenges"),
        help: tr!("Elige al menos uno.", "Choose at least one."),
        placeholder: NONE,
        options: CHALLENGES,
        items: &[],
    },
    FieldWords {
        name: "business_goals",
        label: tr!("Objetivos de negocio", "Business goals"),
        help: tr!("Elige al menos uno.", "Choose at least one."),
        placeholder: NONE,
        options: BUSINESS_GOALS,
        items: &[],
    },
];

const KEY_RESULT: &[FieldWords] = &[
    FieldWords {
        name: "title",
        label: tr!("Resultado clave", "Key result"),
        help: tr!(
            "Algo medible que demuestre el avance.",
            "Something measurable that shows progress.",
        ),
        placeholder: tr!("Aumentar el NPS", "Raise NPS"),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "metric_type",
        label: tr!("Tipo de métrica", "Metric type"),
        help: NONE,
        placeholder: NONE,
        options: METRIC_TYPES,
        items: &[],
    },
    FieldWords {
        name: "baseline",
        label: tr!("Valor inicial", "Baseline"),
        help: tr!("Por defecto 0.", "Defaults to 0."),
        placeholder: tr!("0", "0"),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "target",
        label: tr!("Valor objetivo", "Target"),
        help: tr!(
            "Distinto del valor inicial.",
            "Different from the baseline."
        ),
        placeholder: tr!("100", "100"),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "unit",
        label: tr!("Unidad", "Unit"),
        help: tr!(
            "Opcional; por ejemplo EUR o clientes.",
            "Optional; for example USD or customers."
        ),
        placeholder: tr!("clientes", "customers"),
        options: &[],
        items: &[],
    },
];

const OBJECTIVE: &[FieldWords] = &[
    FieldWords {
        name: "title",
        label: tr!("Objetivo", "Objective"),
        help: tr!("Cualitativo e inspirador.", "Qualitative and inspiring."),
        placeholder: tr!("Encantar a nuestros clientes", "Delight our customers"),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "description",
        label: tr!("Descripción", "Description"),
        help: tr!("Opcional.", "Optional."),
        placeholder: NONE,
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "key_results",
        label: tr!("Resultados clave", "Key results"),
        help: tr!(
            "Entre 1 y 5; lo ideal son 3 como máximo.",
            "Between 1 and 5; ideally no more than 3.",
        ),
        placeholder: NONE,
        options: &[],
        items: KEY_RESULT,
    },
];

const OBJECTIVES: &[FieldWords] = &[FieldWords {
    name: "objectives",
    label: tr!("Objetivos", "Objectives"),
    help: tr!(
        "Hasta 5. Puedes saltarte este paso.",
        "Up to 5. You can skip this step."
    ),
    placeholder: NONE,
    options: &[],
    items: OBJECTIVE,
}];

const PREFERENCES: &[FieldWords] = &[
    FieldWords {
        name: "language",
        label: tr!("Idioma", "Language"),
        help: NONE,
        placeholder: NONE,
        options: LANGUAGES,
        items: &[],
    },
    FieldWords {
        name: "communication_style",
        label: tr!("Estilo de comunicación", "Communication style"),
        help: NONE,
        placeholder: NONE,
        options: COMMUNICATION_STYLE,
        items: &[],
    },
    FieldWords {
        name: "notification_frequency",
        label: tr!("Frecuencia de notificaciones", "Notification frequency"),
        help: NONE,
        placeholder: NONE,
        options: NOTIFICATION_FREQUENCY,
        items: &[],
    },
    FieldWords {
        name: "focus_areas",
        label: tr!("Áreas de enfoque", "Focus areas"),
        help: tr!("Elige al menos una.", "Choose at least one."),
        placeholder: NONE,
        options: FOCUS_AREAS,
        items: &[],
    },
    FieldWords {
        name: "ai_assistance_level",
        label: tr!("Asistencia de IA", "AI assistance"),
        help: tr!(
            "«Ninguna» desactiva por completo la IA.",
            "“None” turns AI off completely."
        ),
        placeholder: NONE,
        options: AI_LEVEL,
        items: &[],
    },
    FieldWords {
        name: "timezone",
        label: tr!("Zona horaria", "Time zone"),
        help: NONE,
        placeholder: tr!("America/Mexico_City", "America/New_York"),
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "okr_cycle",
        label: tr!("Ciclo de OKR", "OKR cycle"),
        help: tr!(
            "Trimestral si no eliges otro.",
            "Quarterly unless you choose another."
        ),
        placeholder: NONE,
        options: OKR_CYCLE,
        items: &[],
    },
];

const REVIEW: &[FieldWords] = &[
    FieldWords {
        name: "confirmed",
        label: tr!("He revisado los datos", "I have reviewed the information"),
        help: NONE,
        placeholder: NONE,
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "terms_accepted",
        label: tr!(
            "Acepto los términos y condiciones",
            "I accept the terms and conditions"
        ),
        help: NONE,
        placeholder: NONE,
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "additional_notes",
        label: tr!("Notas adicionales", "Additional notes"),
        help: tr!("Opcional.", "Optional."),
        placeholder: NONE,
        options: &[],
        items: &[],
    },
    FieldWords {
        name: "setup_demo",
        label: tr!(
            "¿Preparamos datos de demostración?",
            "Shall we set up demo data?"
        ),
        help: NONE,
        placeholder: NONE,
        options: SETUP_DEMO,
        items: &[],
    },
    FieldWords {
        name: "invite_emails",
        label: tr!("Invitar a tu equipo", "Invite your team"),
        help: tr!(
            "Hasta 50 direcciones de correo.",
            "Up to 50 e-mail addresses."
        ),
        placeholder: tr!("ana@empresa.com", "jane@company.com"),
        options: &[],
        items: &[],
    },
];

// ---- options ----

const EXPERIENCE: &[(&str, Tr)] = &[
    ("none", tr!("Ninguna", "None")),
    ("beginner", tr!("Principiante", "Beginner")),
    ("intermediate", tr!("Intermedia", "Intermediate")),
    ("advanced", tr!("Avanzada", "Advanced")),
];

const URGENCY: &[(&str, Tr)] = &[
    ("low", tr!("Baja", "Low")),
    ("medium", tr!("Media", "Medium")),
    ("high", tr!("Alta", "High")),
    ("critical", tr!("Crítica", "Critical")),
];

const INDUSTRY: &[(&str, Tr)] = &[
    ("technology", tr!("Tecnología", "Technology")),
    ("finance", tr!("Finanzas", "Finance")),
    ("healthcare", tr!("Salud", "Healthcare")),
    ("education", tr!("Educación", "Education")),
    ("retail", tr!("Comercio minorista", "Retail")),
    ("manufacturing", tr!("Manufactura", "Manufacturing")),
    ("consulting", tr!("Consultoría", "Consulting")),
    ("other", tr!("Otra", "Other")),
];

const COMPANY_SIZE: &[(&str, Tr)] = &[
    ("startup", tr!("Startup (1–10)", "Startup (1–10)")),
    ("small", tr!("Pequeña (11–50)", "Small (11–50)")),
    ("medium", tr!("Mediana (51–200)", "Medium (51–200)")),
    ("large", tr!("Grande (201–1000)", "Large (201–1000)")),
    (
        "enterprise",
        tr!("Corporación (1001+)", "Enterprise (1001+)"),
    ),
];

const MATURITY: &[(&str, Tr)] = &[
    ("beginner", tr!("Principiante", "Beginner")),
    ("intermediate", tr!("Intermedia", "Intermediate")),
    ("advanced", tr!("Avanzada", "Advanced")),
];

const CHALLENGES: &[(&str, Tr)] = &[
    ("alignment", tr!("Alineación", "Alignment")),
    ("measurement", tr!("Medición", "Measurement")),
    ("focus", tr!("Foco", "Focus")),
    ("communication", tr!("Comunicación", "Communication")),
    ("execution", tr!("Ejecución", "Execution")),
    ("culture", tr!("Cultura", "Culture")),
    ("resources", tr!("Recursos", "Resources")),
    ("growth", tr!("Crecimiento", "Growth")),
];

const BUSINESS_GOALS: &[(&str, Tr)] = &[
    (
        "revenue_growth",
        tr!("Crecimiento de ingresos", "Revenue growth"),
    ),
    (
        "market_expansion",
        tr!("Expansión de mercado", "Market expansion"),
    ),
    (
        "product_development",
        tr!("Desarrollo de producto", "Product development"),
    ),
    (
        "operational_efficiency",
        tr!("Eficiencia operativa", "Operational efficiency"),
    ),
    (
        "customer_satisfaction",
        tr!("Satisfacción del cliente", "Customer satisfaction"),
    ),
    (
        "team_development",
        tr!("Desarrollo del equipo", "Team development"),
    ),
    ("innovation", tr!("Innovación", "Innovation")),
    ("sustainability", tr!("Sostenibilidad", "Sustainability")),
];

const METRIC_TYPES: &[(&str, Tr)] = &[
    ("number", tr!("Número", "Number")),
    ("percentage", tr!("Porcentaje", "Percentage")),
    ("currency", tr!("Moneda", "Currency")),
    ("boolean", tr!("Sí / no", "Yes / no")),
];

const LANGUAGES: &[(&str, Tr)] = &[
    ("es", tr!("Español", "Spanish")),
    ("en", tr!("Inglés", "English")),
];

const COMMUNICATION_STYLE: &[(&str, Tr)] = &[
    ("formal", tr!("Formal", "Formal")),
    ("informal", tr!("Cercano", "Informal")),
];

const NOTIFICATION_FREQUENCY: &[(&str, Tr)] = &[
    ("daily", tr!("Diaria", "Daily")),
    ("weekly", tr!("Semanal", "Weekly")),
    ("monthly", tr!("Mensual", "Monthly")),
];

const FOCUS_AREAS: &[(&str, Tr)] = &[
    ("strategy", tr!("Estrategia", "Strategy")),
    ("execution", tr!("Ejecución", "Execution")),
    ("analytics", tr!("Analítica", "Analytics")),
    ("collaboration", tr!("Colaboración", "Collaboration")),
    ("reporting", tr!("Informes", "Reporting")),
];

const AI_LEVEL: &[(&str, Tr)] = &[
    ("none", tr!("Ninguna (sin IA)", "None (no AI)")),
    ("minimal", tr!("Mínima", "Minimal")),
    ("moderate", tr!("Moderada", "Moderate")),
    ("extensive", tr!("Amplia", "Extensive")),
];

const OKR_CYCLE: &[(&str, Tr)] = &[
    ("monthly", tr!("Mensual", "Monthly")),
    ("quarterly", tr!("Trimestral", "Quarterly")),
    ("semiannual", tr!("Semestral", "Semiannual")),
    ("annual", tr!("Anual", "Annual")),
];

const SETUP_DEMO: &[(&str, Tr)] = &[
    ("yes", tr!("Sí", "Yes")),
    ("no", tr!("No", "No")),
    ("later", tr!("Más tarde", "Later")),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Field, Kind, StepId};

    /// Every field of the rules has its words (and every option its label), and the words name
    /// no field or option the rules lack.
    fn check(rules: &[Field], words: &[FieldWords], at: &str) {
        let names = |w: &[FieldWords]| w.iter().map(|f| f.name).collect::<Vec<_>>();
        assert_eq!(
            rules.iter().map(|f| f.name).collect::<Vec<_>>(),
            names(words),
            "{at}"
        );
        for (field, words) in rules.iter().zip(words) {
            let at = format!("{at}.{}", field.name);
            assert!(
                !words.label.es().is_empty() && !words.label.en().is_empty(),
                "{at}"
            );
            let values: Vec<_> = words.options.iter().map(|(v, _)| *v).collect();
            match field.kind {
                Kind::Enum(options) | Kind::EnumSet { options, .. } => {
                    assert_eq!(options, values, "{at}");
                    for (_, label) in words.options {
                        assert!(!label.es().is_empty() && !label.en().is_empty(), "{at}");
                    }
                }
                _ => assert!(values.is_empty(), "{at}: options without an enum"),
            }
            match field.kind {
                Kind::List { item, .. } => check(item, words.items, &at),
                _ => assert!(words.items.is_empty(), "{at}: items without a list"),
            }
        }
    }

    #[test]
    fn every_rule_has_its_words_and_every_word_a_rule() {
        for step in StepId::ALL {
            let words = &STEPS[step.index()];
            assert!(!words.title.en().is_empty() && !words.description.es().is_empty());
            check(step.spec().fields, words.fields, step.name());
        }
    }

    #[test]
    fn every_text_is_in_both_locales() {
        fn each(fields: &[FieldWords], texts: &mut Vec<Tr>) {
            for field in fields {
                texts.extend([field.label, field.help, field.placeholder]);
                texts.extend(field.options.iter().map(|(_, label)| *label));
                each(field.items, texts);
            }
        }
        let mut texts = vec![];
        for step in &STEPS {
            texts.extend([step.title, step.description]);
            each(step.fields, &mut texts);
        }
        assert!(texts.len() > 150);
        for t in &texts {
            assert_eq!(t.es().is_empty(), t.en().is_empty(), "{t:?}");
        }
        let welcome = STEPS[StepId::Welcome.index()].title;
        assert_eq!((welcome.es(), welcome.en()), ("Bienvenida", "Welcome"));
        assert_eq!((NONE.es(), NONE.en()), ("", ""));
    }
}
