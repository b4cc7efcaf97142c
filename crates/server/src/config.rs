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
  MIGHTY_MODE            sandbox (the default; test cards, sandbox clock and faults) or live
                         (payments through Stripe Checkout; needs the two STRIPE_ variables)
  STRIPE_SECRET_KEY      live mode: the Stripe secret key (sk_test_... marks listings and pages
                         as test mode, as in the sandbox; sk_live_... takes real money)
  STRIPE_WEBHOOK_SECRET  live mode: the signing secret (whsec_...) of the Stripe webhook endpoint
                         that sends events to POST /v1/partners/stripe/webhook
  MIGHTY_STRIPE_API_BASE where Stripe's API is (default https://api.stripe.com; https, or http on
                         this machine for a test stand-in)
  MIGHTY_SHIP_COUNTRIES  countries Stripe Checkout collects shipping addresses in, for offers
                         with \"ships\": true: ISO 3166-1 alpha-2 codes, comma-separated (default
                         AT,BE,CH,DE,DK,ES,FI,FR,GB,IE,IT,LU,NL,NO,PT,SE)
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
    /// The built-in partner: pay page, test cards, sandbox clock and faults.
    Sandbox,
    /// Payments through Stripe Checkout ([`StripeConfig`]); the sandbox's surfaces do not
    /// exist.
    Live,
}

/// Stripe's default API origin (`MIGHTY_STRIPE_API_BASE`).
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";

/// The countries shipping addresses are collected in when `MIGHTY_SHIP_COUNTRIES` is unset.
pub const DEFAULT_SHIP_COUNTRIES: &str = "AT,BE,CH,DE,DK,ES,FI,FR,GB,IE,IT,LU,NL,NO,PT,SE";

/// The ISO 3166-1 alpha-2 codes assigned to countries and territories.
const ISO_3166_ALPHA_2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR \
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ \
    FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE \
    JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR \
    MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU \
    RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG \
    UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Assigned codes that Stripe Checkout's shipping address collection does not take (its
/// `allowed_countries` list leaves them out): refused at start rather than at a checkout.
const NOT_SHIPPED_BY_STRIPE: &str = "AS CC CU CX FM HM IR KP MH MP NF PW SD SY UM VI";

/// `MIGHTY_SHIP_COUNTRIES`: comma-separated ISO 3166-1 alpha-2 codes (any case, spaces
/// allowed), each one Stripe can collect addresses in; duplicates are dropped.
pub fn parse_ship_countries(text: &str) -> Result<Vec<String>, String> {
    let mut countries: Vec<String> = Vec::new();
    for part in text.split(',') {
        let code = part.trim().to_ascii_uppercase();
        if code.is_empty() {
            continue;
        }
        let assigned = code.len() == 2
            && ISO_3166_ALPHA_2
                .split_whitespace()
                .any(|known| known == code);
        if !assigned {
            return Err(format!(
                "MIGHTY_SHIP_COUNTRIES: {:?} is not an ISO 3166-1 alpha-2 country code; write codes like FR,DE,GB separated by commas",
                part.trim()
            ));
        }
        if NOT_SHIPPED_BY_STRIPE
            .split_whitespace()
            .any(|refused| refused == code)
        {
            return Err(format!(
                "MIGHTY_SHIP_COUNTRIES: Stripe Checkout does not collect shipping addresses in {code}; leave it out"
            ));
        }
        if !countries.contains(&code) {
            countries.push(code);
        }
    }
    if countries.is_empty() {
        return Err(
            "MIGHTY_SHIP_COUNTRIES is empty; name at least one country, e.g. FR".to_string(),
        );
    }
    Ok(countries)
}

/// A secret read from the environment: never printed (its `Debug` is redacted), so it
/// cannot reach a log through a `{:?}` of the configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it (an `Authorization` header, an
    /// HMAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("[redacted]")
    }
}

/// Live mode's Stripe settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeConfig {
    /// `STRIPE_SECRET_KEY`.
    pub secret_key: Secret,
    /// `STRIPE_WEBHOOK_SECRET`: verifies `Stripe-Signature`.
    pub webhook_secret: Secret,
    /// `MIGHTY_STRIPE_API_BASE`, without a trailing `/`.
    pub api_base: String,
    /// The key is a test key (`sk_test_`, `rk_test_`): listings and pages say test mode.
    pub test_mode: bool,
    /// How often and how long each call to Stripe is tried (not configurable from the
    /// environment: tests shorten it to hit timeouts over a socket).
    pub retry: crate::stripe::RetryPolicy,
}

