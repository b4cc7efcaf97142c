//! A widget host as the page wrote it: its tag, its `data-mighty-*` attributes, an inline
//! config child, and what `Mighty.mount` was given. From that, [`HostConfig::settings`]
//! validates the per-host settings and [`HostConfig::listing_source`] picks where the listing
//! comes from, in SPEC section 2's order. No I/O here: the widget reads the DOM and fetches,
//! core decides.

use crate::error::{ConfigError, ConfigErrorCode};
use crate::listing::is_valid_listing_id;

/// Elements that can take a shadow root (besides custom elements), per the DOM standard.
pub const SHADOW_HOST_TAGS: &[&str] = &[
    "article",
    "aside",
    "blockquote",
    "div",
    "footer",
    "header",
    "main",
    "nav",
    "p",
    "section",
    "span",
];

/// Every `data-mighty-*` attribute the widget reads, without the prefix (`""` is
/// `data-mighty` itself). Also the keys `Mighty.mount`'s config accepts, in camelCase.
pub const ATTRIBUTE_NAMES: &[&str] = &[
    "",
    "listing",
    "source",
    "title",
    "seller",
    "price",
    "currency",
    "demo",
    "demo-poster",
    "creator",
    "rating",
    "reviews",
    "checkout",
    "checkout-mode",
    "events",
    "locale",
    "theme",
    "consent",
    "attribution-days",
    "eager",
];

/// The full attribute name of a key of [`HostConfig::attributes`].
pub fn attribute_name(key: &str) -> String {
    if key.is_empty() {
        "data-mighty".to_string()
    } else {
        format!("data-mighty-{key}")
    }
}

/// `checkoutMode` → `checkout-mode`: a `Mighty.mount` config key to its attribute key.
pub fn config_key_to_attribute_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for character in key.chars() {
        if character.is_ascii_uppercase() {
            out.push('-');
            out.push(character.to_ascii_lowercase());
        } else {
            out.push(character);
        }
    }
    out
}

/// A host's `data-mighty-*` attributes by key (without the prefix). A small vector, not a
/// map: there are at most twenty, and `BTreeMap` costs kilobytes of wasm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes(Vec<(String, String)>);

impl Attributes {
    pub fn get(&self, key: &str) -> Option<&String> {
        self.0
            .iter()
            .find(|(known, _)| known == key)
            .map(|(_, value)| value)
    }

    /// Sets `key`, replacing an earlier value.
    pub fn insert(&mut self, key: String, value: String) {
        match self.0.iter_mut().find(|(known, _)| *known == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        let index = self.0.iter().position(|(known, _)| known == key)?;
        Some(self.0.remove(index).1)
    }
}

impl FromIterator<(String, String)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Attributes {
        let mut attributes = Attributes::default();
        for (key, value) in pairs {
            attributes.insert(key, value);
        }
        attributes
    }
}

/// What `Mighty.mount(element, {listing})` was given as `listing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountListing {
    /// A URL of a listing document.
    Url(String),
    /// A listing document, as JSON text.
    Document(String),
    /// A listing document given as an object, read as it is (never through the page's
    /// `JSON.stringify`, which a page may have changed: Prototype.js's
    /// `Array.prototype.toJSON` turns every list into a string).
    Parsed(ParsedDocument),
}

/// A JSON document already read into a value.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedDocument(pub serde_json::Value);

// A JSON value holds no NaN (serde_json cannot make one), so `==` is an equivalence.
impl Eq for ParsedDocument {}

/// Everything the page says about one host, before any validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    /// Lower-case tag name, e.g. `div`.
    pub tag_name: String,
    /// Attribute keys without the `data-mighty-` prefix (see [`ATTRIBUTE_NAMES`]), with
    /// `Mighty.mount`'s config merged over them.
    pub attributes: Attributes,
    /// `listing` from `Mighty.mount`'s config.
    pub mount_listing: Option<MountListing>,
    /// Text of the child `<script type="application/json" data-mighty-config>`.
    pub inline_config: Option<String>,
}

/// Where a host's listing comes from, in SPEC section 2's order of precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingSource {
    /// A document given inline (mount config or `data-mighty-config` child); `origin` names
    /// it in error messages.
    Document { json: String, origin: &'static str },
    /// A document given to `Mighty.mount` as an object.
    Parsed {
        document: ParsedDocument,
        origin: &'static str,
    },
    /// `data-mighty-listing` (or mount config `listing` as a string): fetch this URL.
    Url(String),
    /// `data-mighty-source="schema.org"`: read the page's JSON-LD.
    SchemaOrg,
    /// `data-mighty-title` with `-price`: a one-offer listing from attributes.
    Attributes,
    /// Only `data-mighty="<id>"`: fetch `{base}/v1/listings/{id}`, `base` being the origin
    /// of this checkout endpoint (which may still be relative to the page).
    ById {
        id: String,
        checkout: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutMode {
    Popup,
    Redirect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
    Auto,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::Auto => "auto",
        }
    }
}

