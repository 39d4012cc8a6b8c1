//! The DNS lookups of domain ownership (issue 36): the TXT records at
//! `_onboarding-challenge.<domain>` must hold the token the server generated for that
//! organization and domain. A real resolver (hickory-resolver) asks the nameserver
//! `DNS_RESOLVER` names (default: the system's, `/etc/resolv.conf`), once, within
//! `DNS_TIMEOUT_SECS`, without caching (a record just published must be seen).

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::{Resolver, TokioResolver};
use std::net::SocketAddr;
use std::time::Duration;

/// Where ownership records are looked up.
#[derive(Clone, Debug)]
pub struct DnsSettings {
    /// The nameserver (`DNS_RESOLVER`, `ip:port`); `None`: the system's.
    pub resolver: Option<SocketAddr>,
    /// How long one lookup may take (`DNS_TIMEOUT_SECS`).
    pub timeout: Duration,
}

impl Default for DnsSettings {
    fn default() -> DnsSettings {
        DnsSettings {
            resolver: None,
            timeout: Duration::from_secs(5),
        }
    }
}

/// What the ownership record says.
#[derive(Debug, PartialEq, Eq)]
pub enum Challenge {
    /// A TXT record holds the token.
    Found,
    /// No TXT record at the name.
    Missing,
    /// TXT records, none with the token.
    Mismatch,
    /// The nameserver did not answer (in time), or failed.
    Unavailable(String),
}

/// The resolver of ownership lookups. A lookup is rare (an owner asks to verify a domain), so
/// each one gets a resolver of its own: no connection or failure state outlives it.
#[derive(Clone, Debug)]
pub struct Dns {
    settings: DnsSettings,
}

/// The name of a domain's ownership record.
pub fn challenge_name(domain: &str) -> String {
    format!("_onboarding-challenge.{domain}.")
}

impl Dns {
    /// Checks the settings (the system's configuration is read when no resolver is given).
    pub fn new(settings: &DnsSettings) -> Result<Dns, String> {
        let dns = Dns {
            settings: settings.clone(),
        };
        dns.resolver()?;
        Ok(dns)
    }

    fn resolver(&self) -> Result<TokioResolver, String> {
        let mut builder = match self.settings.resolver {
            Some(addr) => {
                let mut config = ResolverConfig::new();
                config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
                Resolver::builder_with_config(config, TokioConnectionProvider::default())
            }
            None => Resolver::builder_tokio()
                .map_err(|e| format!("cannot read the system's DNS configuration: {e}"))?,
        };
        let opts = builder.options_mut();
        opts.timeout = self.settings.timeout;
        opts.attempts = 1;
        opts.cache_size = 0;
        Ok(builder.build())
    }

    /// Whether `domain`'s ownership record holds `token`, within the timeout.
    pub async fn check(&self, domain: &str, token: &str) -> Challenge {
        let resolver = match self.resolver() {
            Ok(r) => r,
            Err(why) => return Challenge::Unavailable(why),
        };
        let lookup = resolver.txt_lookup(challenge_name(domain));
        match tokio::time::timeout(self.settings.timeout, lookup).await {
            Err(_) => Challenge::Unavailable("timed out".into()),
            Ok(Ok(records)) => {
                let texts: Vec<String> = records
                    .iter()
                    .map(|r| r.iter().map(|part| String::from_utf8_lossy(part)).collect())
                    .collect();
                if texts.iter().any(|t| t.trim() == token) {
                    Challenge::Found
                } else if texts.is_empty() {
                    Challenge::Missing
                } else {
                    Challenge::Mismatch
                }
            }
            Ok(Err(e)) if e.is_no_records_found() => Challenge::Missing,
            Ok(Err(e)) => Challenge::Unavailable(e.to_string()),
        }
    }
}