impl StripeConfig {
    fn from_env(get: &impl Fn(&str) -> Option<String>) -> Result<StripeConfig, String> {
        let required = |name: &str, what: &str| {
            get(name)
                .filter(|value| !value.trim().is_empty())
                .ok_or_else(|| format!("MIGHTY_MODE=live needs {name}: {what}"))
        };
        let secret_key = required(
            "STRIPE_SECRET_KEY",
            "the secret key of the Stripe account (sk_test_... or sk_live_...)",
        )?;
        let secret_key = secret_key.trim().to_string();
        let test_mode = match secret_key.get(..8) {
            Some("sk_test_" | "rk_test_") => true,
            Some("sk_live_" | "rk_live_") => false,
            // The value itself is never repeated in a message.
            _ => {
                return Err(
                    "STRIPE_SECRET_KEY is not a Stripe secret key: it starts with sk_test_ or sk_live_ (rk_ for a restricted key)".to_string(),
                );
            }
        };
        let webhook_secret = required(
            "STRIPE_WEBHOOK_SECRET",
            "the signing secret (whsec_...) of the Stripe webhook endpoint that sends events to /v1/partners/stripe/webhook",
        )?;
        let webhook_secret = webhook_secret.trim().to_string();
        if !webhook_secret.starts_with("whsec_") {
            return Err(
                "STRIPE_WEBHOOK_SECRET is not a webhook signing secret: it starts with whsec_ (Stripe shows it on the webhook endpoint)".to_string(),
            );
        }
        let api_base = get("MIGHTY_STRIPE_API_BASE")
            .filter(|base| !base.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_STRIPE_API_BASE.to_string());
        let parsed = url::Url::parse(api_base.trim())
            .ok()
            .filter(|url| matches!(url.scheme(), "https" | "http") && url.host_str().is_some());
        let Some(parsed) = parsed.filter(|url| {
            mighty_core::url::is_secure_endpoint(url.as_str())
                && url.path() == "/"
                && url.query().is_none()
                && url.username().is_empty()
        }) else {
            return Err(format!(
                "MIGHTY_STRIPE_API_BASE={api_base:?} is not an API origin: write https://host (http only on this machine, for a test stand-in), without a path"
            ));
        };
        Ok(StripeConfig {
            secret_key: Secret::new(secret_key),
            webhook_secret: Secret::new(webhook_secret),
            api_base: parsed.as_str().trim_end_matches('/').to_string(),
            test_mode,
            retry: crate::stripe::RetryPolicy::DEFAULT,
        })
    }
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
    /// Live mode's Stripe settings (`Some` exactly when the mode is live).
    pub stripe: Option<StripeConfig>,
    /// `MIGHTY_SHIP_COUNTRIES`: where Stripe Checkout collects shipping addresses.
    pub ship_countries: Vec<String>,
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
            Some("live") => Mode::Live,
            Some(other) => {
                return Err(format!(
                    "MIGHTY_MODE={other:?} is not a mode; use sandbox or live"
                ));
            }
        };
        let stripe = match mode {
            Mode::Live => Some(StripeConfig::from_env(&get)?),
            Mode::Sandbox => None,
        };
        let ship_countries = parse_ship_countries(
            &get("MIGHTY_SHIP_COUNTRIES").unwrap_or_else(|| DEFAULT_SHIP_COUNTRIES.to_string()),
        )?;
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
            stripe,
            ship_countries,
        })
    }

    /// Whether listings and pages say test mode: always in the sandbox; in live mode when
    /// the Stripe key is a test key.
    pub fn test_mode(&self) -> bool {
        self.stripe.as_ref().is_none_or(|stripe| stripe.test_mode)
    }

    /// Live mode's Stripe settings, when the mode is live.
    pub fn live(&self) -> Option<&StripeConfig> {
        self.stripe.as_ref()
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
            stripe: None,
            ship_countries: parse_ship_countries(DEFAULT_SHIP_COUNTRIES)
                .expect("the default countries are valid"),
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
            "MIGHTY_MODE=\"prod\" is not a mode; use sandbox or live"
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

    const LIVE: [(&str, &str); 3] = [
        ("MIGHTY_MODE", "live"),
        ("STRIPE_SECRET_KEY", "sk_test_51abcdefSECRET"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_abcdefSECRET"),
    ];

    fn live_with(changes: &[(&'static str, &'static str)]) -> Result<Config, String> {
        let mut pairs: Vec<(&str, &str)> = LIVE
            .iter()
            .filter(|(name, _)| !changes.iter().any(|(changed, _)| changed == name))
            .copied()
            .collect();
        pairs.extend(changes.iter().filter(|(_, value)| !value.is_empty()));
        config(&pairs)
    }

    #[test]
    fn live_mode_needs_both_stripe_secrets_and_names_the_missing_one() {
        let live = config(&LIVE).unwrap();
        assert_eq!(live.mode, Mode::Live);
        let stripe = live.live().unwrap();
        assert_eq!(stripe.api_base, DEFAULT_STRIPE_API_BASE);
        assert!(stripe.test_mode && live.test_mode());
        assert_eq!(
            live.webhook_destinations,
            WebhookDestinations::PublicOnly,
            "live mode delivers to public addresses only"
        );
        let error = live_with(&[("STRIPE_SECRET_KEY", "")]).unwrap_err();
        assert!(
            error.starts_with("MIGHTY_MODE=live needs STRIPE_SECRET_KEY"),
            "{error}"
        );
        let error = live_with(&[("STRIPE_WEBHOOK_SECRET", "")]).unwrap_err();
        assert!(
            error.starts_with("MIGHTY_MODE=live needs STRIPE_WEBHOOK_SECRET"),
            "{error}"
        );
        // A malformed key is refused without repeating it.
        let error = live_with(&[("STRIPE_SECRET_KEY", "pk_live_PUBLISHABLE")]).unwrap_err();
        assert!(
            error.contains("is not a Stripe secret key") && !error.contains("PUBLISHABLE"),
            "{error}"
        );
        let error = live_with(&[("STRIPE_WEBHOOK_SECRET", "secret")]).unwrap_err();
        assert!(error.contains("starts with whsec_"), "{error}");
        // Test mode follows the key.
        let real = live_with(&[("STRIPE_SECRET_KEY", "sk_live_51abc")]).unwrap();
        assert!(!real.live().unwrap().test_mode && !real.test_mode());
        assert!(
            config(&[]).unwrap().test_mode(),
            "the sandbox is always test mode"
        );
        // Keys never print.
        let printed = format!("{live:?}");
        assert!(!printed.contains("SECRET"), "{printed}");
        // MIGHTY_WEBHOOK_ALLOW_PRIVATE=1 lifts the public-only rule (tests).
        assert_eq!(
            live_with(&[("MIGHTY_WEBHOOK_ALLOW_PRIVATE", "1")])
                .unwrap()
                .webhook_destinations,
            WebhookDestinations::AnyAddress
        );
    }

    #[test]
    fn the_stripe_api_base_is_https_or_this_machine() {
        let cases: &[(&str, Option<&str>)] = &[
            ("https://api.stripe.com", Some("https://api.stripe.com")),
            ("https://api.stripe.com/", Some("https://api.stripe.com")),
            ("http://127.0.0.1:4242", Some("http://127.0.0.1:4242")),
            ("http://localhost:12111/", Some("http://localhost:12111")),
            ("http://stripe.example", None),
            ("https://api.stripe.com/v1", None),
            ("ftp://api.stripe.com", None),
            ("api.stripe.com", None),
        ];
        for (given, expected) in cases {
            let result = live_with(&[("MIGHTY_STRIPE_API_BASE", given)]);
            match expected {
                Some(base) => {
                    assert_eq!(result.unwrap().live().unwrap().api_base, *base, "{given}")
                }
                None => assert!(
                    result.unwrap_err().starts_with("MIGHTY_STRIPE_API_BASE="),
                    "{given}"
                ),
            }
        }
    }

    #[test]
    fn ship_countries_are_checked_iso_codes() {
        assert_eq!(
            config(&[]).unwrap().ship_countries,
            DEFAULT_SHIP_COUNTRIES.split(',').collect::<Vec<_>>()
        );
        let cases: &[(&str, Result<&[&str], &str>)] = &[
            ("FR", Ok(&["FR"])),
            ("fr, de ,GB,fr", Ok(&["FR", "DE", "GB"])),
            ("FR,,US", Ok(&["FR", "US"])),
            (
                "FRA",
                Err("\"FRA\" is not an ISO 3166-1 alpha-2 country code"),
            ),
            (
                "XX",
                Err("\"XX\" is not an ISO 3166-1 alpha-2 country code"),
            ),
            (
                "UK",
                Err("\"UK\" is not an ISO 3166-1 alpha-2 country code"),
            ),
            ("FR,CU", Err("does not collect shipping addresses in CU")),
            (" , ", Err("MIGHTY_SHIP_COUNTRIES is empty")),
        ];
        for (given, expected) in cases {
            match (parse_ship_countries(given), expected) {
                (Ok(countries), Ok(codes)) => assert_eq!(&countries, codes, "{given}"),
                (Err(error), Err(part)) => assert!(error.contains(part), "{given}: {error}"),
                (result, _) => panic!("{given}: {result:?}"),
            }
        }
        assert!(config(&[("MIGHTY_SHIP_COUNTRIES", "ZZ")]).is_err());
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