/// Validated per-host settings (everything but the listing itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSettings {
    /// `data-mighty-checkout`, overriding the document's endpoint; may be relative.
    pub checkout: Option<String>,
    pub checkout_mode: CheckoutMode,
    pub events: Option<String>,
    /// A BCP 47 tag when the host sets one; else the page's `lang`, then the browser's.
    pub locale: Option<String>,
    pub theme: Theme,
    pub consent_required: bool,
    pub attribution_days: u32,
    pub eager: bool,
}

/// The default attribution window, in days (SPEC section 2).
pub const DEFAULT_ATTRIBUTION_DAYS: u32 = 30;

impl HostConfig {
    /// `Mighty.mount`'s config is the first listing source (SPEC section 2). When it names one
    /// by its keys (`source`, or `title`/`price` for a minimal listing; a `listing` key is
    /// [`Self::mount_listing`]), the host's own sources give way: the inline
    /// `data-mighty-config` child and the `data-mighty-listing`/`-source` attributes the
    /// config did not set. `from_mount` lists the attribute keys the config set.
    pub fn prefer_mount_source(&mut self, from_mount: &[String]) {
        let set_by_mount = |key: &str| from_mount.iter().any(|set| set == key);
        if !["source", "title", "price"].into_iter().any(set_by_mount) {
            return;
        }
        self.inline_config = None;
        for key in ["listing", "source"] {
            if !set_by_mount(key) {
                self.attributes.remove(key);
            }
        }
    }

    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }

    /// A present, non-blank attribute, trimmed.
    fn value(&self, key: &str) -> Option<&str> {
        self.attribute(key)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    }

    /// The `data-mighty` value, if the page gave one.
    pub fn declared_id(&self) -> Option<&str> {
        self.value("")
    }

    /// Whether the host element can hold the widget's shadow root.
    pub fn check_host_element(&self) -> Result<(), ConfigError> {
        let tag = self.tag_name.as_str();
        if SHADOW_HOST_TAGS.contains(&tag) || is_custom_element_name(tag) {
            return Ok(());
        }
        Err(ConfigError {
            code: ConfigErrorCode::UnsupportedHost,
            at: "data-mighty".to_string(),
            message: format!(
                "a <{tag}> cannot hold the widget; put data-mighty on a div, section, article, aside, main, span, p, header, footer, nav, blockquote or a custom element"
            ),
        })
    }

    /// Validates the settings attributes.
    pub fn settings(&self) -> Result<HostSettings, ConfigError> {
        let checkout = match self.value("checkout") {
            Some(url) => {
                crate::url::check_web_reference(url)
                    .map_err(|message| ConfigError::invalid("data-mighty-checkout", message))?;
                Some(url.to_string())
            }
            None => None,
        };
        let checkout_mode = match self.value("checkout-mode") {
            None | Some("popup") => CheckoutMode::Popup,
            Some("redirect") => CheckoutMode::Redirect,
            Some(other) => {
                return Err(ConfigError::invalid(
                    "data-mighty-checkout-mode",
                    format!(
                        "\"{other}\" is not a checkout mode; use \"popup\" (the default) or \"redirect\""
                    ),
                ));
            }
        };
        let events = match self.value("events") {
            Some(url) => {
                crate::url::check_web_reference(url)
                    .map_err(|message| ConfigError::invalid("data-mighty-events", message))?;
                Some(url.to_string())
            }
            None => None,
        };
        let locale = match self.value("locale") {
            Some(tag) if is_plausible_language_tag(tag) => Some(tag.to_string()),
            Some(tag) => {
                return Err(ConfigError::invalid(
                    "data-mighty-locale",
                    format!(
                        "\"{tag}\" is not a BCP 47 language tag; write it like \"fr\" or \"fr-FR\""
                    ),
                ));
            }
            None => None,
        };
        let theme = match self.value("theme") {
            None | Some("auto") => Theme::Auto,
            Some("light") => Theme::Light,
            Some("dark") => Theme::Dark,
            Some(other) => {
                return Err(ConfigError::invalid(
                    "data-mighty-theme",
                    format!(
                        "\"{other}\" is not a theme; use \"light\", \"dark\" or \"auto\" (the default)"
                    ),
                ));
            }
        };
        let consent_required = match self.attribute("consent").map(str::trim) {
            None => false,
            Some("required") => true,
            Some(other) => {
                return Err(ConfigError::invalid(
                    "data-mighty-consent",
                    format!(
                        "\"{other}\" is not understood; use \"required\", or remove the attribute"
                    ),
                ));
            }
        };
        let attribution_days = match self.value("attribution-days") {
            None => DEFAULT_ATTRIBUTION_DAYS,
            Some(text) => match text.parse::<u32>() {
                Ok(days) if (1..=365).contains(&days) => days,
                _ => {
                    return Err(ConfigError::invalid(
                        "data-mighty-attribution-days",
                        format!(
                            "\"{text}\" is not a whole number of days from 1 to 365 (the default is {DEFAULT_ATTRIBUTION_DAYS})"
                        ),
                    ));
                }
            },
        };
        let eager = self
            .attribute("eager")
            .is_some_and(|value| !matches!(value.trim(), "false" | "0"));
        Ok(HostSettings {
            checkout,
            checkout_mode,
            events,
            locale,
            theme,
            consent_required,
            attribution_days,
            eager,
        })
    }

    /// Picks the listing source: the first present wins (SPEC section 2).
    pub fn listing_source(&self) -> Result<ListingSource, ConfigError> {
        match &self.mount_listing {
            Some(MountListing::Document(json)) => {
                return Ok(ListingSource::Document {
                    json: json.clone(),
                    origin: "Mighty.mount config.listing",
                });
            }
            Some(MountListing::Parsed(document)) => {
                return Ok(ListingSource::Parsed {
                    document: document.clone(),
                    origin: "Mighty.mount config.listing",
                });
            }
            Some(MountListing::Url(url)) => return Ok(ListingSource::Url(url.clone())),
            None => {}
        }
        if let Some(json) = &self.inline_config {
            return Ok(ListingSource::Document {
                json: json.clone(),
                origin: "data-mighty-config",
            });
        }
        if let Some(url) = self.value("listing") {
            crate::url::check_web_reference(url)
                .map_err(|message| ConfigError::invalid("data-mighty-listing", message))?;
            return Ok(ListingSource::Url(url.to_string()));
        }
        if self.attribute("listing").is_some() {
            return Err(ConfigError::invalid(
                "data-mighty-listing",
                "is empty; give the URL of a listing JSON document",
            ));
        }
        match self.value("source") {
            Some(source) if source.eq_ignore_ascii_case("schema.org") => {
                return Ok(ListingSource::SchemaOrg);
            }
            Some(other) => {
                return Err(ConfigError::invalid(
                    "data-mighty-source",
                    format!(
                        "\"{other}\" is not a listing source; the only value is \"schema.org\""
                    ),
                ));
            }
            None => {}
        }
        if self.attribute("title").is_some() || self.attribute("price").is_some() {
            return Ok(ListingSource::Attributes);
        }
        match self.declared_id() {
            Some(id) if is_valid_listing_id(id) => Ok(ListingSource::ById {
                id: id.to_string(),
                checkout: self.value("checkout").map(String::from),
            }),
            Some(id) => Err(ConfigError::invalid(
                "data-mighty",
                format!(
                    "\"{id}\" is not a valid listing id; use 1 to 64 letters, digits, '-' or '_'"
                ),
            )),
            None => Err(ConfigError::invalid(
                "data-mighty",
                "names no listing; give the listing id (data-mighty=\"candle-trio\" with data-mighty-checkout), data-mighty-listing=\"<URL>\", an inline <script type=\"application/json\" data-mighty-config>, or data-mighty-title with data-mighty-price",
            )),
        }
    }

    /// The rule "a non-empty `data-mighty` value that differs from the document's `id` is a
    /// config error".
    pub fn check_listing_id(&self, document_id: &str) -> Result<(), ConfigError> {
        match self.declared_id() {
            Some(declared) if declared != document_id => Err(ConfigError {
                code: ConfigErrorCode::IdMismatch,
                at: "data-mighty".to_string(),
                message: format!(
                    "\"{declared}\" differs from the listing document's id \"{document_id}\"; set data-mighty=\"{document_id}\" or leave it empty"
                ),
            }),
            _ => Ok(()),
        }
    }
}

