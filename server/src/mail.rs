//! Invitation e-mail: the message (Spanish or English, the organization's language), and the
//! delivery worker that sends the outbox (`store::outbox`) over SMTP with `lettre`.
//!
//! Delivery is at least once: a message is marked sent after the SMTP server accepted it, so a
//! crash between the two sends it again after restart, with the same `Message-ID`
//! (`<outbox id@MAIL_FROM's domain>`), which lets a receiver recognise the duplicate. A failed
//! attempt is retried with exponential backoff and full jitter; a permanent refusal (5xx), or the
//! `MAIL_MAX_ATTEMPTS`th failure, marks the message dead (its body, with the token, cleared).

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::store::{Claimed, Letter, Outgoing, Store};
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

/// What every invitation message needs: where the accept page is, and how long links last.
#[derive(Clone, Debug)]
pub struct Composer {
    /// `PUBLIC_BASE_URL`, without a trailing slash.
    pub base_url: String,
    pub ttl_days: u32,
}

impl Composer {
    /// The accept link: the token in the fragment, which browsers never send to a server (so it
    /// stays out of access logs and `Referer`s).
    pub fn link(&self, token: &str) -> String {
        format!("{}/invitations/accept#token={token}", self.base_url)
    }

    /// The invitation message, in the organization's language (Spanish unless it is `en`).
    ///
    /// The sender is the platform's, and the organization's name is whatever its founder typed:
    /// it appears only as a quoted name («…», after the inviter's verified address when there
    /// is one), cut to [`MAX_NAME_CHARS`], with anything a mail client would turn into a link
    /// (`acme-payroll.example/login`, `https://…`, `x@y.example`) defanged (`[.]`, `[:]`,
    /// `[@]`). The only link is the accept link, on `PUBLIC_BASE_URL`.
    pub fn invitation(&self, letter: &Letter) -> Outgoing {
        let link = self.link(letter.token);
        let org = format!("«{}»", as_name(letter.organization));
        let days = self.ttl_days;
        let by = match (letter.inviter, letter.inviter_email) {
            (Some(name), Some(email)) => Some(format!("{} ({email})", as_name(name))),
            (None, Some(email)) => Some(email.to_owned()),
            (Some(name), None) => Some(as_name(name)),
            (None, None) => None,
        };
        let (subject, body) = if letter.language == "en" {
            let subject = match letter.inviter_email {
                Some(email) => format!("{email} invites you to the organization {org}"),
                None => format!("Invitation to the organization {org}"),
            };
            let who = match &by {
                Some(by) => format!(
                    "{by} has invited you to join the organization {org} on our OKR platform."
                ),
                None => format!(
                    "You have been invited to join the organization {org} on our OKR platform."
                ),
            };
            (
                subject,
                format!(
                    "Hello,\n\n{who}\n\nAccept the invitation here (the link works for {days} days, once):\n{link}\n\nIf you did not expect this invitation, you can ignore this message. We never ask for passwords or payments by e-mail.\n"
                ),
            )
        } else {
            let subject = match letter.inviter_email {
                Some(email) => format!("{email} te invita a la organización {org}"),
                None => format!("Invitación a la organización {org}"),
            };
            let who = match &by {
                Some(by) => format!("{by} te ha invitado a unirte a la organización {org} en nuestra plataforma de OKR."),
                None => format!("Te han invitado a unirte a la organización {org} en nuestra plataforma de OKR."),
            };
            (
                subject,
                format!(
                    "Hola:\n\n{who}\n\nAcepta la invitación aquí (el enlace vale {days} días, una sola vez):\n{link}\n\nSi no esperabas esta invitación, puedes ignorar este mensaje. Nunca pedimos contraseñas ni pagos por correo.\n"
                ),
            )
        };
        Outgoing {
            to: letter.to.to_owned(),
            subject,
            body,
        }
    }
}

/// The longest organization or inviter name a message shows.
pub const MAX_NAME_CHARS: usize = 60;

/// A name as a message shows it: on one line, at most [`MAX_NAME_CHARS`] characters (then
/// `…`), with every word a mail client could turn into a link defanged.
fn as_name(name: &str) -> String {
    let one_line: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut shown: String = one_line
        .split_whitespace()
        .map(defang)
        .collect::<Vec<_>>()
        .join(" ");
    if shown.chars().count() > MAX_NAME_CHARS {
        shown = shown.chars().take(MAX_NAME_CHARS - 1).collect::<String>() + "…";
    }
    shown
}

