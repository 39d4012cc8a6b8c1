//! The built-in template catalog: three objectives per industry, each tied to the business goal
//! it serves, with two or three key results, in Spanish and English. No network, no randomness:
//! the same draft always gets the same suggestions.

use super::{KeyResultSuggestion, ObjectiveSuggestion, Provider, ProviderError, SuggestionRequest};
use serde_json::Value;

struct Template {
    industry: &'static str,
    /// The business goal (step `organization`) this objective serves; matching ones rank first.
    goal: &'static str,
    es: &'static str,
    en: &'static str,
    key_results: &'static [Kr],
}

struct Kr {
    es: &'static str,
    en: &'static str,
    metric: &'static str,
    baseline: f64,
    target: f64,
    unit: Option<(&'static str, &'static str)>,
}

const fn kr(
    es: &'static str,
    en: &'static str,
    metric: &'static str,
    baseline: f64,
    target: f64,
) -> Kr {
    Kr {
        es,
        en,
        metric,
        baseline,
        target,
        unit: None,
    }
}

const fn kru(
    es: &'static str,
    en: &'static str,
    metric: &'static str,
    baseline: f64,
    target: f64,
    unit: (&'static str, &'static str),
) -> Kr {
    Kr {
        es,
        en,
        metric,
        baseline,
        target,
        unit: Some(unit),
    }
}

