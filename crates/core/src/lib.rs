//! Mighty's core: everything that can be decided without a browser or a socket.
//!
//! The listing model and its validation (`listing`), where a host's listing comes from
//! (`host`, `sources`), when a failed fetch of it is tried again (`loading`), money (`money`), instants (`time`), URL rules (`url`), the checkout
//! protocol types (`protocol`) and the widget's checkout decisions (`checkout`), the card's
//! decisions around a purchase (`card`: the offer a redirect return resumes, what comes next), drop phases
//! (`drops`), creator attribution and A/B assignment (`attribution`), signatures (`signing`),
//! upgrade proration (`proration`), pauses, lower tiers and saves (`retention`), the KPI engine
//! (`kpi`), revenue by creator or source and the 60 % warning (`concentration`), the
//! dashboard charts' geometry and colours (`chart`), the bundle variants' traffic allocation (`bandit`) and which one a visitor is
//! shown (`offer_variants`), the pop-up's map and calendar links (`popup_links`). No `web-sys`, no I/O: the
//! widget and the server both call into this crate, so a rule lives once and is tested
//! natively.

pub mod attribution;
pub mod bandit;
pub mod beacon_queue;
pub mod billing;
pub mod card;
pub mod chart;
pub mod checkout;
pub mod concentration;
pub mod drops;
pub mod error;
pub mod host;
pub mod i18n;
pub mod icalendar;
pub mod json_reader;
pub mod kpi;
pub mod listing;
pub mod loading;
pub mod money;
pub mod offer_variants;
pub mod pickup;
pub mod popup_links;
pub mod proration;
pub mod protocol;
pub mod retention;
pub mod signing;
pub mod sources;
pub mod stripe;
pub mod time;
pub mod trust;
pub mod url;

pub use error::{ConfigError, ConfigErrorCode};
pub use host::{CheckoutMode, HostConfig, HostSettings, ListingSource, MountListing, Theme};
pub use listing::{ConfigErrors, Listing, Offer, OfferKind, parse_listing};
pub use money::{Currency, Money};
pub use time::Timestamp;

/// The widget's version, as `window.Mighty.version` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The compact card's height in CSS pixels. The widget never grows past it on its own, the
/// loader reserves it, and the embed guide's CSS line (`[data-mighty]{min-height:420px}`)
/// reserves it before any script runs.
pub const CARD_HEIGHT_PX: u32 = 420;
