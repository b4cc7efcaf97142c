//! The server's configuration, from the environment (SPEC section 9). `mighty-server --help`
//! prints [`HELP`].

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::store::DatabaseUrl;

pub const HELP: &str = "mighty-server: Mighty's reference server (demo directory, widget bundle, listing feed,
partner sandbox, subscriptions, signed webhooks)

usage:
  mighty-server                       serve (configured by the environment below)
  mighty-server seller add --name N   create a seller; prints {\"seller_id\",\"token\"}
  mighty-server import --csv FILE --out DIR [--script URL] [--checkout URL] [--title TEXT]
                                      turn a CSV of directory rows (name, address, city, category,
                                      url, summary, offer, price, currency, interval) into listing
                                      documents and a directory page with the widgets embedded
  mighty-server report --listing ID [--token T] [--from RFC3339] [--to RFC3339]
                                      the dashboard's numbers as terminal tables
  mighty-server --help                this text

environment:
  MIGHTY_ADDR            address to listen on (default 127.0.0.1:8080)
  DATABASE_URL           storage: an SQLite file, sqlite:PATH (default sqlite:mighty.db in the
                         working directory, created on first run), or PostgreSQL 14+,
                         postgres://user:password@host:5432/db, which several instances share
  MIGHTY_DB_POOL_SIZE    PostgreSQL connections per instance (default 10)
  MIGHTY_MODE            sandbox (the default; test cards, sandbox clock and faults); live comes later
  MIGHTY_SELLER_TOKEN    makes a seller with this token exist at start (scripted setups, the demo)
  MIGHTY_SELLER_NAME     that seller's name (default \"Demo seller\")
  MIGHTY_SEED_LISTINGS   a folder of listing documents (*.json, with allowed_origins) created for
                         MIGHTY_SELLER_TOKEN's seller at start when missing (the demo uses www/listings)
  MIGHTY_SECRET_KEY      the server key (at least 32 characters; several instances share it):
                         customer tokens, session secrets and the creator-link key derive from
                         it (default: a random key in a file beside the SQLite database,
                         mighty.db.key, created readable by its owner only)
  MIGHTY_LINK_SECRET     key that signs creator-link tokens (default: derived from the server key)
  MIGHTY_PUBLIC_URL      origin the server is reached at, for pay-page and link URLs
                         (default: the request's Host)
  MIGHTY_EVENTS_RATE_LIMIT  event batches one client may send per minute (default 120)
  MIGHTY_WEBHOOK_ALLOW_PRIVATE  1 lets live mode deliver webhooks to loopback, private and
                         link-local addresses (for tests only; the sandbox always may); 0 or unset
  MIGHTY_ROOT            folder holding index.html, www/ and dist/ (default: the working directory)
  RUST_LOG               log filter, e.g. info or mighty_server=debug (default info)";

/// The seller token of [`Config::for_tests`].
pub const TEST_SELLER_TOKEN: &str = "msk_test_seller_token_0001";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Sandbox,
}

/// Where webhooks may be delivered (SPEC section 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookDestinations {
    /// Any address, loopback and private networks included: the sandbox (local receivers
    /// while testing), or `MIGHTY_WEBHOOK_ALLOW_PRIVATE=1`.
    AnyAddress,
    /// Public addresses only (live mode): see `webhooks::is_public_address`, checked at
    /// registration and on the addresses each delivery connects to.
    PublicOnly,
}

