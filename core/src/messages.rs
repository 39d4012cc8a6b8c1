//! Localized messages, one per code and locale, with the parameters interpolated.
//! The same function runs in the browser and on the server, so the texts match byte for byte.

use crate::context::Locale;
use crate::report::{Code, Param, Params};
use crate::texts::tr;

/// The message of an issue in `locale`.
pub fn render(code: Code, params: &Params, locale: Locale) -> String {
    let template = template(code, params, locale);
    interpolate(template, params, locale)
}

fn template(code: Code, params: &Params, locale: Locale) -> &'static str {
    let one = |name: &str| matches!(params.get(name), Some(Param::Int(1)));
    let text = match code {
        Code::Required => tr!("Este campo es obligatorio.", "This field is required."),
        Code::InvalidType => tr!(
            "Tipo de dato no válido: se esperaba {expected}.",
            "Invalid data type: expected {expected}.",
        ),
        Code::TooShort => tr!(
            "Debe tener al menos {min} caracteres.",
            "Must be at least {min} characters long.",
        ),
        Code::TooLong => tr!(
            "Debe tener como máximo {max} caracteres.",
            "Must be at most {max} characters long.",
        ),
        Code::InvalidCharacters => tr!(
            "Contiene caracteres no permitidos: {characters}.",
            "Contains characters that are not allowed: {characters}.",
        ),
        Code::NoLetterOrDigit => tr!(
            "Debe contener al menos una letra o un número.",
            "Must contain at least one letter or digit.",
        ),
        Code::InvalidEnum => tr!(
            "Elige una opción válida: {allowed}.",
            "Choose a valid option: {allowed}.",
        ),
        Code::NotInteger => tr!("Debe ser un número entero.", "Must be a whole number."),
        Code::NotNumber => tr!("Debe ser un número.", "Must be a number."),
        Code::OutOfRange => tr!(
            "Debe estar entre {min} y {max}.",
            "Must be between {min} and {max}.",
        ),
        Code::InvalidEmail => tr!(
            "Introduce una dirección de correo válida, por ejemplo ana@empresa.com.",
            "Enter a valid e-mail address, for example jane@company.com.",
        ),
        Code::InvalidUrl => tr!(
            "Introduce una dirección web válida (http o https), por ejemplo empresa.com.",
            "Enter a valid web address (http or https), for example company.com.",
        ),
        Code::InvalidCountry => tr!(
            "Elige un país válido (código ISO 3166-1 de dos letras).",
            "Choose a valid country (two-letter ISO 3166-1 code).",
        ),
        Code::InvalidTimezone => tr!(
            "Elige una zona horaria válida, por ejemplo America/Mexico_City.",
            "Choose a valid time zone, for example America/Mexico_City.",
        ),
        Code::TooFewItems if one("min") => {
            tr!("Añade al menos un elemento.", "Add at least one item.")
        }
        Code::TooFewItems => tr!(
            "Añade al menos {min} elementos.",
            "Add at least {min} items.",
        ),
        Code::TooManyItems if one("max") => tr!("Como máximo un elemento.", "At most one item."),
        Code::TooManyItems => tr!("Como máximo {max} elementos.", "At most {max} items."),
        Code::DuplicateItem => tr!(
            "Está repetido (igual que el elemento {duplicate_of}).",
            "This is a duplicate (same as item {duplicate_of}).",
        ),
        Code::MustBeTrue => tr!(
            "Debes marcar esta casilla para continuar.",
            "You must tick this box to continue.",
        ),
        Code::TargetEqualsBaseline => tr!(
            "El valor objetivo debe ser distinto del valor inicial ({baseline}).",
            "The target must differ from the baseline ({baseline}).",
        ),
        Code::InvalidValue => tr!("Debe ser {expected}.", "Must be {expected}."),
        Code::UnknownField => tr!("Campo desconocido: «{field}».", "Unknown field: “{field}”."),
        Code::PersonalEmailDomain => tr!(
            "«{domain}» es un correo personal: si tiene una dirección del trabajo, invítale con esa.",
            "“{domain}” is a personal e-mail provider: if they have a work address, invite that one.",
        ),
        Code::CannotInviteSelf => tr!(
            "No puedes invitarte a ti mismo.",
            "You cannot invite yourself.",
        ),
        Code::SizeMismatch if params.get("max").is_none() => tr!(
            "{employee_count} empleados no encaja con el tamaño elegido ({min} o más).",
            "{employee_count} employees does not match the chosen size ({min} or more).",
        ),
        Code::SizeMismatch => tr!(
            "{employee_count} empleados no encaja con el tamaño elegido ({min}–{max}).",
            "{employee_count} employees does not match the chosen size ({min}–{max}).",
        ),
        Code::TeamLargerThanCompany => tr!(
            "El equipo ({team_size}) es mayor que la empresa ({employee_count} empleados).",
            "The team ({team_size}) is larger than the company ({employee_count} employees).",
        ),
        Code::TooManyKeyResults => tr!(
            "Tienes {count} resultados clave; lo recomendable es {recommended_max} como máximo.",
            "You have {count} key results; we recommend at most {recommended_max}.",
        ),
    };
    text.get(locale)
}