/// The URL `{base}/v1/listings/{id}` of a listing on its server; `checkout` is the checkout
/// endpoint (as the browser's URL parser read it) whose origin is the base.
pub fn listing_url_for_id(checkout: Option<&crate::url::WebUrl>, id: &str) -> Option<String> {
    if !is_valid_listing_id(id) {
        return None;
    }
    checkout.map(|checkout| format!("{}/v1/listings/{id}", checkout.origin()))
}

/// Custom element names contain a hyphen and start with a lower-case ASCII letter.
fn is_custom_element_name(tag: &str) -> bool {
    tag.contains('-')
        && tag
            .bytes()
            .next()
            .is_some_and(|byte| byte.is_ascii_lowercase())
}

/// A syntactic BCP 47 check (language, then alphanumeric subtags of 1 to 8), enough to catch
/// `fr_FR` and `fr FR`; the browser's `Intl` is the final judge.
pub fn is_plausible_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let language = subtags.next().unwrap_or_default();
    let language_ok = (2..=3).contains(&language.len()) || (5..=8).contains(&language.len());
    language_ok
        && language.bytes().all(|byte| byte.is_ascii_alphabetic())
        && subtags.all(|subtag| {
            (1..=8).contains(&subtag.len())
                && subtag.bytes().all(|byte| byte.is_ascii_alphanumeric())
        })
}
