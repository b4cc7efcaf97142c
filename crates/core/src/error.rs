//! The one error type of configuration: where the problem is (an attribute or a JSON path)
//! and what to do about it. The widget shows it to the site owner, the builder next to its
//! field, the server in a 422 — always with the same words.

use std::fmt;

/// Machine-readable kind of a configuration error, sent as `error.code` in `mighty:error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigErrorCode {
    /// A value is missing, of the wrong type or out of range.
    InvalidConfig,
    /// The listing document could not be fetched: refused (a 4xx), for the site owner to fix.
    ListingUnreachable,
    /// The listing document could not be fetched for a passing reason (5xx, 408, 429, a
    /// timeout, the network): the host's fallback stays and the widget tries again.
    ListingUnavailable,
    /// The card could not be drawn (an exception in the page's JavaScript, say a broken
    /// polyfill): a notice instead of a blank host.
    RenderFailed,
    /// The listing document is not JSON at all.
    MalformedDocument,
    /// The host element cannot take a shadow root.
    UnsupportedHost,
    /// The `data-mighty` value differs from the document's `id`.
    IdMismatch,
}

impl ConfigErrorCode {
    /// Whether the problem may pass by itself (the widget keeps the host's fallback and
    /// tries again) rather than wait for the site owner (a notice).
    pub fn is_passing(self) -> bool {
        self == ConfigErrorCode::ListingUnavailable
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConfigErrorCode::InvalidConfig => "invalid_config",
            ConfigErrorCode::ListingUnreachable => "listing_unreachable",
            ConfigErrorCode::ListingUnavailable => "listing_unavailable",
            ConfigErrorCode::RenderFailed => "render_failed",
            ConfigErrorCode::MalformedDocument => "malformed_document",
            ConfigErrorCode::UnsupportedHost => "unsupported_host",
            ConfigErrorCode::IdMismatch => "id_mismatch",
        }
    }
}

/// A configuration problem: `at` names the attribute (`data-mighty-price`) or the JSON
/// path (`offers[1].price`); `message` says what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub code: ConfigErrorCode,
    pub at: String,
    pub message: String,
}

impl ConfigError {
    pub fn invalid(at: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            code: ConfigErrorCode::InvalidConfig,
            at: at.into(),
            message: message.into(),
        }
    }

    pub fn with_code(mut self, code: ConfigErrorCode) -> ConfigError {
        self.code = code;
        self
    }

    /// Prefixes a JSON path, e.g. to place a document's errors under `listing` or to say
    /// which attribute carried the document.
    pub fn within(mut self, outer: &str) -> ConfigError {
        self.at = if self.at.is_empty() || self.at == "." {
            outer.to_string()
        } else if self.at.starts_with('[') {
            format!("{outer}{}", self.at)
        } else {
            format!("{outer}.{}", self.at)
        };
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}