/// Replaces `{name}` by the parameter `name`. Unknown names are left as they are.
fn interpolate(template: &str, params: &Params, locale: Locale) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let bytes = template.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            if let Some(len) = bytes[i + 1..].iter().position(|&b| b == b'}') {
                let name = &template[i + 1..i + 1 + len];
                if let Some(value) = params.get(name) {
                    out.push_str(&template[copied..i]);
                    write_param(&mut out, name, value, locale);
                    i += len + 2;
                    copied = i;
                    continue;
                }
            }
        }
        i += 1;
    }
    out.push_str(&template[copied..]);
    out
}

fn write_param(out: &mut String, name: &str, value: &Param, locale: Locale) {
    match value {
        // Numbers as the report's JSON writes them (`1e21`, not `Display`'s
        // `1000000000000000000000`), so the message and the parameter agree.
        Param::Int(_) | Param::Num(_) => out.push_str(&crate::to_json(value)),
        Param::Str(s) if name == "expected" => out.push_str(expected_word(s, locale)),
        Param::Str(s) => out.push_str(s),
        Param::List(items) => out.push_str(&items.join(", ")),
        Param::Options(values) => out.push_str(&values.join(", ")),
    }
}

/// The JSON type names of `invalid_type` (and the values of `invalid_value`) in words.
fn expected_word(s: &str, locale: Locale) -> &str {
    let word = match s {
        "string" => tr!("un texto", "a string"),
        "integer" => tr!("un número entero", "a whole number"),
        "number" => tr!("un número", "a number"),
        "boolean" => tr!("verdadero o falso", "true or false"),
        "array" => tr!("una lista", "a list"),
        "object" => tr!("un objeto", "an object"),
        _ => return s,
    };
    word.get(locale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_params() {
        let p = Params(vec![("min", Param::Int(2))]);
        assert_eq!(
            render(Code::TooShort, &p, Locale::Es),
            "Debe tener al menos 2 caracteres."
        );
        assert_eq!(
            render(Code::TooShort, &p, Locale::En),
            "Must be at least 2 characters long."
        );
        let p = Params(vec![("allowed", Param::List(vec!["a", "b"]))]);
        assert_eq!(
            render(Code::InvalidEnum, &p, Locale::En),
            "Choose a valid option: a, b."
        );
        let p = Params(vec![("expected", Param::Str("integer".into()))]);
        assert_eq!(
            render(Code::InvalidType, &p, Locale::Es),
            "Tipo de dato no válido: se esperaba un número entero."
        );
    }

    #[test]
    fn every_code_has_both_messages_without_leftover_placeholders_when_params_given() {
        for &code in Code::ALL {
            for locale in Locale::ALL {
                let msg = render(code, &Params::default(), locale);
                assert!(
                    !msg.is_empty() && msg.ends_with('.'),
                    "{code:?} {locale:?}: {msg}"
                );
            }
        }
        assert_ne!(
            render(Code::Required, &Params::default(), Locale::Es),
            render(Code::Required, &Params::default(), Locale::En)
        );
    }
}