#[rustfmt::skip]
const CATALOG: &[Template] = &[
    // technology
    Template { industry: "technology", goal: "product_development", es: "Lanzar una versión del producto que los clientes adoren", en: "Ship a product release customers love", key_results: &[
        kr("Satisfacción de usuarios con la nueva versión", "User satisfaction with the new release", "percentage", 70.0, 85.0),
        kru("Funcionalidades clave entregadas", "Key features delivered", "number", 0.0, 5.0, ("funcionalidades", "features")),
        kru("Incidencias críticas abiertas", "Open critical bugs", "number", 12.0, 2.0, ("incidencias", "bugs")),
    ]},
    Template { industry: "technology", goal: "revenue_growth", es: "Acelerar el crecimiento de ingresos recurrentes", en: "Accelerate recurring revenue growth", key_results: &[
        kru("Ingresos recurrentes mensuales", "Monthly recurring revenue", "currency", 50000.0, 75000.0, ("USD", "USD")),
        kr("Tasa de conversión de prueba a pago", "Trial-to-paid conversion rate", "percentage", 8.0, 12.0),
        kr("Cancelación mensual de clientes", "Monthly customer churn", "percentage", 4.0, 2.5),
    ]},
    Template { industry: "technology", goal: "operational_efficiency", es: "Entregar software más rápido y con más calidad", en: "Deliver software faster and with higher quality", key_results: &[
        kru("Despliegues a producción por semana", "Production deployments per week", "number", 2.0, 10.0, ("despliegues", "deployments")),
        kru("Tiempo medio de recuperación ante incidentes", "Mean time to recover from incidents", "number", 8.0, 2.0, ("horas", "hours")),
    ]},
    // finance
    Template { industry: "finance", goal: "customer_satisfaction", es: "Ofrecer una experiencia de cliente excelente", en: "Offer an excellent customer experience", key_results: &[
        kr("Índice de recomendación neta (NPS)", "Net promoter score (NPS)", "number", 20.0, 40.0),
        kru("Tiempo de respuesta a solicitudes", "Response time to requests", "number", 48.0, 12.0, ("horas", "hours")),
    ]},
    Template { industry: "finance", goal: "revenue_growth", es: "Hacer crecer la cartera de clientes rentables", en: "Grow the portfolio of profitable clients", key_results: &[
        kru("Activos bajo gestión", "Assets under management", "currency", 10000000.0, 13000000.0, ("USD", "USD")),
        kru("Clientes nuevos al trimestre", "New clients per quarter", "number", 40.0, 70.0, ("clientes", "clients")),
        kr("Retención anual de clientes", "Annual client retention", "percentage", 85.0, 92.0),
    ]},
    Template { industry: "finance", goal: "operational_efficiency", es: "Automatizar los procesos operativos clave", en: "Automate the key operational processes", key_results: &[
        kr("Procesos de back office automatizados", "Back-office processes automated", "percentage", 20.0, 60.0),
        kr("Errores en conciliaciones", "Reconciliation errors", "percentage", 3.0, 0.5),
    ]},
    // healthcare
    Template { industry: "healthcare", goal: "customer_satisfaction", es: "Mejorar la experiencia de los pacientes", en: "Improve the patient experience", key_results: &[
        kr("Satisfacción de pacientes", "Patient satisfaction", "percentage", 75.0, 90.0),
        kru("Tiempo de espera medio para una cita", "Average waiting time for an appointment", "number", 14.0, 5.0, ("días", "days")),
    ]},
    Template { industry: "healthcare", goal: "operational_efficiency", es: "Aprovechar mejor la capacidad asistencial", en: "Make better use of care capacity", key_results: &[
        kr("Ocupación de las agendas", "Schedule utilisation", "percentage", 70.0, 88.0),
        kr("Citas perdidas sin aviso", "Missed appointments without notice", "percentage", 12.0, 5.0),
        kr("Historias clínicas digitalizadas", "Medical records digitised", "percentage", 40.0, 90.0),
    ]},
    Template { industry: "healthcare", goal: "team_development", es: "Formar y retener al personal sanitario", en: "Train and retain clinical staff", key_results: &[
        kru("Horas de formación por profesional", "Training hours per professional", "number", 10.0, 30.0, ("horas", "hours")),
        kr("Rotación anual del personal", "Annual staff turnover", "percentage", 18.0, 10.0),
    ]},
    // education
    Template { industry: "education", goal: "customer_satisfaction", es: "Mejorar los resultados de aprendizaje", en: "Improve learning outcomes", key_results: &[
        kr("Estudiantes que aprueban todas las materias", "Students passing every subject", "percentage", 72.0, 85.0),
        kr("Satisfacción de las familias", "Family satisfaction", "percentage", 70.0, 85.0),
    ]},
    Template { industry: "education", goal: "market_expansion", es: "Atraer a más estudiantes a nuestros programas", en: "Attract more students to our programmes", key_results: &[
        kru("Matrículas nuevas", "New enrolments", "number", 300.0, 420.0, ("estudiantes", "students")),
        kru("Programas en línea publicados", "Online programmes published", "number", 1.0, 4.0, ("programas", "programmes")),
        kr("Conversión de solicitudes a matrícula", "Application-to-enrolment conversion", "percentage", 30.0, 45.0),
    ]},
    Template { industry: "education", goal: "team_development", es: "Impulsar el desarrollo del profesorado", en: "Boost teacher development", key_results: &[
        kr("Docentes con formación en metodologías activas", "Teachers trained in active methodologies", "percentage", 25.0, 70.0),
        kr("Clases observadas con retroalimentación", "Classes observed with feedback", "percentage", 10.0, 50.0),
    ]},
    // retail
    Template { industry: "retail", goal: "revenue_growth", es: "Crecer las ventas en tiendas y en línea", en: "Grow sales in stores and online", key_results: &[
        kru("Ventas mensuales en línea", "Monthly online sales", "currency", 20000.0, 35000.0, ("USD", "USD")),
        kru("Ticket medio", "Average basket value", "currency", 25.0, 32.0, ("USD", "USD")),
        kr("Conversión de visitas en compras", "Visit-to-purchase conversion", "percentage", 2.0, 3.5),
    ]},
    Template { industry: "retail", goal: "customer_satisfaction", es: "Fidelizar a nuestros clientes", en: "Build customer loyalty", key_results: &[
        kr("Clientes que repiten compra en 90 días", "Customers who buy again within 90 days", "percentage", 20.0, 35.0),
        kru("Miembros del programa de fidelidad", "Loyalty programme members", "number", 1000.0, 2500.0, ("miembros", "members")),
    ]},
    Template { industry: "retail", goal: "operational_efficiency", es: "Optimizar el inventario y la cadena de suministro", en: "Optimise inventory and the supply chain", key_results: &[
        kr("Productos sin existencias", "Products out of stock", "percentage", 8.0, 3.0),
        kru("Rotación anual del inventario", "Annual inventory turnover", "number", 4.0, 6.0, ("veces", "times")),
    ]},
    // manufacturing
    Template { industry: "manufacturing", goal: "operational_efficiency", es: "Aumentar la eficiencia de la planta", en: "Increase plant efficiency", key_results: &[
        kr("Eficiencia general de los equipos (OEE)", "Overall equipment effectiveness (OEE)", "percentage", 60.0, 75.0),
        kru("Paradas no planificadas al mes", "Unplanned stoppages per month", "number", 12.0, 4.0, ("paradas", "stoppages")),
        kr("Piezas defectuosas", "Defective parts", "percentage", 3.0, 1.0),
    ]},
    Template { industry: "manufacturing", goal: "sustainability", es: "Reducir nuestro impacto ambiental", en: "Reduce our environmental impact", key_results: &[
        kr("Consumo de energía por unidad producida", "Energy use per unit produced", "percentage", 100.0, 85.0),
        kr("Residuos reciclados", "Waste recycled", "percentage", 40.0, 75.0),
    ]},
    Template { industry: "manufacturing", goal: "market_expansion", es: "Abrir nuevos mercados para nuestros productos", en: "Open new markets for our products", key_results: &[
        kru("Países con distribuidores activos", "Countries with active distributors", "number", 2.0, 5.0, ("países", "countries")),
        kr("Ventas de exportación sobre el total", "Export sales over total sales", "percentage", 10.0, 25.0),
    ]},
    // consulting
    Template { industry: "consulting", goal: "revenue_growth", es: "Hacer crecer la facturación con clientes recurrentes", en: "Grow billing with repeat clients", key_results: &[
        kru("Facturación trimestral", "Quarterly billing", "currency", 150000.0, 200000.0, ("USD", "USD")),
        kr("Ingresos de clientes recurrentes", "Revenue from repeat clients", "percentage", 40.0, 60.0),
    ]},
    Template { industry: "consulting", goal: "operational_efficiency", es: "Mejorar la utilización del equipo consultor", en: "Improve consultant utilisation", key_results: &[
        kr("Horas facturables sobre horas disponibles", "Billable hours over available hours", "percentage", 60.0, 75.0),
        kr("Proyectos entregados en plazo", "Projects delivered on time", "percentage", 70.0, 90.0),
    ]},
    Template { industry: "consulting", goal: "customer_satisfaction", es: "Ser el socio más recomendado por nuestros clientes", en: "Be our clients' most recommended partner", key_results: &[
        kr("Índice de recomendación neta (NPS)", "Net promoter score (NPS)", "number", 30.0, 50.0),
        kru("Casos de éxito publicados", "Case studies published", "number", 0.0, 4.0, ("casos", "case studies")),
        kr("Propuestas ganadas", "Proposals won", "percentage", 25.0, 40.0),
    ]},
    // other
    Template { industry: "other", goal: "revenue_growth", es: "Aumentar los ingresos de forma sostenible", en: "Increase revenue sustainably", key_results: &[
        kru("Ingresos trimestrales", "Quarterly revenue", "currency", 100000.0, 125000.0, ("USD", "USD")),
        kru("Clientes nuevos", "New customers", "number", 50.0, 80.0, ("clientes", "customers")),
    ]},
    Template { industry: "other", goal: "customer_satisfaction", es: "Mejorar la satisfacción de los clientes", en: "Improve customer satisfaction", key_results: &[
        kr("Clientes satisfechos en la encuesta trimestral", "Satisfied customers in the quarterly survey", "percentage", 70.0, 85.0),
        kru("Quejas al mes", "Complaints per month", "number", 20.0, 8.0, ("quejas", "complaints")),
    ]},
    Template { industry: "other", goal: "team_development", es: "Construir un equipo comprometido y alineado", en: "Build an engaged and aligned team", key_results: &[
        kr("Compromiso del equipo en la encuesta interna", "Team engagement in the internal survey", "percentage", 60.0, 75.0),
        kr("Personas que conocen los OKR de la empresa", "People who know the company's OKRs", "percentage", 30.0, 90.0),
        kr("Rotación voluntaria anual", "Annual voluntary turnover", "percentage", 15.0, 10.0),
    ]},
];

