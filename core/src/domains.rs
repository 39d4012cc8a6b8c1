//! E-mail domains the rules know about. Two questions:
//! - asked by the review step's invitations: is an address at a personal (consumer) e-mail
//!   provider? Inviting a colleague there is allowed but usually a mistake (their work address
//!   joins them to the organization's domain later, issue 36), so it is a warning,
//!   `personal_email_domain`;
//! - asked when an organization claims a domain: can it ever be claimed? The codes and words of
//!   the refusals are here ([`Unclaimable`]); the server decides with the full public lists.
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

/// A domain as an organization claims it: trimmed, without a final dot, in lower case; `None`
/// when it is not a host name the rules accept (ASCII labels: an internationalized domain is
/// given in its `xn--` form).
pub fn normalize_domain(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let domain = trimmed
        .strip_suffix('.')
        .unwrap_or(trimmed)
        .to_ascii_lowercase();
    (crate::email::is_domain(&domain) && domain.contains('.')).then_some(domain)
}

/// Why a domain can never be claimed by an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unclaimable {
    /// Not a host name the rules accept (`invalid_domain`).
    Invalid,
    /// A public suffix such as `com.br` or `co.uk` (`public_suffix_domain`).
    PublicSuffix,
    /// A free e-mail provider's (`personal_email_domain`, as the invitations' warning).
    PersonalEmail,
    /// A disposable e-mail provider's (`disposable_email_domain`).
    DisposableEmail,
    /// The platform's own (`platform_domain`).
    Platform,
}

impl Unclaimable {
    pub fn code(self) -> &'static str {
        match self {
            Unclaimable::Invalid => "invalid_domain",
            Unclaimable::PublicSuffix => "public_suffix_domain",
            Unclaimable::PersonalEmail => "personal_email_domain",
            Unclaimable::DisposableEmail => "disposable_email_domain",
            Unclaimable::Platform => "platform_domain",
        }
    }

    pub fn message(self, locale: crate::Locale) -> &'static str {
        let text = match self {
            Unclaimable::Invalid => crate::texts::Tr::new(
                "Escribe un dominio válido, por ejemplo acme.com.",
                "Enter a valid domain, for example acme.com.",
            ),
            Unclaimable::PublicSuffix => crate::texts::Tr::new(
                "Es un sufijo público (como com.br o co.uk): reclama el dominio de tu organización.",
                "That is a public suffix (like com.br or co.uk): claim your organization's own domain.",
            ),
            Unclaimable::PersonalEmail => crate::texts::Tr::new(
                "Es un proveedor de correo personal: nadie puede reclamarlo para una organización.",
                "That is a personal e-mail provider: no organization can claim it.",
            ),
            Unclaimable::DisposableEmail => crate::texts::Tr::new(
                "Es un proveedor de correo desechable: nadie puede reclamarlo.",
                "That is a disposable e-mail provider: no organization can claim it.",
            ),
            Unclaimable::Platform => crate::texts::Tr::new(
                "Es el dominio de la plataforma: no se puede reclamar.",
                "That is the platform's own domain: it cannot be claimed.",
            ),
        };
        text.get(locale)
    }
}

#[cfg(test)]
mod tests {
    use super::is_personal_email_domain as personal;

    #[test]
    fn domains_are_normalized_or_refused() {
        use super::normalize_domain as n;
        assert_eq!(n(" Acme.COM. ").as_deref(), Some("acme.com"));
        assert_eq!(
            n("xn--80ak6aa92e.com").as_deref(),
            Some("xn--80ak6aa92e.com")
        );
        for bad in [
            "",
            "acme",
            "ac me.com",
            "acme..com",
            "-acme.com",
            "añá.com",
            "ana@acme.com",
            "127.0.0.1",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }

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
