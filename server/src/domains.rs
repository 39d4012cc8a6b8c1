//! Which domains an organization can never claim (issue 36): free e-mail providers' and
//! disposable ones' (the public lists in `server/data/`, each with its source and version in
//! its first line, refreshed by `tools/update-domain-lists.sh`), public suffixes (Mozilla's
//! Public Suffix List, compiled into the `psl` crate) and the platform's own domains. The
//! refusals' codes and words are the rules' (`onboarding_core::domains::Unclaimable`); the
//! lists are too large for the npm module (docs/domains.md), so this is the server's decision.

use onboarding_core::domains::{normalize_domain, Unclaimable};
use std::sync::OnceLock;

const FREE_EMAIL: &str = include_str!("../data/free-email-domains.txt");
const DISPOSABLE_EMAIL: &str = include_str!("../data/disposable-email-domains.txt");

/// A list's domains, sorted (the files are), read once.
fn entries(
    text: &'static str,
    cache: &'static OnceLock<Vec<&'static str>>,
) -> &'static [&'static str] {
    cache.get_or_init(|| {
        text.lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Whether `domain` or a domain it is under is in the sorted `list`.
fn listed(list: &[&str], domain: &str) -> bool {
    let mut d = domain;
    loop {
        if list.binary_search(&d).is_ok() {
            return true;
        }
        match d.split_once('.') {
            Some((_, parent)) if parent.contains('.') => d = parent,
            _ => return false,
        }
    }
}

/// The domain as the organization would hold it (normalized), or why it can never be claimed.
/// `platform` are the platform's own domains (they and their subdomains are refused).
pub fn claimable(text: &str, platform: &[&str]) -> Result<String, Unclaimable> {
    static FREE: OnceLock<Vec<&str>> = OnceLock::new();
    static DISPOSABLE: OnceLock<Vec<&str>> = OnceLock::new();
    let domain = normalize_domain(text).ok_or(Unclaimable::Invalid)?;
    if platform
        .iter()
        .any(|p| domain == *p || domain.ends_with(&format!(".{p}")))
    {
        return Err(Unclaimable::Platform);
    }
    // A public suffix has no registrable domain of its own.
    if psl::domain(domain.as_bytes()).is_none() {
        return Err(Unclaimable::PublicSuffix);
    }
    if onboarding_core::domains::is_personal_email_domain(&domain) {
        return Err(Unclaimable::PersonalEmail);
    }
    // Before the free list, which also names most disposable providers.
    if listed(entries(DISPOSABLE_EMAIL, &DISPOSABLE), &domain) {
        return Err(Unclaimable::DisposableEmail);
    }
    if listed(entries(FREE_EMAIL, &FREE), &domain) {
        return Err(Unclaimable::PersonalEmail);
    }
    Ok(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_are_sorted_and_read() {
        for (text, name) in [(FREE_EMAIL, "free"), (DISPOSABLE_EMAIL, "disposable")] {
            let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
            assert!(lines.len() > 10_000, "{name}");
            assert!(
                lines.windows(2).all(|w| w[0] < w[1]),
                "{name} is not sorted and distinct"
            );
        }
    }

    #[test]
    fn companies_domains_are_claimable_and_the_rest_refused() {
        let platform = ["okr.example.com"];
        assert_eq!(
            claimable(" Acme.COM ", &platform).as_deref(),
            Ok("acme.com")
        );
        assert_eq!(
            claimable("cafenino.com.mx", &platform).as_deref(),
            Ok("cafenino.com.mx")
        );
        assert_eq!(
            claimable("eng.acme.co.uk", &platform).as_deref(),
            Ok("eng.acme.co.uk")
        );
        let refused = |d: &str| claimable(d, &platform).unwrap_err();
        assert_eq!(refused("acme"), Unclaimable::Invalid);
        assert_eq!(refused("com.br"), Unclaimable::PublicSuffix);
        assert_eq!(refused("co.uk"), Unclaimable::PublicSuffix);
        for free in [
            "gmail.com",
            "uol.com.br",
            "bol.com.br",
            "terra.com.br",
            "yahoo.fr",
            "outlook.com",
            "hotmail.com",
            "icloud.com",
            "proton.me",
            "gmx.de",
            "mail.ru",
            "qq.com",
        ] {
            assert_eq!(refused(free), Unclaimable::PersonalEmail, "{free}");
        }
        // Only in the public list, not in the rules' short one.
        assert_eq!(refused("fastmail.com"), Unclaimable::PersonalEmail);
        assert_eq!(refused("seznam.cz"), Unclaimable::PersonalEmail);
        assert_eq!(refused("mailinator.com"), Unclaimable::DisposableEmail);
        assert_eq!(
            refused("inbox.mailinator.com"),
            Unclaimable::DisposableEmail
        );
        assert_eq!(refused("okr.example.com"), Unclaimable::Platform);
        assert_eq!(refused("eu.okr.example.com"), Unclaimable::Platform);
    }
}