/// The built-in catalog, as a provider.
#[derive(Debug, Default)]
pub struct Catalog;

impl Catalog {
    /// [`Catalog::suggest`] as the JSON objects every provider answers with.
    pub fn suggest_json(&self, req: &SuggestionRequest) -> Vec<Value> {
        self.suggest(req)
            .into_iter()
            .map(|o| serde_json::to_value(o).unwrap_or_default())
            .collect()
    }

    /// The catalog's answer (also the fallback when an external provider fails).
    pub fn suggest(&self, req: &SuggestionRequest) -> Vec<ObjectiveSuggestion> {
        let industry = if CATALOG.iter().any(|t| t.industry == req.industry) {
            req.industry.as_str()
        } else {
            "other"
        };
        let mut picked: Vec<&Template> =
            CATALOG.iter().filter(|t| t.industry == industry).collect();
        // Templates serving one of the user's business goals first; otherwise catalog order.
        picked.sort_by_key(|t| !req.business_goals.iter().any(|g| g == t.goal));
        let en = req.language == "en";
        // Beginners start with fewer key results: two are easier to track than three.
        let max_krs = if req.okr_maturity == "beginner" { 2 } else { 3 };
        picked
            .into_iter()
            .take(req.count)
            .map(|t| ObjectiveSuggestion {
                title: (if en { t.en } else { t.es }).to_owned(),
                description: None,
                key_results: t
                    .key_results
                    .iter()
                    .take(max_krs)
                    .map(|k| KeyResultSuggestion {
                        title: (if en { k.en } else { k.es }).to_owned(),
                        metric_type: k.metric.to_owned(),
                        baseline: k.baseline,
                        target: k.target,
                        unit: k
                            .unit
                            .map(|(es, en_unit)| (if en { en_unit } else { es }).to_owned()),
                    })
                    .collect(),
            })
            .collect()
    }
}

