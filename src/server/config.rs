//! What the service admits: keys, tokens and limits.

use std::collections::HashMap;
use std::time::Duration;

/// The service's keys, tokens and limits.
///
/// # Examples
///
/// ```
/// use hotline_router::server::ServerConfig;
///
/// let config = ServerConfig::new()
///     .api_key("intake-app")
///     .agency_token("street:110105001", "s3cret-chaowai");
/// assert!(config.admits_key("intake-app"));
/// assert_eq!(config.agency_of("s3cret-chaowai"), Some("street:110105001"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Open311 `api_key`s admitted to post requests. Empty: posting needs
    /// no key (an open intake).
    pub api_keys: Vec<String>,
    /// Worker bearer tokens → the agency whose tickets they admit.
    pub agency_tokens: HashMap<String, String>,
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// Requests per second admitted per key (Open311 key, worker token, or
    /// client address without either); `0` turns the limit off.
    pub rate_per_second: u32,
    /// Requests a key may make at once above its rate.
    pub rate_burst: u32,
    /// Longest a request may take before it is answered 408.
    pub timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            api_keys: Vec::new(),
            agency_tokens: HashMap::new(),
            body_limit: 64 << 10,
            rate_per_second: 200,
            rate_burst: 400,
            timeout: Duration::from_secs(10),
        }
    }
}

impl ServerConfig {
    /// The defaults: open intake, no worker tokens, 64 KiB bodies, 200
    /// requests/s per key (bursts of 400), 10 s timeout.
    pub fn new() -> ServerConfig {
        ServerConfig::default()
    }

    /// Admits `key` to post Open311 requests.
    pub fn api_key(mut self, key: impl Into<String>) -> ServerConfig {
        self.api_keys.push(key.into());
        self
    }

    /// Admits bearer `token` to `agency`'s tickets.
    pub fn agency_token(
        mut self,
        agency: impl Into<String>,
        token: impl Into<String>,
    ) -> ServerConfig {
        self.agency_tokens.insert(token.into(), agency.into());
        self
    }

    /// Whether `key` may post (any key when none is configured).
    pub fn admits_key(&self, key: &str) -> bool {
        self.api_keys.is_empty() || self.api_keys.iter().any(|k| k == key)
    }

    /// The agency a worker token admits to.
    pub fn agency_of(&self, token: &str) -> Option<&str> {
        self.agency_tokens.get(token).map(String::as_str)
    }
}
