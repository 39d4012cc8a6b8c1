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
    pub fn invitation(&self, letter: &Letter) -> Outgoing {
        let link = self.link(letter.token);
        let org = letter.organization;
        let days = self.ttl_days;
        let (subject, body) = if letter.language == "en" {
            let who = match letter.inviter {
                Some(name) => format!("{name} has invited you to join {org}."),
                None => format!("You have been invited to join {org}."),
            };
            (
                format!("Invitation to join {org}"),
                format!(
                    "Hello,\n\n{who}\n\nAccept the invitation here (the link works for {days} days, once):\n{link}\n\nIf you did not expect this invitation, you can ignore this message.\n"
                ),
            )
        } else {
            let who = match letter.inviter {
                Some(name) => format!("{name} te ha invitado a unirte a {org}."),
                None => format!("Te han invitado a unirte a {org}."),
            };
            (
                format!("Invitación para unirte a {org}"),
                format!(
                    "Hola:\n\n{who}\n\nAcepta la invitación aquí (el enlace vale {days} días, una sola vez):\n{link}\n\nSi no esperabas esta invitación, puedes ignorar este mensaje.\n"
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
        let mut builder = match url.scheme() {
            "smtps" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
                .port(url.port().unwrap_or(465))
                .tls(Tls::Wrapper(tls(&host)?)),
            "smtp" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
                .port(url.port().unwrap_or(587))
                .tls(if starttls_required(&url) {
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

/// Whether an `smtp://` URL must upgrade to TLS: when it carries credentials for a server that
/// is not on this machine (they never go over the network in clear; a relay on loopback that
/// offers no STARTTLS still works). Otherwise STARTTLS is used when the server offers it.
fn starttls_required(url: &url::Url) -> bool {
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
    !url.username().is_empty() && !loopback
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
        };
        let es = c.invitation(&letter);
        assert_eq!(es.subject, "Invitación para unirte a Café Niño");
        assert!(es
            .body
            .contains("Ana Pérez te ha invitado a unirte a Café Niño."));
        assert!(es
            .body
            .contains("https://okr.example/invitations/accept#token=ab12"));
        let en = c.invitation(&Letter {
            language: "en",
            inviter: None,
            ..letter
        });
        assert!(en.body.contains("You have been invited to join Café Niño."));
        assert!(en.body.contains("7 days"));
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
        };
        assert!(Sender::new(&s("smtp://127.0.0.1:2525")).is_ok());
        assert!(Sender::new(&s("smtps://user:p%40ss@mail.example")).is_ok());
        assert!(Sender::new(&s("http://mail.example"))
            .err()
            .unwrap()
            .contains("smtp://"));
        assert_eq!(percent_decode("p%40ss").as_deref(), Some("p@ss"));
        let required = |u: &str| starttls_required(&url::Url::parse(u).unwrap());
        assert!(required("smtp://user:pw@mail.example"));
        assert!(!required("smtp://mail.example"));
        assert!(!required("smtp://user:pw@127.0.0.1:2525"));
        assert!(!required("smtp://user:pw@localhost"));
        assert!(!required("smtp://user:pw@[::1]:2525"));
        assert!(required("smtp://user:pw@192.0.2.7"));
        assert_eq!(percent_decode("%FF"), None);
    }
}
