//! The listing document (SPEC section 3): `RawListing` mirrors the JSON as written (read by
//! `json_reader`), with every
//! field optional so that nothing is rejected for being absent before it is checked; then
//! [`RawListing::validate`] turns it into a [`Listing`] that downstream code can trust, or into
//! errors that name the JSON path (`offers[1].price`) and the fix.
//!
//! Unknown fields are ignored (forward compatibility). Money stays integer minor units.

use serde_json::Value;

use crate::error::ConfigError;
use crate::money::{Currency, Money};
use crate::protocol::Fulfilment;
use crate::time::Timestamp;
use crate::url::check_web_reference;

/// The listing document version this code reads.
pub const LISTING_VERSION: u64 = 1;

// ---------------------------------------------------------------------------------------
// Raw document, as written.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
pub struct RawListing {
    pub version: Option<u64>,
    pub id: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub currency: Option<String>,
    pub seller: Option<RawSeller>,
    pub creators: Option<Vec<RawCreator>>,
    pub trust: Option<RawTrust>,
    pub offers: Option<Vec<RawOffer>>,
    pub drop: Option<RawDrop>,
    pub checkout: Option<RawCheckout>,
    pub server_time: Option<String>,
    pub test_mode: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct RawSeller {
    pub name: Option<String>,
    pub location: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RawCreator {
    pub handle: Option<String>,
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub demo: Option<RawDemo>,
}

#[derive(Debug, Clone, Default)]
pub struct RawDemo {
    /// A URL, a list of URLs, or a list of `{"src", "type"}`.
    pub src: Option<Value>,
    pub poster: Option<String>,
    pub captions: Option<String>,
    pub duration_s: Option<f64>,
    /// `"9:16"`, `"1:1"`, `"16:9"`: the shape the video was shot in (vertical by default).
    pub aspect: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RawTrust {
    pub rating: Option<RawRating>,
    pub testimonials: Option<Vec<RawTestimonial>>,
    pub case_studies: Option<Vec<RawCaseStudy>>,
    pub badges: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct RawRating {
    pub value: Option<f64>,
    pub count: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct RawTestimonial {
    pub author: Option<String>,
    pub text: Option<String>,
    pub verified: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct RawCaseStudy {
    pub title: Option<String>,
    pub metric: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RawOffer {
    pub id: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub price: Option<RawPrice>,
    pub compare_at: Option<RawPrice>,
    pub items: Option<Vec<String>>,
    pub ships: Option<bool>,
    pub tiers: Option<Vec<RawTier>>,
    /// `["ship"]`, `["pickup"]` or both (SPEC section 3.1), as written.
    pub fulfilment: Option<Vec<String>>,
    pub variants: Option<Vec<RawOfferVariant>>,
    pub variant_bounds: Option<RawVariantBounds>,
}

/// One of a bundle's offer variants (a price point or a composition), as written.
#[derive(Debug, Clone, Default)]
pub struct RawOfferVariant {
    pub id: Option<String>,
    pub price: Option<RawPrice>,
    pub compare_at: Option<RawPrice>,
    pub items: Option<Vec<String>>,
    /// The traffic share the serving server added (0 to 1).
    pub share: Option<f64>,
}

/// The prices a seller allows the offer variants, as written.
#[derive(Debug, Clone, Default)]
pub struct RawVariantBounds {
    pub floor: Option<RawPrice>,
    pub ceiling: Option<RawPrice>,
}

#[derive(Debug, Clone, Default)]
pub struct RawTier {
    pub id: Option<String>,
    pub name: Option<String>,
    pub price: Option<RawPrice>,
    pub interval: Option<String>,
    pub perks: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct RawDrop {
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub inventory: Option<u64>,
    pub remaining: Option<u64>,
    pub popup: Option<RawPopup>,
}

/// A drop's physical pop-up, as written.
#[derive(Debug, Clone, Default)]
pub struct RawPopup {
    pub name: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RawCheckout {
    pub endpoint: Option<String>,
}

/// A price as written: minor units in the document's currency, or `{"amount", "currency"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawPrice {
    Minor(i64),
    WithCurrency { amount: i64, currency: String },
}

// ---------------------------------------------------------------------------------------
// Validated listing.
// ---------------------------------------------------------------------------------------

/// A listing that passed validation: every invariant of SPEC section 3 holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub id: String,
    pub title: String,
    pub summary: Option<String>,
    pub currency: Currency,
    pub seller: Option<Seller>,
    pub creators: Vec<Creator>,
    pub trust: Trust,
    pub offers: Vec<Offer>,
    pub drop: Option<Drop>,
    /// The partner endpoint, possibly relative to the document's URL.
    pub checkout_endpoint: Option<String>,
    /// The serving server's clock when the document was served; countdowns follow it.
    pub server_time: Option<Timestamp>,
    /// Served by a sandbox: everything is marked as test mode.
    pub test_mode: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    pub name: String,
    pub location: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Creator {
    pub handle: String,
    pub name: String,
    pub avatar: Option<String>,
    pub demo: Option<Demo>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Demo {
    pub sources: Vec<MediaSource>,
    pub poster: Option<String>,
    pub captions: Option<String>,
    pub duration_s: Option<f64>,
    /// The shape of the video, which the card's frame takes (the video is shown whole).
    pub aspect: DemoAspect,
}

/// The shape of a creator's video: creators shoot vertical (9:16, the default), square, or
/// wide (16:9). The card lays out its frame for it, before any video byte is loaded, so
/// nothing moves when the video arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DemoAspect {
    #[default]
    Tall,
    Square,
    Wide,
}

impl DemoAspect {
    /// `"W:H"` in whole numbers (`"9:16"`, `"4:5"`, `"1:1"`, `"16:9"`): narrower than 9:10 is
    /// tall, wider than 11:10 is wide, square between. `None` for anything else.
    pub fn from_ratio(text: &str) -> Option<DemoAspect> {
        let (width, height) = text.trim().split_once(':')?;
        let parse = |part: &str| {
            part.trim()
                .parse::<u32>()
                .ok()
                .filter(|value| (1..=10_000).contains(value))
        };
        let (width, height) = (u64::from(parse(width)?), u64::from(parse(height)?));
        Some(if width * 10 < height * 9 {
            DemoAspect::Tall
        } else if width * 10 > height * 11 {
            DemoAspect::Wide
        } else {
            DemoAspect::Square
        })
    }

    /// The name the card's stylesheet knows it by (`data-aspect`).
    pub fn as_str(self) -> &'static str {
        match self {
            DemoAspect::Tall => "tall",
            DemoAspect::Square => "square",
            DemoAspect::Wide => "wide",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSource {
    pub src: String,
    /// MIME type, e.g. `video/webm; codecs="vp9,opus"`.
    pub media_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trust {
    pub rating: Option<Rating>,
    pub testimonials: Vec<Testimonial>,
    pub case_studies: Vec<CaseStudy>,
    pub badges: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rating {
    /// 0 to 5.
    pub value: f64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Testimonial {
    pub author: String,
    pub text: String,
    pub verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseStudy {
    pub title: String,
    pub metric: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub id: String,
    pub name: String,
    pub kind: OfferKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OfferKind {
    /// A one-time purchase.
    Bundle(Bundle),
    /// A membership with tiers and an upgrade path.
    Retainer(Retainer),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub price: Money,
    /// The former or usual price, shown struck through; always above `price`.
    pub compare_at: Option<Money>,
    pub items: Vec<String>,
    /// Whether the bundle may be shipped (`fulfilment` includes `ship`): the pay page asks
    /// for a shipping address when the shopper chose shipping.
    pub ships: bool,
    /// How the bundle may reach the shopper; empty for what is neither shipped nor picked up
    /// (a digital good, a service).
    pub fulfilment: FulfilmentOptions,
    /// Two to four offer variants, or none when the bundle has one price and composition.
    pub variants: Vec<OfferVariant>,
    /// The prices the seller allows the variants (every variant's price lies within).
    pub variant_bounds: Option<VariantBounds>,
}

/// Which fulfilments an offer allows (SPEC section 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FulfilmentOptions {
    pub ship: bool,
    pub pickup: bool,
}

impl FulfilmentOptions {
    pub fn allows(self, fulfilment: Fulfilment) -> bool {
        match fulfilment {
            Fulfilment::Ship => self.ship,
            Fulfilment::Pickup => self.pickup,
        }
    }

    /// The allowed ones, shipping first.
    pub fn list(self) -> Vec<Fulfilment> {
        Fulfilment::ALL
            .into_iter()
            .filter(|fulfilment| self.allows(*fulfilment))
            .collect()
    }

    /// Whether the shopper has a choice to make (both are allowed).
    pub fn is_choice(self) -> bool {
        self.ship && self.pickup
    }

    /// What a checkout that names no fulfilment gets: shipping when allowed (the offer's
    /// usual way, and what every client before pick-up meant), else pick-up when that is the
    /// only way, else none.
    pub fn default_choice(self) -> Option<Fulfilment> {
        if self.ship {
            Some(Fulfilment::Ship)
        } else if self.pickup {
            Some(Fulfilment::Pickup)
        } else {
            None
        }
    }

    /// The fulfilment of a checkout that asked for `requested` (SPEC section 4): the one
    /// asked for when the offer allows it, else the default; an error, in words for the
    /// shopper, when the offer does not allow what was asked.
    pub fn choose(self, requested: Option<Fulfilment>) -> Result<Option<Fulfilment>, String> {
        match requested {
            None => Ok(self.default_choice()),
            Some(asked) if self.allows(asked) => Ok(Some(asked)),
            Some(asked) => Err(match self.list().as_slice() {
                [] => format!(
                    "\"{}\" is not possible: this offer is neither shipped nor picked up",
                    asked.as_str()
                ),
                [only] => format!(
                    "\"{}\" is not offered for this offer; it is only {}",
                    asked.as_str(),
                    match only {
                        Fulfilment::Ship => "shipped",
                        Fulfilment::Pickup => "picked up at the pop-up",
                    }
                ),
                _ => format!("\"{}\" is not offered for this offer", asked.as_str()),
            }),
        }
    }
}

/// One price point or composition of a bundle (SPEC section 3.1). What it leaves out is the
/// offer's own: see [`Bundle::variant_price`] and [`Bundle::variant_items`].
#[derive(Debug, Clone, PartialEq)]
pub struct OfferVariant {
    /// Unique within the offer.
    pub id: String,
    pub price: Option<Money>,
    pub compare_at: Option<Money>,
    pub items: Option<Vec<String>>,
    /// The share of new visitors the serving server now shows it (0 to 1), when it said.
    pub share: Option<f64>,
}

/// The prices a seller allows the offer variants; `floor <= ceiling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantBounds {
    pub floor: Money,
    pub ceiling: Money,
}

impl VariantBounds {
    pub fn contains(self, price: Money) -> bool {
        (self.floor.minor..=self.ceiling.minor).contains(&price.minor)
    }
}

impl Bundle {
    /// The offer variant with this id.
    pub fn variant(&self, id: &str) -> Option<&OfferVariant> {
        self.variants.iter().find(|variant| variant.id == id)
    }

    /// What a shopper shown `variant` pays: its own price, else the offer's.
    pub fn variant_price(&self, variant: &OfferVariant) -> Money {
        variant.price.unwrap_or(self.price)
    }

    /// The struck-through price shown with `variant`: its own, else the offer's.
    pub fn variant_compare_at(&self, variant: &OfferVariant) -> Option<Money> {
        variant.compare_at.or(self.compare_at)
    }

    /// What `variant` contains: its own items, else the offer's.
    pub fn variant_items<'b>(&'b self, variant: &'b OfferVariant) -> &'b [String] {
        variant.items.as_deref().unwrap_or(&self.items)
    }

    /// The price of the offer variant a checkout names (`offer_variant`), or of the offer
    /// itself when it names none; `None` for an id the bundle does not have, which a partner
    /// refuses (SPEC section 4). A bundle with variants still sells at its own price to a
    /// checkout that names none (a client that predates variants).
    pub fn price_for(&self, offer_variant: Option<&str>) -> Option<Money> {
        match offer_variant {
            None => Some(self.price),
            Some(id) => self.variant(id).map(|variant| self.variant_price(variant)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retainer {
    /// At least one, in the order the seller gave (the upgrade path).
    pub tiers: Vec<Tier>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub id: String,
    pub name: String,
    pub price: Money,
    pub interval: Interval,
    pub perks: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    pub fn parse(text: &str) -> Option<Interval> {
        match text {
            "day" => Some(Interval::Day),
            "week" => Some(Interval::Week),
            "month" => Some(Interval::Month),
            "year" => Some(Interval::Year),
            _ => None,
        }
    }

    /// The end of a period of this interval that starts at `start` (calendar months and
    /// years).
    pub fn period_end(self, start: crate::time::Timestamp) -> crate::time::Timestamp {
        match self {
            Interval::Day => crate::time::Timestamp(start.0 + 86_400),
            Interval::Week => crate::time::Timestamp(start.0 + 7 * 86_400),
            Interval::Month => start.add_months(1),
            Interval::Year => start.add_months(12),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Drop {
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub inventory: u64,
    /// Live stock, added by the server that serves the document.
    pub remaining: Option<u64>,
    /// Where shoppers meet the seller in person, and may pick up bundles.
    pub popup: Option<Popup>,
}

/// A drop's physical pop-up (SPEC section 3.1).
#[derive(Debug, Clone, PartialEq)]
pub struct Popup {
    pub name: String,
    pub address: String,
    /// Degrees north, -90 to 90.
    pub lat: f64,
    /// Degrees east, -180 to 180.
    pub lon: f64,
    pub opens_at: Timestamp,
    /// After `opens_at`.
    pub closes_at: Timestamp,
    /// An IANA time zone name (`Europe/Paris`), by its shape only: core carries no time zone
    /// database; the server checks it against one, the browser's `Intl.DateTimeFormat` has one.
    pub timezone: String,
}

/// Whether `name` has the shape of a name in the IANA time zone database: one to three
/// `/`-separated parts (`UTC`, `Europe/Paris`, `America/Argentina/Buenos_Aires`), each 1 to 14
/// ASCII letters, digits, `_`, `+` or `-`, starting with an upper-case letter. That takes the
/// legacy names the database keeps in `backward` (`US/Eastern`, `CET`, `EST5EDT`,
/// `Etc/GMT+5`) and catches `Paris `, `+01:00` and `Europe/ Paris`; whether the zone exists is
/// for a time zone database to say (the server's, at `PUT`; the browser's `Intl`): core
/// carries none, to keep the widget small.
pub fn is_time_zone_name(name: &str) -> bool {
    let parts = name.split('/');
    parts.clone().count() <= 3
        && parts.into_iter().all(|part| {
            part.len() <= 14
                && part.starts_with(|first: char| first.is_ascii_uppercase())
                && part
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'+'))
        })
}

impl Offer {
    /// The price a shopper pays first: the bundle's, or the retainer's first tier.
    pub fn entry_price(&self) -> Money {
        match &self.kind {
            OfferKind::Bundle(bundle) => bundle.price,
            OfferKind::Retainer(retainer) => retainer.tiers[0].price,
        }
    }
}

impl Listing {
    pub fn offer(&self, id: &str) -> Option<&Offer> {
        self.offers.iter().find(|offer| offer.id == id)
    }

    /// Rewrites every URL the listing holds (links, media, the checkout endpoint) with
    /// `resolve`, e.g. to make relative references absolute against the document's URL.
    /// A reference `resolve` cannot handle is dropped.
    pub fn resolve_references(&mut self, resolve: impl Fn(&str) -> Option<String>) {
        let resolve_option = |reference: &mut Option<String>| {
            *reference = reference.as_deref().and_then(&resolve);
        };
        if let Some(seller) = &mut self.seller {
            resolve_option(&mut seller.url);
        }
        for creator in &mut self.creators {
            resolve_option(&mut creator.avatar);
            if let Some(demo) = &mut creator.demo {
                demo.sources
                    .retain_mut(|source| match resolve(&source.src) {
                        Some(absolute) => {
                            source.src = absolute;
                            true
                        }
                        None => false,
                    });
                resolve_option(&mut demo.poster);
                resolve_option(&mut demo.captions);
            }
        }
        for study in &mut self.trust.case_studies {
            resolve_option(&mut study.url);
        }
        resolve_option(&mut self.checkout_endpoint);
    }
}

// ---------------------------------------------------------------------------------------
// Parsing and validation.
// ---------------------------------------------------------------------------------------

/// Every problem found in one document; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The first problem: what the widget's notice shows.
    pub fn first(&self) -> &ConfigError {
        &self.0[0]
    }

    pub fn within(self, outer: &str) -> ConfigErrors {
        ConfigErrors(
            self.0
                .into_iter()
                .map(|error| error.within(outer))
                .collect(),
        )
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> ConfigErrors {
        ConfigErrors(vec![error])
    }
}

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Reads a listing document from JSON text and validates it.
pub fn parse_listing(json: &str) -> Result<Listing, ConfigErrors> {
    parse_raw_listing(json)?.validate()
}

/// Reads a listing document without validating it (for sources that fill in fields).
pub fn parse_raw_listing(json: &str) -> Result<RawListing, ConfigErrors> {
    crate::json_reader::read_raw_listing(json)
}

/// Whether `id` is a listing id: `[A-Za-z0-9_-]{1,64}`.
pub fn is_valid_listing_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// Whether `handle` is a creator handle: `[A-Za-z0-9_.-]{1,64}`.
pub fn is_valid_handle(handle: &str) -> bool {
    (1..=64).contains(&handle.len())
        && handle
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'))
}

/// A listing id made from a title: `"Café Lumière"` → `"cafe-lumiere"`.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for character in title.chars() {
        // ASCII case folding plus a table of Latin accents: Unicode `to_lowercase` would
        // bring its multi-kilobyte tables into the widget.
        let folded = fold_accent(character).to_ascii_lowercase();
        if folded.is_ascii_alphanumeric() {
            slug.push(folded);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 64 {
            break;
        }
    }
    slug.trim_end_matches('-').to_string()
}

/// The common Latin accented letters folded to ASCII, for slugs.
fn fold_accent(character: char) -> char {
    match character {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'æ' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Æ' => {
            'a'
        }
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'œ' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Œ' => {
            'o'
        }
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        'ß' => 's',
        other => other,
    }
}

/// A float as JSON writes it (`4.8`, `15`, `-0.25`, `1e-7`), by integer arithmetic: neither
/// Rust's float formatting nor serde_json's shortest-form printer is in the widget (together
/// some kilobytes of wasm). The inverse of [`parse_number`]: the fewest fraction digits whose
/// decimal reads back as exactly `value` (the one division by an exact power of ten is
/// correctly rounded), which is serde_json's text for every number of up to 15 significant
/// digits; past 2^53 the nearest such decimal, rounded; below 10^-6 or past 2^64, exponent
/// form with 15 significant digits.
pub fn number_text(value: f64) -> String {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    const TWO_TO_64: f64 = 18_446_744_073_709_551_616.0;
    if !value.is_finite() {
        return "not a number".to_string();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let magnitude = value.abs();
    if magnitude >= TWO_TO_64 || (magnitude != 0.0 && magnitude < 1e-6) {
        let (mut significand, mut exponent) = (magnitude, 0_i32);
        while significand >= 10.0 {
            significand /= 10.0;
            exponent += 1;
        }
        while significand < 1.0 {
            significand *= 10.0;
            exponent -= 1;
        }
        let significand = (significand * 1e14).round() / 1e14;
        return format!("{sign}{}e{exponent}", number_text(significand));
    }
    if magnitude >= EXACT {
        return format!("{sign}{}", magnitude as u64);
    }
    let (mut digits, mut scale) = (0_u32, 1.0_f64);
    let mantissa = loop {
        let mantissa = (magnitude * scale).round();
        if mantissa / scale == magnitude || magnitude * scale * 10.0 >= EXACT {
            break mantissa as u64;
        }
        digits += 1;
        scale *= 10.0;
    };
    // The mantissa's digits with the point put `digits` from the end.
    let width = digits as usize + 1;
    let text = format!("{mantissa:0width$}");
    let (whole, fraction) = text
        .split_at_checked(text.len() - digits as usize)
        .unwrap_or((&text, ""));
    match fraction.trim_end_matches('0') {
        "" => format!("{sign}{whole}"),
        fraction => format!("{sign}{whole}.{fraction}"),
    }
}

/// A JSON number as JSON writes it: integers as they are, others by [`number_text`].
pub fn json_number_text(number: &serde_json::Number) -> String {
    match (number.as_u64(), number.as_i64()) {
        (Some(whole), _) => whole.to_string(),
        (None, Some(whole)) => whole.to_string(),
        _ => number_text(number.as_f64().unwrap_or(f64::NAN)),
    }
}

/// Parses a plain decimal written as text (`"4.8"`, `"15"`, `"-0.25"`; no exponent), for the
/// same reason: neither Rust's float parser nor serde_json's is in the widget. Up to 15
/// significant digits the digits and the power of ten are both exact doubles, so the one
/// division is correctly rounded: the result is the same as `str::parse::<f64>` (tested).
pub fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    if digits.contains('.') && fraction.is_empty() {
        return None;
    }
    if whole.trim_start_matches('0').len() + fraction.len() > 15 {
        return None;
    }
    let mut mantissa: u64 = 0;
    for byte in whole.bytes().chain(fraction.bytes()) {
        mantissa = mantissa * 10 + u64::from(byte - b'0');
    }
    let scale = (0..fraction.len()).fold(1.0_f64, |scale, _| scale * 10.0);
    let value = mantissa as f64 / scale;
    Some(if negative { -value } else { value })
}

/// Whether `character` is an invisible direction control (ALM, LRM, RLM, LRE to RLO, LRI to
/// PDI): in seller text one can reorder what is shown after it, e.g. make a price read
/// backwards on a card or a hosted page.
pub fn is_direction_control(character: char) -> bool {
    matches!(
        character,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Checks a seller's text: refused when it holds a direction control, naming the character.
pub fn check_text(text: &str) -> Result<(), String> {
    match text
        .chars()
        .find(|character| is_direction_control(*character))
    {
        Some(control) => Err(format!(
            "contains the invisible direction control U+{:04X}; remove it",
            u32::from(control)
        )),
        None => Ok(()),
    }
}

/// Collects problems while a document is walked, so the builder can show them all.
#[derive(Default)]
struct Problems(Vec<ConfigError>);

impl Problems {
    fn add(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError::invalid(at, message));
    }

    /// An optional text, trimmed; `None` when absent or blank. Every text of a document
    /// goes through here (through [`Problems::required_text`], [`Problems::texts`] or
    /// [`Problems::optional_reference`]), so [`check_text`] is applied in this one place.
    fn text(&mut self, at: &str, value: Option<&str>) -> Option<String> {
        let text = value?.trim();
        if let Err(message) = check_text(text) {
            self.add(at, message);
            return None;
        }
        (!text.is_empty()).then(|| text.to_string())
    }

    /// A list of texts, blank ones left out.
    fn texts(&mut self, at: &str, values: &Option<Vec<String>>) -> Vec<String> {
        let mut texts = Vec::new();
        for (index, value) in values.iter().flatten().enumerate() {
            texts.extend(self.text(&format!("{at}[{index}]"), Some(value)));
        }
        texts
    }

    /// A required, non-blank string.
    fn required_text(&mut self, at: &str, value: &Option<String>, example: &str) -> Option<String> {
        match value.as_deref() {
            Some(text) if text.trim().is_empty() => {
                self.add(at, format!("is empty; give it a value, e.g. {example}"));
                None
            }
            Some(text) => self.text(at, Some(text)),
            None => {
                self.add(at, format!("is missing; add it, e.g. {example}"));
                None
            }
        }
    }

    fn optional_reference(&mut self, at: &str, value: &Option<String>) -> Option<String> {
        let text = self.text(at, value.as_deref())?;
        match check_web_reference(&text) {
            Ok(()) => Some(text),
            Err(message) => {
                self.add(at, message);
                None
            }
        }
    }

    fn id(&mut self, at: &str, value: &Option<String>, what: &str) -> Option<String> {
        let id = self.required_text(at, value, "\"trio\"")?;
        if is_valid_listing_id(&id) {
            Some(id)
        } else {
            self.add(
                at,
                format!("\"{id}\" is not a valid {what}; use 1 to 64 letters, digits, '-' or '_'"),
            );
            None
        }
    }

    fn price(
        &mut self,
        at: &str,
        value: &Option<RawPrice>,
        currency: Option<Currency>,
    ) -> Option<Money> {
        let Some(price) = value else {
            self.add(
                at,
                "is missing; give the price in minor units, e.g. 2400 for 24.00",
            );
            return None;
        };
        self.price_value(at, price, currency)
    }

    fn price_value(
        &mut self,
        at: &str,
        price: &RawPrice,
        currency: Option<Currency>,
    ) -> Option<Money> {
        let (amount, currency) = match price {
            RawPrice::Minor(amount) => {
                let Some(currency) = currency else {
                    self.add(at, "is in minor units but the document has no valid \"currency\"; add \"currency\": \"EUR\" (or write {\"amount\", \"currency\"})");
                    return None;
                };
                (*amount, currency)
            }
            RawPrice::WithCurrency {
                amount,
                currency: code,
            } => {
                let Some(own) = Currency::from_code(code) else {
                    self.add(format!("{at}.currency"), unknown_currency_message(code));
                    return None;
                };
                if let Some(document_currency) = currency
                    && document_currency != own
                {
                    self.add(
                        format!("{at}.currency"),
                        format!("{own} differs from the listing's currency {document_currency}; one listing sells in one currency"),
                    );
                    return None;
                }
                (*amount, own)
            }
        };
        Money::check_price(amount, currency)
            .map_err(|message| self.add(at, message))
            .ok()
    }

    fn timestamp(&mut self, at: &str, value: &Option<String>) -> Option<Timestamp> {
        let Some(text) = value else {
            self.add(
                at,
                "is missing; give an RFC 3339 date-time such as 2026-12-01T18:00:00Z",
            );
            return None;
        };
        match Timestamp::parse_rfc3339(text.trim()) {
            Ok(stamp) => Some(stamp),
            Err(error) => {
                self.add(at, error.to_string());
                None
            }
        }
    }
}

pub fn unknown_currency_message(code: &str) -> String {
    let upper = code.trim().to_ascii_uppercase();
    if upper != code && Currency::from_code(&upper).is_some() {
        format!("\"{code}\" must be written in capitals: \"{upper}\"")
    } else {
        format!(
            "\"{code}\" is not an ISO 4217 currency code; use one such as \"EUR\", \"USD\" or \"JPY\""
        )
    }
}

impl RawListing {
    /// Checks every rule of SPEC section 3 and builds the trusted [`Listing`].
    pub fn validate(&self) -> Result<Listing, ConfigErrors> {
        let mut problems = Problems::default();
        if let Some(version) = self.version
            && version != LISTING_VERSION
        {
            problems.add("version", format!("{version} is not supported; this widget reads version {LISTING_VERSION} documents"));
        }
        let id = problems.id("id", &self.id, "listing id");
        let title = problems.required_text("title", &self.title, "\"Lavender candle trio\"");
        let summary = problems.text("summary", self.summary.as_deref());

        let document_currency = match self.currency.as_deref() {
            Some(code) => match Currency::from_code(code) {
                Some(currency) => Some(currency),
                None => {
                    problems.add("currency", unknown_currency_message(code));
                    None
                }
            },
            None => None,
        };
        // A document may omit `currency` when every price carries its own.
        let implied_currency = document_currency.or_else(|| self.first_price_currency());
        if self.currency.is_none() && implied_currency.is_none() {
            problems.add(
                "currency",
                "is missing; add the ISO 4217 code of the prices, e.g. \"EUR\"",
            );
        }

        let seller = self.seller.as_ref().and_then(|seller| {
            let name = problems.required_text("seller.name", &seller.name, "\"Hearth & Wick\"")?;
            Some(Seller {
                name,
                location: problems.text("seller.location", seller.location.as_deref()),
                url: problems.optional_reference("seller.url", &seller.url),
            })
        });

        let creators = self.validate_creators(&mut problems);
        let trust = self.validate_trust(&mut problems);
        let offers = self.validate_offers(&mut problems, implied_currency);
        let drop = self.validate_drop(&mut problems);

        let checkout_endpoint = self.checkout.as_ref().and_then(|checkout| {
            problems.optional_reference("checkout.endpoint", &checkout.endpoint)
        });
        let server_time = self
            .server_time
            .as_ref()
            .and_then(|_| problems.timestamp("server_time", &self.server_time));

        if !problems.0.is_empty() {
            return Err(ConfigErrors(problems.0));
        }
        Ok(Listing {
            id: id.unwrap_or_default(),
            title: title.unwrap_or_default(),
            summary,
            currency: implied_currency.expect("checked above"),
            seller,
            creators,
            trust,
            offers,
            drop,
            checkout_endpoint,
            server_time,
            test_mode: self.test_mode.unwrap_or(false),
        })
    }

    fn first_price_currency(&self) -> Option<Currency> {
        let offers = self.offers.as_deref().unwrap_or_default();
        let prices = offers.iter().flat_map(|offer| {
            let tier_prices = offer
                .tiers
                .iter()
                .flatten()
                .filter_map(|tier| tier.price.as_ref());
            offer.price.iter().chain(tier_prices)
        });
        prices
            .filter_map(|price| match price {
                RawPrice::WithCurrency { currency, .. } => Currency::from_code(currency),
                RawPrice::Minor(_) => None,
            })
            .next()
    }

    fn validate_creators(&self, problems: &mut Problems) -> Vec<Creator> {
        let mut creators: Vec<Creator> = Vec::new();
        for (index, raw) in self.creators.iter().flatten().enumerate() {
            let at = format!("creators[{index}]");
            let handle = problems.required_text(&format!("{at}.handle"), &raw.handle, "\"ana\"");
            let handle = handle.filter(|handle| {
                let valid = is_valid_handle(handle);
                if !valid {
                    problems.add(format!("{at}.handle"), format!("\"{handle}\" is not a valid handle; use 1 to 64 letters, digits, '.', '-' or '_'"));
                }
                valid
            });
            if let Some(handle) = &handle
                && creators.iter().any(|creator| &creator.handle == handle)
            {
                problems.add(
                    format!("{at}.handle"),
                    format!("\"{handle}\" appears twice; each creator needs its own handle"),
                );
            }
            let name = problems.text(&format!("{at}.name"), raw.name.as_deref());
            let avatar = problems.optional_reference(&format!("{at}.avatar"), &raw.avatar);
            let demo = raw
                .demo
                .as_ref()
                .and_then(|demo| validate_demo(problems, &format!("{at}.demo"), demo));
            if let Some(handle) = handle {
                creators.push(Creator {
                    name: name.unwrap_or_else(|| handle.clone()),
                    handle,
                    avatar,
                    demo,
                });
            }
        }
        creators
    }

    fn validate_trust(&self, problems: &mut Problems) -> Trust {
        let Some(raw) = &self.trust else {
            return Trust::default();
        };
        let rating = raw.rating.as_ref().and_then(|rating| {
            let value = match rating.value {
                Some(value) if (0.0..=5.0).contains(&value) => Some(value),
                Some(value) => {
                    problems.add(
                        "trust.rating.value",
                        format!("{} is outside 0 to 5", number_text(value)),
                    );
                    None
                }
                None => {
                    problems.add(
                        "trust.rating.value",
                        "is missing; give the average rating from 0 to 5, e.g. 4.8",
                    );
                    None
                }
            };
            Some(Rating {
                value: value?,
                count: rating.count.unwrap_or(0),
            })
        });
        let testimonials = raw
            .testimonials
            .iter()
            .flatten()
            .enumerate()
            .filter_map(|(index, testimonial)| {
                let at = format!("trust.testimonials[{index}]");
                let text = problems.required_text(
                    &format!("{at}.text"),
                    &testimonial.text,
                    "\"Lovely scent\"",
                )?;
                let author = problems.text(&format!("{at}.author"), testimonial.author.as_deref());
                Some(Testimonial {
                    author: author.unwrap_or_else(|| "Anonymous".to_string()),
                    text,
                    verified: testimonial.verified.unwrap_or(false),
                })
            })
            .collect();
        let case_studies = raw
            .case_studies
            .iter()
            .flatten()
            .enumerate()
            .filter_map(|(index, study)| {
                let at = format!("trust.case_studies[{index}]");
                let title = problems.required_text(
                    &format!("{at}.title"),
                    &study.title,
                    "\"Café Lumière\"",
                )?;
                Some(CaseStudy {
                    title,
                    metric: problems.text(&format!("{at}.metric"), study.metric.as_deref()),
                    url: problems.optional_reference(&format!("{at}.url"), &study.url),
                })
            })
            .collect();
        let badges = problems.texts("trust.badges", &raw.badges);
        Trust {
            rating,
            testimonials,
            case_studies,
            badges,
        }
    }

    fn validate_offers(&self, problems: &mut Problems, currency: Option<Currency>) -> Vec<Offer> {
        // Pick-up needs a pop-up; one written with mistakes is reported under `drop.popup`.
        let has_popup = self.drop.as_ref().is_some_and(|drop| drop.popup.is_some());
        let raw_offers = match &self.offers {
            Some(offers) if !offers.is_empty() => offers,
            Some(_) => {
                problems.add(
                    "offers",
                    "is empty; add at least one bundle or retainer offer",
                );
                return Vec::new();
            }
            None => {
                problems.add("offers", "is missing; add at least one offer, e.g. [{\"id\": \"trio\", \"kind\": \"bundle\", \"name\": \"Candle trio\", \"price\": 2400}]");
                return Vec::new();
            }
        };
        let mut offers: Vec<Offer> = Vec::new();
        for (index, raw) in raw_offers.iter().enumerate() {
            let at = format!("offers[{index}]");
            let id = problems.id(&format!("{at}.id"), &raw.id, "offer id");
            if let Some(id) = &id
                && offers.iter().any(|offer| &offer.id == id)
            {
                problems.add(
                    format!("{at}.id"),
                    format!("\"{id}\" appears twice; each offer needs its own id"),
                );
            }
            let name = problems.required_text(&format!("{at}.name"), &raw.name, "\"Candle trio\"");
            let kind = match raw.kind.as_deref() {
                Some("bundle") => {
                    validate_bundle(problems, &at, raw, currency, has_popup).map(OfferKind::Bundle)
                }
                Some("retainer") => {
                    for (key, given) in [
                        ("fulfilment", raw.fulfilment.is_some()),
                        ("variants", raw.variants.is_some()),
                        ("variant_bounds", raw.variant_bounds.is_some()),
                    ] {
                        if given {
                            problems.add(
                                format!("{at}.{key}"),
                                "applies to bundle offers only; remove it from this retainer",
                            );
                        }
                    }
                    validate_retainer(problems, &at, raw, currency).map(OfferKind::Retainer)
                }
                Some(other) => {
                    problems.add(format!("{at}.kind"), format!("\"{other}\" is not an offer kind; use \"bundle\" (one-time) or \"retainer\" (membership)"));
                    None
                }
                None => {
                    problems.add(
                        format!("{at}.kind"),
                        "is missing; use \"bundle\" (one-time) or \"retainer\" (membership)",
                    );
                    None
                }
            };
            if let (Some(id), Some(name), Some(kind)) = (id, name, kind) {
                offers.push(Offer { id, name, kind });
            }
        }
        offers
    }

    fn validate_drop(&self, problems: &mut Problems) -> Option<Drop> {
        let raw = self.drop.as_ref()?;
        let starts_at = problems.timestamp("drop.starts_at", &raw.starts_at);
        let ends_at = problems.timestamp("drop.ends_at", &raw.ends_at);
        let Some(inventory) = raw.inventory else {
            problems.add(
                "drop.inventory",
                "is missing; give the number of units in the drop, e.g. 50",
            );
            return None;
        };
        if let Some(remaining) = raw.remaining
            && remaining > inventory
        {
            problems.add(
                "drop.remaining",
                format!("{remaining} is more than the inventory of {inventory}"),
            );
        }
        let popup = raw
            .popup
            .as_ref()
            .and_then(|popup| validate_popup(problems, popup));
        let (starts_at, ends_at) = (starts_at?, ends_at?);
        if ends_at <= starts_at {
            problems.add(
                "drop.ends_at",
                format!(
                    "{ends_at} is not after starts_at {starts_at}; a drop ends after it starts"
                ),
            );
            return None;
        }
        Some(Drop {
            starts_at,
            ends_at,
            inventory,
            remaining: raw.remaining,
            popup,
        })
    }
}

fn validate_popup(problems: &mut Problems, raw: &RawPopup) -> Option<Popup> {
    const AT: &str = "drop.popup";
    let name = problems.required_text(
        &format!("{AT}.name"),
        &raw.name,
        "\"Croix-Rousse night market\"",
    );
    let address = problems.required_text(
        &format!("{AT}.address"),
        &raw.address,
        "\"Place de la Croix-Rousse, 69004 Lyon\"",
    );
    // The limit comes as text too: formatting an `f64` would bring Rust's float formatting
    // (some 13 KB gzip) into the widget.
    let mut coordinate =
        |key: &str, value: Option<f64>, limit: f64, limit_text: &str, example: &str| {
            let at = format!("{AT}.{key}");
            match value {
                Some(degrees) if degrees.is_finite() && degrees.abs() <= limit => Some(degrees),
                Some(degrees) => {
                    problems.add(
                        at,
                        format!(
                            "{} is outside -{limit_text} to {limit_text} degrees",
                            number_text(degrees)
                        ),
                    );
                    None
                }
                None => {
                    problems.add(
                        at,
                        format!("is missing; give it in decimal degrees, e.g. {example}"),
                    );
                    None
                }
            }
        };
    let lat = coordinate("lat", raw.lat, 90.0, "90", "45.7745");
    let lon = coordinate("lon", raw.lon, 180.0, "180", "4.8320");
    let opens_at = problems.timestamp(&format!("{AT}.opens_at"), &raw.opens_at);
    let closes_at = problems.timestamp(&format!("{AT}.closes_at"), &raw.closes_at);
    let timezone = match raw.timezone.as_deref().map(str::trim) {
        Some(name) if is_time_zone_name(name) => Some(name.to_string()),
        Some(name) => {
            problems.add(
                format!("{AT}.timezone"),
                format!("\"{name}\" is not shaped like an IANA time zone name; write it like \"Europe/Paris\" or \"America/New_York\""),
            );
            None
        }
        None => {
            problems.add(
                format!("{AT}.timezone"),
                "is missing; give the pop-up's IANA time zone, e.g. \"Europe/Paris\"",
            );
            None
        }
    };
    let (opens_at, closes_at) = (opens_at?, closes_at?);
    if closes_at <= opens_at {
        problems.add(
            format!("{AT}.closes_at"),
            format!("{closes_at} is not after opens_at {opens_at}; a pop-up closes after it opens"),
        );
        return None;
    }
    Some(Popup {
        name: name?,
        address: address?,
        lat: lat?,
        lon: lon?,
        opens_at,
        closes_at,
        timezone: timezone?,
    })
}

fn validate_bundle(
    problems: &mut Problems,
    at: &str,
    raw: &RawOffer,
    currency: Option<Currency>,
    has_popup: bool,
) -> Option<Bundle> {
    let price = problems.price(&format!("{at}.price"), &raw.price, currency);
    let compare_at = raw.compare_at.as_ref().and_then(|compare_at| {
        problems.price_value(&format!("{at}.compare_at"), compare_at, currency)
    });
    if let (Some(price), Some(compare_at)) = (price, compare_at)
        && compare_at.minor <= price.minor
    {
        problems.add(
            format!("{at}.compare_at"),
            format!(
                "{} is not above the price {}; compare_at is the higher, usual price",
                compare_at.minor, price.minor
            ),
        );
    }
    let items = problems.texts(&format!("{at}.items"), &raw.items);
    let fulfilment = validate_fulfilment(problems, at, raw, has_popup);
    let price = price?;
    let variant_bounds = raw
        .variant_bounds
        .as_ref()
        .and_then(|bounds| validate_variant_bounds(problems, at, bounds, currency));
    let variants = validate_variants(
        problems,
        at,
        raw,
        currency,
        (price, compare_at),
        variant_bounds,
    );
    Some(Bundle {
        price,
        compare_at,
        items,
        ships: fulfilment.ship,
        fulfilment,
        variants: variants?,
        variant_bounds,
    })
}

/// `fulfilment` as written, else what `ships` implies.
fn validate_fulfilment(
    problems: &mut Problems,
    at: &str,
    raw: &RawOffer,
    has_popup: bool,
) -> FulfilmentOptions {
    let Some(written) = &raw.fulfilment else {
        return FulfilmentOptions {
            ship: raw.ships.unwrap_or(false),
            pickup: false,
        };
    };
    let mut options = FulfilmentOptions::default();
    for (index, word) in written.iter().enumerate() {
        match Fulfilment::parse(word.trim()) {
            Some(Fulfilment::Ship) => options.ship = true,
            Some(Fulfilment::Pickup) => options.pickup = true,
            None => problems.add(
                format!("{at}.fulfilment[{index}]"),
                format!("\"{word}\" is not a fulfilment; use \"ship\" or \"pickup\""),
            ),
        }
    }
    if let Some(ships) = raw.ships
        && ships != options.ship
    {
        let (says, lists) = if ships {
            ("true", "does not list")
        } else {
            ("false", "lists")
        };
        problems.add(
            format!("{at}.ships"),
            format!("is {says} but fulfilment {lists} \"ship\"; remove \"ships\" (fulfilment says it all) or make them agree"),
        );
    }
    if options.pickup && !has_popup {
        problems.add(
            format!("{at}.fulfilment"),
            "lists \"pickup\" but the listing has no pop-up to pick up at; add drop.popup or remove \"pickup\"",
        );
    }
    options
}

fn validate_variant_bounds(
    problems: &mut Problems,
    at: &str,
    raw: &RawVariantBounds,
    currency: Option<Currency>,
) -> Option<VariantBounds> {
    let at = format!("{at}.variant_bounds");
    let floor = problems.price(&format!("{at}.floor"), &raw.floor, currency);
    let ceiling = problems.price(&format!("{at}.ceiling"), &raw.ceiling, currency);
    let (floor, ceiling) = (floor?, ceiling?);
    if floor.minor > ceiling.minor {
        problems.add(
            format!("{at}.ceiling"),
            format!(
                "{} is below the floor {}; the ceiling is the highest price a variant may have",
                ceiling.minor, floor.minor
            ),
        );
        return None;
    }
    Some(VariantBounds { floor, ceiling })
}

/// The offer variants; `None` when one of them is wrong (the offer is then refused whole:
/// a partner must never charge a price point it could not read).
fn validate_variants(
    problems: &mut Problems,
    at: &str,
    raw: &RawOffer,
    currency: Option<Currency>,
    (own_price, own_compare_at): (Money, Option<Money>),
    bounds: Option<VariantBounds>,
) -> Option<Vec<OfferVariant>> {
    let Some(written) = &raw.variants else {
        return Some(Vec::new());
    };
    let list_at = format!("{at}.variants");
    if !(2..=4).contains(&written.len()) {
        problems.add(
            &list_at,
            format!(
                "has {} variants; give 2 to 4 (or none for a single price)",
                written.len()
            ),
        );
        return None;
    }
    let mut variants: Vec<OfferVariant> = Vec::new();
    let mut all_valid = true;
    for (index, variant) in written.iter().enumerate() {
        let at = format!("{list_at}[{index}]");
        let errors_before = problems.0.len();
        let id = problems.id(&format!("{at}.id"), &variant.id, "offer variant id");
        if let Some(id) = &id
            && variants.iter().any(|known| &known.id == id)
        {
            problems.add(
                format!("{at}.id"),
                format!("\"{id}\" appears twice; each variant of an offer needs its own id"),
            );
        }
        let price = variant
            .price
            .as_ref()
            .and_then(|price| problems.price_value(&format!("{at}.price"), price, currency));
        let compare_at = variant.compare_at.as_ref().and_then(|compare_at| {
            problems.price_value(&format!("{at}.compare_at"), compare_at, currency)
        });
        let items = variant
            .items
            .as_ref()
            .map(|_| problems.texts(&format!("{at}.items"), &variant.items));
        let share = match variant.share {
            Some(share) if (0.0..=1.0).contains(&share) => Some(share),
            Some(share) => {
                problems.add(
                    format!("{at}.share"),
                    format!("{} is outside 0 to 1", number_text(share)),
                );
                None
            }
            None => None,
        };
        let effective_price = price.unwrap_or(own_price);
        if let Some(bounds) = bounds
            && !bounds.contains(effective_price)
        {
            let where_from = if price.is_some() {
                ""
            } else {
                " (the offer's own price)"
            };
            out_of_bounds(problems, &at, effective_price, where_from, bounds);
        }
        match (compare_at, own_compare_at) {
            (Some(own), _) if own.minor <= effective_price.minor => problems.add(
                format!("{at}.compare_at"),
                format!(
                    "{} is not above the variant's price {}; compare_at is the higher, usual price",
                    own.minor, effective_price.minor
                ),
            ),
            (None, Some(offers)) if offers.minor <= effective_price.minor => problems.add(
                format!("{at}.price"),
                format!(
                    "{} is not below the offer's compare_at {}; lower it or give the variant its own compare_at",
                    effective_price.minor, offers.minor
                ),
            ),
            _ => {}
        }
        if problems.0.len() > errors_before {
            all_valid = false;
            continue;
        }
        if let Some(id) = id {
            variants.push(OfferVariant {
                id,
                price,
                compare_at,
                items,
                share,
            });
        }
    }
    // A checkout that names no variant (a client from before variants) pays the offer's own
    // price: within the seller's bounds too, or leaving `offer_variant` out would buy below
    // the floor. (A variant without its own price already reported it.)
    if let Some(bounds) = bounds
        && !bounds.contains(own_price)
        && written.iter().all(|variant| variant.price.is_some())
    {
        out_of_bounds(
            problems,
            at,
            own_price,
            " (what a checkout naming no offer variant pays)",
            bounds,
        );
        return None;
    }
    all_valid.then_some(variants)
}

/// `{at}.price` lies outside the seller's `variant_bounds` (one message for every such price,
/// so the widget carries its format once).
fn out_of_bounds(
    problems: &mut Problems,
    at: &str,
    price: Money,
    where_from: &str,
    bounds: VariantBounds,
) {
    problems.add(
        format!("{at}.price"),
        format!(
            "{}{where_from} is outside variant_bounds {} to {}; set a price within them",
            price.minor, bounds.floor.minor, bounds.ceiling.minor
        ),
    );
}

fn validate_retainer(
    problems: &mut Problems,
    at: &str,
    raw: &RawOffer,
    currency: Option<Currency>,
) -> Option<Retainer> {
    let raw_tiers = match &raw.tiers {
        Some(tiers) if !tiers.is_empty() => tiers,
        _ => {
            problems.add(
                format!("{at}.tiers"),
                "a retainer needs at least one tier, e.g. [{\"id\": \"monthly\", \"name\": \"Monthly\", \"price\": 1500, \"interval\": \"month\"}]",
            );
            return None;
        }
    };
    let mut tiers: Vec<Tier> = Vec::new();
    let mut all_valid = true;
    for (index, tier) in raw_tiers.iter().enumerate() {
        let at = format!("{at}.tiers[{index}]");
        let id = problems.id(&format!("{at}.id"), &tier.id, "tier id");
        if let Some(id) = &id
            && tiers.iter().any(|known| &known.id == id)
        {
            problems.add(
                format!("{at}.id"),
                format!("\"{id}\" appears twice; each tier needs its own id"),
            );
        }
        let name = problems.required_text(&format!("{at}.name"), &tier.name, "\"Monthly\"");
        let price = problems.price(&format!("{at}.price"), &tier.price, currency);
        let interval = match tier.interval.as_deref() {
            Some(text) => Interval::parse(text).or_else(|| {
                problems.add(format!("{at}.interval"), format!("\"{text}\" is not an interval; use \"day\", \"week\", \"month\" or \"year\""));
                None
            }),
            None => {
                problems.add(format!("{at}.interval"), "is missing; use \"day\", \"week\", \"month\" or \"year\"");
                None
            }
        };
        let perks = problems.texts(&format!("{at}.perks"), &tier.perks);
        match (id, name, price, interval) {
            (Some(id), Some(name), Some(price), Some(interval)) => tiers.push(Tier {
                id,
                name,
                price,
                interval,
                perks,
            }),
            _ => all_valid = false,
        }
    }
    all_valid.then_some(Retainer { tiers })
}

fn validate_demo(problems: &mut Problems, at: &str, raw: &RawDemo) -> Option<Demo> {
    let src_at = format!("{at}.src");
    let mut sources = Vec::new();
    let mut push_source = |problems: &mut Problems,
                           at: &str,
                           src: &str,
                           media_type: Option<&str>| {
        match check_text(src).and_then(|()| check_web_reference(src.trim())) {
            Ok(()) => sources.push(MediaSource {
                src: src.trim().to_string(),
                media_type: media_type.map(String::from),
            }),
            Err(message) => problems.add(at, message),
        }
    };
    match &raw.src {
        Some(Value::String(src)) => push_source(problems, &src_at, src, None),
        Some(Value::Array(list)) if !list.is_empty() => {
            for (index, entry) in list.iter().enumerate() {
                let entry_at = format!("{src_at}[{index}]");
                match entry {
                    Value::String(src) => push_source(problems, &entry_at, src, None),
                    Value::Object(object) => match object.get("src") {
                        Some(Value::String(src)) => {
                            let media_type = object.get("type").and_then(Value::as_str);
                            let media_type = problems.text(&format!("{entry_at}.type"), media_type);
                            push_source(
                                problems,
                                &format!("{entry_at}.src"),
                                src,
                                media_type.as_deref(),
                            )
                        }
                        _ => problems
                            .add(format!("{entry_at}.src"), "is missing; give the video URL"),
                    },
                    _ => problems.add(entry_at, "must be a URL or {\"src\", \"type\"}"),
                }
            }
        }
        Some(_) => problems.add(&src_at, "must be a video URL or a list of sources"),
        None => problems.add(
            &src_at,
            "is missing; give the URL of a WebM (VP9/Opus) video",
        ),
    }
    if let Some(duration) = raw.duration_s
        && !(duration > 0.0 && duration.is_finite())
    {
        problems.add(
            format!("{at}.duration_s"),
            format!(
                "{} is not a positive number of seconds",
                number_text(duration)
            ),
        );
    }
    let poster = problems.optional_reference(&format!("{at}.poster"), &raw.poster);
    let captions = problems.optional_reference(&format!("{at}.captions"), &raw.captions);
    let aspect = match raw.aspect.as_deref() {
        None => DemoAspect::default(),
        Some(text) => DemoAspect::from_ratio(text).unwrap_or_else(|| {
            problems.add(
                format!("{at}.aspect"),
                format!("\"{text}\" is not a ratio; write it like \"9:16\" (vertical), \"1:1\" or \"16:9\""),
            );
            DemoAspect::default()
        }),
    };
    (!sources.is_empty()).then_some(Demo {
        sources,
        poster,
        captions,
        duration_s: raw.duration_s,
        aspect,
    })
}

#[cfg(test)]
mod number_tests {
    use super::{json_number_text, number_text, parse_number};
    use proptest::prelude::*;

    #[test]
    fn plain_decimals_parse_and_others_do_not() {
        for (text, expected) in [
            ("4.8", Some(4.8)),
            (" 15 ", Some(15.0)),
            ("-0.25", Some(-0.25)),
            ("007.50", Some(7.5)),
            ("4.", None),
            (".5", None),
            ("4,8", None),
            ("1e3", None),
            ("", None),
            ("-", None),
            ("four", None),
            ("1234567890123456", None),
        ] {
            assert_eq!(parse_number(text), expected, "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn the_same_as_rusts_parser(whole in 0u64..1_000_000_000, fraction in "[0-9]{0,6}", negative: bool) {
            let sign = if negative { "-" } else { "" };
            let text = if fraction.is_empty() {
                format!("{sign}{whole}")
            } else {
                format!("{sign}{whole}.{fraction}")
            };
            prop_assert_eq!(parse_number(&text), Some(text.parse::<f64>().unwrap()));
        }

        /// What serde_json wrote before (its shortest form, `.0` dropped), for every double
        /// that reads back: numbers as written in documents and messages.
        #[test]
        fn number_text_is_what_serde_json_writes(whole in 0u64..1_000_000_000, fraction in "[0-9]{0,6}", negative: bool) {
            let sign = if negative { "-" } else { "" };
            let value: f64 = format!("{sign}{whole}.{fraction}0").parse().unwrap();
            let serde = serde_json::Number::from_f64(value).unwrap().to_string();
            prop_assert_eq!(number_text(value), serde.strip_suffix(".0").unwrap_or(&serde));
        }

        /// Any finite double is written so that it reads back within 16 significant digits
        /// (exactly, for those that have a decimal of up to 15).
        #[test]
        fn number_text_reads_back_closely(value in proptest::num::f64::NORMAL) {
            let read = number_text(value).parse::<f64>().unwrap();
            prop_assert!((read - value).abs() <= value.abs() * 1e-14, "{} read as {}", value, read);
        }
    }

    #[test]
    fn number_text_writes_json_numbers() {
        for (value, expected) in [
            (0.0, "0"),
            (7.0, "7"),
            (-180.5, "-180.5"),
            (4.8, "4.8"),
            (0.1 + 0.2, "0.3000000000000001"),
            (0.000_001_5, "0.0000015"),
            (1e-7, "1e-7"),
            (9_007_199_254_740_993.0, "9007199254740992"),
            (1e300, "1e300"),
            (-2.5e-300, "-2.5e-300"),
            (f64::NAN, "not a number"),
        ] {
            assert_eq!(number_text(value), expected, "{value}");
        }
        for (json, expected) in [
            ("12", "12"),
            ("-3", "-3"),
            ("24.5", "24.5"),
            ("18446744073709551615", "18446744073709551615"),
        ] {
            let number: serde_json::Number = serde_json::from_str(json).unwrap();
            assert_eq!(json_number_text(&number), expected);
        }
    }
}