impl Provider for Catalog {
    fn name(&self) -> &'static str {
        "catalog"
    }

    async fn objectives(&self, req: &SuggestionRequest) -> Result<Vec<Value>, ProviderError> {
        Ok(self.suggest_json(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onboarding_core::{Context, Locale, StepId};

    /// Every template, in both languages, passes the wizard's own rules.
    #[test]
    fn every_template_passes_the_rules() {
        // The wizard's own industries: a new one without templates fails here.
        for &industry in onboarding_core::rules::INDUSTRY {
            assert_eq!(
                CATALOG.iter().filter(|t| t.industry == industry).count(),
                3,
                "{industry}"
            );
            for language in ["es", "en"] {
                let req = SuggestionRequest {
                    industry: industry.into(),
                    business_goals: vec![],
                    okr_maturity: "advanced".into(),
                    company_size: "small".into(),
                    language: language.into(),
                    count: 3,
                };
                let objectives = Catalog.suggest(&req);
                assert_eq!(objectives.len(), 3);
                let input = serde_json::json!({ "objectives": objectives });
                let ctx = Context::new(Locale::Es, crate::today(), None);
                let report = onboarding_core::validate_step(StepId::Objectives, &input, &ctx);
                assert!(report.valid, "{industry}/{language}: {:?}", report.issues);
                assert!(objectives
                    .iter()
                    .all(|o| (2..=3).contains(&o.key_results.len())));
            }
        }
    }

    #[test]
    fn goals_rank_first_and_beginners_get_two_key_results() {
        let req = SuggestionRequest {
            industry: "retail".into(),
            business_goals: vec!["operational_efficiency".into()],
            okr_maturity: "beginner".into(),
            company_size: "small".into(),
            language: "en".into(),
            count: 2,
        };
        let got = Catalog.suggest(&req);
        assert_eq!(got[0].title, "Optimise inventory and the supply chain");
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|o| o.key_results.len() <= 2));
        // An unknown industry falls back to the general templates.
        let other = Catalog.suggest(&SuggestionRequest {
            industry: "space".into(),
            ..req
        });
        assert_eq!(other[0].title, "Increase revenue sustainably");
    }
}