/// A word as text, never a link: `://` becomes `[:]//`, `@` `[@]`, and when the word names
/// a host (its part before any `/` ends in a dot and a label of two or more letters, as in
/// `acme.example` or `www.x.com`) each dot between letters or digits `[.]`. Abbreviations such
/// as `S.L.` are left alone.
fn defang(word: &str) -> String {
    let word = word.replace("://", "[:]//").replace('@', "[@]");
    let host = word
        .split('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches(|c: char| !c.is_alphanumeric());
    let names_a_host = host
        .rsplit_once('.')
        .is_some_and(|(_, tld)| tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic));
    if !names_a_host {
        return word;
    }
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len() + 8);
    for (i, c) in chars.iter().enumerate() {
        let inner = *c == '.'
            && i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if inner {
            out.push_str("[.]");
        } else {
            out.push(*c);
        }
    }
    out
}

/// The delivery settings (`SMTP_URL`, `MAIL_FROM`, `MAIL_MAX_ATTEMPTS`…).
#[derive(Clone)]
pub struct SmtpSettings {
    pub url: String,
    pub from: String,
    pub max_attempts: u32,
    /// The first retry's delay; each further one doubles, up to an hour.
    pub retry_base: Duration,
    /// How often the worker looks for due messages.
    pub poll_interval: Duration,
    /// When `smtp://` must use TLS.
    pub tls: SmtpTls,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &crate::store::redact_url(&self.url))
            .field("from", &self.from)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// A configured sender: the transport and the `From` address.
#[derive(Debug)]
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// For `Message-ID`s.
    domain: String,
}

impl Sender {
    /// Builds the transport from `SMTP_URL`: `smtps://host[:465]` (TLS from the start) or
    /// `smtp://host[:587]` (STARTTLS when the server offers it; required when the URL carries
    /// credentials for another machine), with optional `user:password@` (percent-encoded).
    /// Connects lazily: a server down at start-up is not an error.
    pub fn new(settings: &SmtpSettings) -> Result<Sender, String> {
        let url = url::Url::parse(&settings.url).map_err(|e| {
            format!(
                "SMTP_URL {:?} is not a URL: {e}",
                crate::store::redact_url(&settings.url)
            )
        })?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("SMTP_URL needs a host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned())
                .map_err(|e| format!("SMTP_URL: cannot set up TLS for {host}: {e}"))
        };
        if url.scheme() == "smtp" && settings.tls == SmtpTls::Opportunistic {
            tracing::warn!("SMTP_TLS=opportunistic: invitation e-mails (and their tokens) go in clear when the server (or a man in the middle) offers no STARTTLS");
        }
        let mut builder = match url.scheme() {
            "smtps" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
                .port(url.port().unwrap_or(465))
                .tls(Tls::Wrapper(tls(&host)?)),
            "smtp" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
                .port(url.port().unwrap_or(587))
                .tls(if starttls_required(&url, settings.tls) {
                    Tls::Required(tls(&host)?)
                } else {
                    Tls::Opportunistic(tls(&host)?)
                }),
            other => {
                return Err(format!(
                    "SMTP_URL must be smtp:// or smtps://, not {other}://"
                ))
            }
        };
        if !url.username().is_empty() {
            let decode = |s: &str| {
                percent_decode(s).ok_or("SMTP_URL: the credentials are not valid percent-encoding")
            };
            builder = builder.credentials(Credentials::new(
                decode(url.username())?,
                decode(url.password().unwrap_or(""))?,
            ));
        }
        let transport = builder.timeout(Some(Duration::from_secs(15))).build();
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| format!("MAIL_FROM {:?} is not an address: {e}", settings.from))?;
        let domain = from.email.domain().to_owned();
        Ok(Sender {
            transport,
            from,
            domain,
        })
    }

    /// Sends one claimed message; `Err((permanent, reason))` when it was not accepted.
    async fn send(&self, mail: &Claimed) -> Result<(), (bool, String)> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|e| (true, format!("bad recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.as_str())
            .message_id(Some(format!("<{}@{}>", mail.id, self.domain)))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| (true, format!("cannot build the message: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| (e.is_permanent(), e.to_string()))
    }
}

/// Whether an `smtp://` URL must upgrade to TLS (STARTTLS), by `SMTP_TLS`: by default, for
/// every server that is not on this machine (a man in the middle could otherwise strip the
/// STARTTLS offer and read the invitation tokens; a relay on loopback that offers no STARTTLS
/// still works); `required` everywhere; `opportunistic` only when offered, everywhere.
fn starttls_required(url: &url::Url, policy: SmtpTls) -> bool {
    match policy {
        SmtpTls::Required => return true,
        SmtpTls::Opportunistic => return false,
        SmtpTls::Default => {}
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        // (`smtp:` is not a special scheme to the URL standard: its host stays text.)
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    };
    !loopback
}

/// `SMTP_TLS`: when an `smtp://` connection must be upgraded to TLS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SmtpTls {
    /// Required for every host but loopback ones.
    #[default]
    Default,
    Required,
    /// STARTTLS only when the server offers it (explicit: a man in the middle can strip it).
    Opportunistic,
}

impl SmtpTls {
    pub fn parse(text: Option<&str>) -> Result<SmtpTls, String> {
        match text.map(str::trim) {
            None | Some("") => Ok(SmtpTls::Default),
            Some(t) if t.eq_ignore_ascii_case("required") => Ok(SmtpTls::Required),
            Some(t) if t.eq_ignore_ascii_case("opportunistic") => Ok(SmtpTls::Opportunistic),
            Some(t) => Err(format!(
                "SMTP_TLS {t:?} must be `required` or `opportunistic` (unset: required except on loopback)"
            )),
        }
    }
}

fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// How long a worker holds a claimed message before another may take it (longer than a send
/// can take, with the transport's 15 s timeout).
const LEASE_MS: i64 = 60_000;
/// Messages claimed at a time.
const BATCH: i64 = 10;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// The delay before attempt `attempts + 1`: `base · 2^(attempts−1)`, capped, with full jitter
/// (uniform in [half, whole]) so that messages that failed together do not retry together.
pub fn backoff(base: Duration, attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let whole = base.saturating_mul(1 << exp).min(MAX_BACKOFF);
    whole.mul_f64(0.5 + rand::random::<f64>() / 2.0)
}

/// Starts the delivery worker: it claims due messages, sends them and records the outcome, until
/// the process ends. Database errors are logged and retried on the next round.
pub fn spawn_delivery(
    store: Store,
    clock: Arc<Clock>,
    sender: Sender,
    settings: SmtpSettings,
    metrics: Arc<Metrics>,
) {
    tokio::spawn(async move {
        let mut counted_at = None::<tokio::time::Instant>;
        loop {
            if counted_at.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                if let Ok(counts) = store.outbox_counts().await {
                    metrics.outbox_pending.set(counts.pending);
                    metrics.outbox_dead.set(counts.dead);
                }
                counted_at = Some(tokio::time::Instant::now());
            }
            let claimed = match store.claim_mail(BATCH, LEASE_MS).await {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the mail outbox; will retry");
                    Vec::new()
                }
            };
            for mail in &claimed {
                deliver(&store, &clock, &sender, &settings, &metrics, mail).await;
            }
            if claimed.len() < BATCH as usize {
                tokio::time::sleep(settings.poll_interval).await;
            }
        }
    });
}