impl WebhookDestinations {
    /// The sandbox delivers anywhere; live mode only to public addresses unless
    /// `MIGHTY_WEBHOOK_ALLOW_PRIVATE=1`.
    pub fn for_mode(mode: &Mode, allow_private: bool) -> WebhookDestinations {
        if *mode == Mode::Sandbox || allow_private {
            WebhookDestinations::AnyAddress
        } else {
            WebhookDestinations::PublicOnly
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub address: SocketAddr,
    pub root: PathBuf,
    pub mode: Mode,
    pub database: DatabaseUrl,
    pub seller_token: Option<String>,
    pub seller_name: String,
    pub seed_listings: Option<PathBuf>,
    pub link_secret: Option<String>,
    pub public_url: Option<String>,
    /// Event batches a client may send per minute (`MIGHTY_EVENTS_RATE_LIMIT`).
    pub events_per_minute: u32,
    /// `MIGHTY_SECRET_KEY`: the key server secrets derive from (see `secrets.rs`).
    pub secret_key: Option<String>,
    /// PostgreSQL connections per instance (`MIGHTY_DB_POOL_SIZE`).
    pub database_pool_size: u32,
    /// Where webhooks may go (the mode, and `MIGHTY_WEBHOOK_ALLOW_PRIVATE`).
    pub webhook_destinations: WebhookDestinations,
}

impl Config {
    /// Reads the configuration; an error names the variable and the fix.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let address_text = get("MIGHTY_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let address = address_text.parse().map_err(|_| {
            format!("MIGHTY_ADDR={address_text:?} is not an address; write it like 127.0.0.1:8080")
        })?;
        let root = get("MIGHTY_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let mode = match get("MIGHTY_MODE").as_deref() {
            None | Some("sandbox") => Mode::Sandbox,
            Some("live") => {
                return Err("MIGHTY_MODE=live is not available yet; use sandbox".to_string());
            }
            Some(other) => return Err(format!("MIGHTY_MODE={other:?} is not a mode; use sandbox")),
        };
        let allow_private = match get("MIGHTY_WEBHOOK_ALLOW_PRIVATE").as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => {
                return Err(format!(
                    "MIGHTY_WEBHOOK_ALLOW_PRIVATE={other:?} is not 1 or 0; 1 (for tests only) lets live mode deliver webhooks to private and loopback addresses"
                ));
            }
        };
        let webhook_destinations = WebhookDestinations::for_mode(&mode, allow_private);
        let database = DatabaseUrl::parse(
            &get("DATABASE_URL").unwrap_or_else(|| "sqlite:mighty.db".to_string()),
        )?;
        // Any non-empty token is taken (scripted setups pick their own); a short one is
        // warned about at start (`lib.rs`), not refused.
        let seller_token = get("MIGHTY_SELLER_TOKEN").filter(|token| !token.trim().is_empty());
        let seed_listings = get("MIGHTY_SEED_LISTINGS").map(PathBuf::from);
        if seed_listings.is_some() && seller_token.is_none() {
            return Err("MIGHTY_SEED_LISTINGS needs MIGHTY_SELLER_TOKEN: the seeded listings belong to that seller".to_string());
        }
        let public_url = get("MIGHTY_PUBLIC_URL").filter(|url| !url.is_empty());
        if let Some(url) = &public_url
            && mighty_core::url::origin(url).is_none()
        {
            return Err(format!("MIGHTY_PUBLIC_URL={url:?} is not an http(s) URL"));
        }
        Ok(Config {
            address,
            root,
            mode,
            database,
            seller_token,
            seller_name: get("MIGHTY_SELLER_NAME").unwrap_or_else(|| "Demo seller".to_string()),
            seed_listings,
            link_secret: get("MIGHTY_LINK_SECRET").filter(|secret| !secret.is_empty()),
            database_pool_size: match get("MIGHTY_DB_POOL_SIZE") {
                None => crate::store::DEFAULT_POOL_SIZE,
                Some(text) => text.parse().ok().filter(|size| (1..=1000).contains(size)).ok_or_else(|| {
                    format!("MIGHTY_DB_POOL_SIZE={text:?} is not a number of connections from 1 to 1000")
                })?,
            },
            secret_key: match get("MIGHTY_SECRET_KEY").filter(|key| !key.is_empty()) {
                Some(key) if key.len() < crate::secrets::MIN_SECRET_KEY_LENGTH => {
                    return Err(format!(
                        "MIGHTY_SECRET_KEY is {} characters; use at least {} random ones (e.g. `openssl rand -hex 32`)",
                        key.len(),
                        crate::secrets::MIN_SECRET_KEY_LENGTH
                    ));
                }
                key => key,
            },
            public_url,
            events_per_minute: match get("MIGHTY_EVENTS_RATE_LIMIT") {
                None => crate::routes::events::BATCHES_PER_MINUTE,
                Some(text) => text.parse().ok().filter(|limit| *limit > 0).ok_or_else(|| {
                    format!("MIGHTY_EVENTS_RATE_LIMIT={text:?} is not a positive whole number of batches per minute")
                })?,
            },
            webhook_destinations,
        })
    }

    /// A configuration for tests: in-memory database, sandbox mode, a seller with
    /// [`TEST_SELLER_TOKEN`].
    pub fn for_tests(root: PathBuf) -> Config {
        Config {
            address: "127.0.0.1:0".parse().expect("a valid address"),
            root,
            mode: Mode::Sandbox,
            database: DatabaseUrl::SqliteMemory,
            seller_token: Some(TEST_SELLER_TOKEN.into()),
            seller_name: "Test seller".into(),
            seed_listings: None,
            link_secret: Some("test-link-secret".into()),
            secret_key: Some("test-secret-key-0123456789abcdef-0123".into()),
            database_pool_size: crate::store::DEFAULT_POOL_SIZE,
            public_url: None,
            events_per_minute: crate::routes::events::BATCHES_PER_MINUTE,
            webhook_destinations: WebhookDestinations::AnyAddress,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, String> {
        Config::from_env(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn defaults_and_errors() {
        let defaults = config(&[]).unwrap();
        assert_eq!(defaults.address.to_string(), "127.0.0.1:8080");
        assert_eq!(defaults.mode, Mode::Sandbox);
        assert_eq!(defaults.database, DatabaseUrl::Sqlite("mighty.db".into()));
        assert_eq!(
            config(&[("DATABASE_URL", "sqlite://data/m.db")])
                .unwrap()
                .database,
            DatabaseUrl::Sqlite("data/m.db".into())
        );
        assert_eq!(
            config(&[("MIGHTY_ADDR", "localhost")]).unwrap_err(),
            "MIGHTY_ADDR=\"localhost\" is not an address; write it like 127.0.0.1:8080"
        );
        assert_eq!(
            config(&[("MIGHTY_MODE", "prod")]).unwrap_err(),
            "MIGHTY_MODE=\"prod\" is not a mode; use sandbox"
        );
        assert_eq!(
            config(&[("DATABASE_URL", "postgres://mighty@db:5432/mighty")])
                .unwrap()
                .database,
            DatabaseUrl::Postgres("postgres://mighty@db:5432/mighty".into())
        );
        assert!(
            config(&[("DATABASE_URL", "postgres://")])
                .unwrap_err()
                .contains("names no PostgreSQL host"),
        );
        assert_eq!(
            config(&[("MIGHTY_DB_POOL_SIZE", "0")]).unwrap_err(),
            "MIGHTY_DB_POOL_SIZE=\"0\" is not a number of connections from 1 to 1000"
        );
        assert_eq!(
            config(&[("MIGHTY_DB_POOL_SIZE", "25")])
                .unwrap()
                .database_pool_size,
            25
        );
        assert_eq!(
            config(&[("MIGHTY_SELLER_TOKEN", "short")])
                .unwrap()
                .seller_token
                .as_deref(),
            Some("short")
        );
        assert!(
            config(&[("MIGHTY_SEED_LISTINGS", "www/listings")])
                .unwrap_err()
                .contains("needs MIGHTY_SELLER_TOKEN")
        );
    }

    #[test]
    fn webhook_destinations_follow_the_mode_and_allow_private() {
        assert_eq!(
            config(&[]).unwrap().webhook_destinations,
            WebhookDestinations::AnyAddress
        );
        for value in ["0", "1"] {
            assert_eq!(
                config(&[("MIGHTY_WEBHOOK_ALLOW_PRIVATE", value)])
                    .unwrap()
                    .webhook_destinations,
                WebhookDestinations::AnyAddress,
                "the sandbox delivers anywhere"
            );
        }
        let error = config(&[("MIGHTY_WEBHOOK_ALLOW_PRIVATE", "yes")]).unwrap_err();
        assert!(
            error.starts_with("MIGHTY_WEBHOOK_ALLOW_PRIVATE=\"yes\" is not 1 or 0"),
            "{error}"
        );
    }
}
