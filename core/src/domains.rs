//! E-mail domains the rules know about. For now one question, asked by the review step's
//! invitations: is an address at a personal (consumer) e-mail provider? Inviting a colleague
//! there is allowed but usually a mistake (their work address joins them to the organization's
//! domain later, issue 36), so it is a warning, `personal_email_domain`.
//!
//! The list is short on purpose: the major providers, the same in the npm module and on the
//! server (the full public lists, 14,125 free-mail and 121,570 disposable domains, are 75 and
//! 682 KB gzip: they are for the server's domain claims, see docs/domains.md).

/// Providers whose own domain is the address's domain.
const PROVIDERS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "msn.com",
    "ymail.com",
    "rocketmail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "tutanota.com",
    "zoho.com",
    "zohomail.com",
    "mail.com",
    "gmx.net",
    "web.de",
    "t-online.de",
    "mail.ru",
    "inbox.ru",
    "list.ru",
    "bk.ru",
    "rambler.ru",
    "qq.com",
    "163.com",
    "126.com",
    "naver.com",
    "uol.com.br",
    "bol.com.br",
    "terra.com.br",
    "ig.com.br",
    "globo.com",
    "globomail.com",
    "r7.com",
    "prodigy.net.mx",
    "fibertel.com.ar",
    "speedy.com.ar",
    "movistar.es",
    "telefonica.net",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "libero.it",
    "virgilio.it",
    "comcast.net",
    "att.net",
    "verizon.net",
];

/// Providers that serve one domain per country: `hotmail.es`, `yahoo.com.mx`, `outlook.co.uk`.
const FAMILIES: &[&str] = &["hotmail", "outlook", "live", "yahoo", "gmx", "yandex"];

/// Whether `domain` (lower-case, as the rules normalize addresses) belongs to a major personal
/// e-mail provider: one of [`PROVIDERS`], or a [`FAMILIES`] name followed by a country's
/// suffix of one or two short labels (`es`, `com.mx`, `co.uk`).
pub fn is_personal_email_domain(domain: &str) -> bool {
    if PROVIDERS.contains(&domain) {
        return true;
    }
    let Some((name, suffix)) = domain.split_once('.') else {
        return false;
    };
    let labels: Vec<&str> = suffix.split('.').collect();
    FAMILIES.contains(&name)
        && labels.len() <= 2
        && labels
            .iter()
            .all(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::is_personal_email_domain as personal;

    #[test]
    fn major_providers_and_their_country_domains() {
        for d in [
            "gmail.com",
            "uol.com.br",
            "hotmail.es",
            "yahoo.com.mx",
            "outlook.co.uk",
            "live.com",
            "gmx.de",
        ] {
            assert!(personal(d), "{d}");
        }
        for d in [
            "acme.com",
            "gmail.company.com",
            "mail.gmail.com",
            "yahoo.example.com",
            "hotmail",
            "outlook.acme.co.uk",
            "cafenino.mx",
        ] {
            assert!(!personal(d), "{d}");
        }
    }
}