async fn deliver(
    store: &Store,
    clock: &Clock,
    sender: &Sender,
    settings: &SmtpSettings,
    metrics: &Metrics,
    mail: &Claimed,
) {
    let outcome = sender.send(mail).await;
    let recorded = match outcome {
        Ok(()) => {
            metrics.mail_sent.inc();
            tracing::info!(message = %mail.id, "invitation e-mail sent");
            store.mail_sent(&mail.id).await
        }
        Err((permanent, reason)) => {
            let give_up = permanent || mail.attempts >= i64::from(settings.max_attempts);
            let retry_at = (!give_up).then(|| {
                let wait = backoff(settings.retry_base, mail.attempts);
                clock
                    .now_ms()
                    .saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
            });
            if give_up {
                metrics.mail_dead.inc();
                tracing::warn!(message = %mail.id, attempts = mail.attempts, %reason, "invitation e-mail given up");
            } else {
                metrics.mail_retried.inc();
                tracing::warn!(message = %mail.id, attempts = mail.attempts, %reason, "invitation e-mail not sent; will retry");
            }
            store.mail_failed(&mail.id, &reason, retry_at).await
        }
    };
    if let Err(e) = recorded {
        // The lease runs out and the message is tried again (at least once).
        tracing::warn!(message = %mail.id, error = %e, "cannot record the delivery outcome");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let base = Duration::from_secs(2);
        for _ in 0..50 {
            let first = backoff(base, 1);
            assert!(
                first >= Duration::from_secs(1) && first <= base,
                "{first:?}"
            );
            let fourth = backoff(base, 4);
            assert!(fourth >= Duration::from_secs(8) && fourth <= Duration::from_secs(16));
            assert!(backoff(base, 40) <= MAX_BACKOFF);
        }
    }

    #[test]
    fn messages_follow_the_organization_language() {
        let c = Composer {
            base_url: "https://okr.example".into(),
            ttl_days: 7,
        };
        let letter = Letter {
            to: "luis@x.mx",
            token: "ab12",
            organization: "Café Niño",
            language: "es",
            inviter: Some("Ana Pérez"),
            inviter_email: Some("ana@cafenino.mx"),
        };
        let es = c.invitation(&letter);
        assert_eq!(
            es.subject,
            "ana@cafenino.mx te invita a la organización «Café Niño»"
        );
        assert!(es.body.contains(
            "Ana Pérez (ana@cafenino.mx) te ha invitado a unirte a la organización «Café Niño» en nuestra plataforma de OKR."
        ));
        assert!(es
            .body
            .contains("https://okr.example/invitations/accept#token=ab12"));
        let en = c.invitation(&Letter {
            language: "en",
            inviter: None,
            inviter_email: None,
            ..letter
        });
        assert_eq!(en.subject, "Invitation to the organization «Café Niño»");
        assert!(en.body.contains(
            "You have been invited to join the organization «Café Niño» on our OKR platform."
        ));
        assert!(en.body.contains("7 days"));
    }

    /// Hardening II, item 8: an organization named like a phishing lure stays a quoted name,
    /// after the inviter's address; nothing in it reads as a link, and the only link in the
    /// message is the accept link on `PUBLIC_BASE_URL`.
    #[test]
    fn a_lure_for_a_name_stays_a_name() {
        let c = Composer {
            base_url: "https://okr.example".into(),
            ttl_days: 7,
        };
        let lure = "URGENT - payroll frozen - unlock at acme-payroll-verify.example/login";
        let mail = c.invitation(&Letter {
            to: "luis@x.mx",
            token: "ab12",
            organization: lure,
            language: "en",
            inviter: Some("Payroll http://evil.example"),
            inviter_email: Some("mallory@acme.com"),
        });
        assert!(
            mail.subject.starts_with("mallory@acme.com invites you to the organization «URGENT - payroll frozen - unlock at acme-payroll-verify[.]"),
            "{}",
            mail.subject
        );
        assert!(mail.subject.chars().count() < 130, "{}", mail.subject);
        for text in [&mail.subject, &mail.body] {
            assert!(!text.contains("acme-payroll-verify.example"), "{text}");
            assert!(!text.contains("http://evil"), "{text}");
        }
        let links: Vec<&str> = mail
            .body
            .split_whitespace()
            .filter(|w| w.contains("://") || w.contains("www."))
            .collect();
        assert_eq!(
            links,
            ["https://okr.example/invitations/accept#token=ab12"],
            "{}",
            mail.body
        );
        assert_eq!(as_name("Acme S.L."), "Acme S.L.");
        assert_eq!(as_name("Café Niño"), "Café Niño");
        assert_eq!(as_name("go to www.x.com"), "go to www[.]x[.]com");
        assert_eq!(as_name("write a@b.io\nnow"), "write a[@]b[.]io now");
        assert_eq!(as_name(&"a".repeat(100)).chars().count(), MAX_NAME_CHARS);
    }

    /// (In a runtime: the transport's connection pool starts a task.)
    #[tokio::test]
    async fn smtp_urls_are_checked() {
        let s = |url: &str| SmtpSettings {
            url: url.into(),
            from: "Equipo <no-reply@okr.example>".into(),
            max_attempts: 8,
            retry_base: Duration::from_secs(1),
            poll_interval: Duration::from_secs(1),
            tls: SmtpTls::Default,
        };
        assert!(Sender::new(&s("smtp://127.0.0.1:2525")).is_ok());
        assert!(Sender::new(&s("smtps://user:p%40ss@mail.example")).is_ok());
        assert!(Sender::new(&s("http://mail.example"))
            .err()
            .unwrap()
            .contains("smtp://"));
        assert_eq!(percent_decode("p%40ss").as_deref(), Some("p@ss"));
        let required = |u: &str| starttls_required(&url::Url::parse(u).unwrap(), SmtpTls::Default);
        assert!(required("smtp://user:pw@mail.example"));
        assert!(required("smtp://mail.example"));
        assert!(!required("smtp://user:pw@127.0.0.1:2525"));
        assert!(!required("smtp://user:pw@localhost"));
        assert!(!required("smtp://user:pw@[::1]:2525"));
        assert!(required("smtp://user:pw@192.0.2.7"));
        assert!(required("smtp://192.0.2.7"));
        let url = url::Url::parse("smtp://mail.example").unwrap();
        assert!(!starttls_required(&url, SmtpTls::Opportunistic));
        let local = url::Url::parse("smtp://127.0.0.1:25").unwrap();
        assert!(starttls_required(&local, SmtpTls::Required));
        assert_eq!(SmtpTls::parse(Some("REQUIRED")), Ok(SmtpTls::Required));
        assert!(SmtpTls::parse(Some("maybe")).is_err());
        assert_eq!(percent_decode("%FF"), None);
    }
}
