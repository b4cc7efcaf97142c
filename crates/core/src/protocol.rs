//! The checkout protocol of SPEC section 4, as types both the widget and the server use:
//! what the widget posts, what the partner answers, and the error body of every endpoint.
//! Field names are public API; do not rename them.

use serde::{Deserialize, Serialize};

/// UTM parameters of the page the shopper arrived on; all five keys are always written
/// (`null` when absent), as SPEC section 5 shows the object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utm {
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub medium: Option<String>,
    #[serde(default)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub term: Option<String>,
}

/// Who brought the shopper: sent with every checkout (SPEC section 5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub creator: Option<String>,
    /// The signed creator-link token, passed on untrusted; only the server verifies it.
    pub token: Option<String>,
    /// The shown creator's handle.
    pub variant: Option<String>,
    pub page: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub utm: Utm,
}

/// `POST {checkout}` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutRequest {
    pub listing_id: String,
    pub offer_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_id: Option<String>,
    #[serde(default = "one")]
    pub quantity: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub attribution: Attribution,
    pub return_url: String,
    /// The bundle's offer variant the shopper was shown (SPEC section 3.1); the partner
    /// charges that variant's stored price, never one from the browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_variant: Option<String>,
    /// What the shopper chose, for offers that allow both shipping and pick-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilment: Option<Fulfilment>,
}

/// How a bundle reaches the shopper (SPEC sections 3.1 and 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fulfilment {
    /// Sent to a shipping address.
    Ship,
    /// Collected at the drop's pop-up with a pick-up code.
    Pickup,
}

impl Fulfilment {
    /// Both, in the order a listing lists them by default.
    pub const ALL: [Fulfilment; 2] = [Fulfilment::Ship, Fulfilment::Pickup];

    /// `"ship"` or `"pickup"`, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Fulfilment::Ship => "ship",
            Fulfilment::Pickup => "pickup",
        }
    }

    /// The JSON word back; anything else is `None`.
    pub fn parse(text: &str) -> Option<Fulfilment> {
        Fulfilment::ALL
            .into_iter()
            .find(|fulfilment| fulfilment.as_str() == text)
    }
}

fn one() -> u32 {
    1
}

/// An explicit `null` reads as the default, like a missing key (clients that write `null`
/// for an absent object are not refused).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl CheckoutRequest {
    /// The request body as JSON text, the same as `serde_json::to_string(self)` gives.
    ///
    /// Written out by hand for the widget: serde's serializer for these types costs about
    /// 2 KB gzip of wasm, which the widget's size budget cannot spare. The test below holds
    /// it to serde's output.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push('{');
        field(&mut out, "listing_id", Some(&self.listing_id), false);
        field(&mut out, "offer_id", Some(&self.offer_id), true);
        if self.tier_id.is_some() {
            field(&mut out, "tier_id", self.tier_id.as_deref(), true);
        }
        out.push_str(&format!(",\"quantity\":{}", self.quantity));
        out.push_str(",\"attribution\":{");
        let attribution = &self.attribution;
        field(&mut out, "creator", attribution.creator.as_deref(), false);
        field(&mut out, "token", attribution.token.as_deref(), true);
        field(&mut out, "variant", attribution.variant.as_deref(), true);
        field(&mut out, "page", attribution.page.as_deref(), true);
        let utm = &attribution.utm;
        out.push_str(",\"utm\":{");
        field(&mut out, "source", utm.source.as_deref(), false);
        field(&mut out, "medium", utm.medium.as_deref(), true);
        field(&mut out, "campaign", utm.campaign.as_deref(), true);
        field(&mut out, "content", utm.content.as_deref(), true);
        field(&mut out, "term", utm.term.as_deref(), true);
        out.push_str("}}");
        field(&mut out, "return_url", Some(&self.return_url), true);
        if self.offer_variant.is_some() {
            field(
                &mut out,
                "offer_variant",
                self.offer_variant.as_deref(),
                true,
            );
        }
        if let Some(fulfilment) = self.fulfilment {
            field(&mut out, "fulfilment", Some(fulfilment.as_str()), true);
        }
        out.push('}');
        out
    }
}

impl UpgradeRequest {
    /// The body as JSON text, the same as serde writes it (written by hand for the widget,
    /// like [`CheckoutRequest::to_json`]).
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        field(&mut out, "tier_id", Some(&self.tier_id), false);
        out.push('}');
        out
    }
}

/// One measurement event of SPEC section 6, as the widget beacons it to `data-mighty-events`
/// and the collector (`POST /v1/events`) stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasurementEvent {
    /// Unique per event: the collector de-duplicates by it (a retried batch counts once).
    pub id: String,
    /// The DOM event's name without `mighty:` (`view`, `demo-play`, `checkout-complete`, ...).
    #[serde(rename = "type")]
    pub event_type: String,
    pub listing_id: String,
    /// The attributed creator (a creator link's handle), verified or not.
    pub creator: Option<String>,
    /// The shown creator's handle.
    pub variant: Option<String>,
    /// The bundle offer variant shown (SPEC section 3.1), else `null` (always written, as
    /// SPEC section 6 lists the field; a missing key reads as `null`).
    #[serde(default)]
    pub offer_variant: Option<String>,
    pub visitor_id: String,
    /// RFC 3339.
    pub at: String,
}

impl MeasurementEvent {
    /// The event as JSON text, the same as serde writes it (by hand for the widget, like
    /// [`CheckoutRequest::to_json`]).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(224);
        out.push('{');
        field(&mut out, "id", Some(&self.id), false);
        field(&mut out, "type", Some(&self.event_type), true);
        field(&mut out, "listing_id", Some(&self.listing_id), true);
        field(&mut out, "creator", self.creator.as_deref(), true);
        field(&mut out, "variant", self.variant.as_deref(), true);
        field(
            &mut out,
            "offer_variant",
            self.offer_variant.as_deref(),
            true,
        );
        field(&mut out, "visitor_id", Some(&self.visitor_id), true);
        field(&mut out, "at", Some(&self.at), true);
        out.push('}');
        out
    }
}

/// A batch body for `POST /v1/events`: `{"events":[...]}` from events already written as JSON.
pub fn event_batch_json<'a>(events: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("{\"events\":[");
    for (index, event) in events.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(event);
    }
    out.push_str("]}");
    out
}

/// `"key":"value"` (or `null`), after a comma when `comma`.
fn field(out: &mut String, key: &str, value: Option<&str>, comma: bool) {
    if comma {
        out.push(',');
    }
    json_string(out, key);
    out.push(':');
    match value {
        Some(value) => json_string(out, value),
        None => out.push_str("null"),
    }
}

/// A JSON string literal (RFC 8259 section 7): quote, backslash and control characters
/// escaped, everything else as is (JSON text is UTF-8).
pub fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if (control as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", control as u32));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Open,
    Paid,
    /// Declined.
    Failed,
    Expired,
}

/// `201` answer to a checkout request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutSessionCreated {
    pub session_id: String,
    pub status: SessionStatus,
    pub redirect_url: String,
    pub expires_at: String,
    /// Minor units.
    pub amount: i64,
    pub currency: String,
    /// Proof that the holder created this session (SPEC section 4): sent back as the
    /// [`SESSION_SECRET_HEADER`] on `GET {checkout}/{session_id}`, the only way to be given
    /// the session's `customer_token`. Kept in memory (and `sessionStorage` across a
    /// redirect-mode return), never in a URL. A partner without it leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_secret: Option<String>,
}

/// The request header that carries a session's `session_secret`.
pub const SESSION_SECRET_HEADER: &str = "Mighty-Session-Secret";

/// `GET {checkout}/{session_id}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutSessionState {
    pub session_id: String,
    pub status: SessionStatus,
    pub amount: i64,
    pub currency: String,
    pub server_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_token: Option<String>,
    /// How the order reaches the shopper, for bundles that ship or are picked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilment: Option<Fulfilment>,
    /// A paid pick-up order's code, shown at the pop-up stand; like `customer_token`, only to
    /// the holder of the session secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_code: Option<String>,
}

/// `POST {base}/v1/subscriptions/{id}/upgrade` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeRequest {
    pub tier_id: String,
}

/// The upgrade's answer; `amount_due` in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeResponse {
    pub subscription_id: String,
    pub tier_id: String,
    pub amount_due: i64,
}

/// `{"error": {"code", "message", "field"?}}`, the error body of every endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The URL parameters the widget reads and writes (SPEC sections 4 and 5).
pub mod params {
    pub const LISTING: &str = "mighty_listing";
    pub const SESSION: &str = "mighty_session";
    pub const CREATOR: &str = "mighty_creator";
    pub const TOKEN: &str = "mighty_token";
    /// Every parameter the widget owns starts with this.
    pub const PREFIX: &str = "mighty_";
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn request(text: String, tier: Option<String>, utm: Utm) -> CheckoutRequest {
        let offer_variant = tier.as_ref().map(|_| text.clone());
        CheckoutRequest {
            listing_id: "candle-trio".into(),
            offer_id: text.clone(),
            tier_id: tier,
            quantity: 1,
            attribution: Attribution {
                creator: Some(text.clone()),
                token: None,
                variant: Some("ana".into()),
                page: Some(format!("https://directory.example/?q={text}")),
                utm,
            },
            return_url: text.clone(),
            offer_variant,
            fulfilment: None,
        }
    }

    #[test]
    fn null_attribution_and_utm_read_as_absent() {
        let body = r#"{"listing_id":"l","offer_id":"o","return_url":"https://d.example/","attribution":{"creator":null,"token":null,"variant":null,"page":null,"utm":null}}"#;
        let request: CheckoutRequest = serde_json::from_str(body).unwrap();
        assert_eq!(request.attribution.utm, Utm::default());
        let body = r#"{"listing_id":"l","offer_id":"o","return_url":"https://d.example/","attribution":null}"#;
        let request: CheckoutRequest = serde_json::from_str(body).unwrap();
        assert_eq!(request.attribution, Attribution::default());
    }

    #[test]
    fn the_hand_written_body_is_what_serde_writes() {
        let utm = Utm {
            source: Some("ig".into()),
            campaign: Some("spring \"drop\"".into()),
            ..Utm::default()
        };
        for tier_id in ["plus", "a\"b\\\u{1}é"] {
            let upgrade = UpgradeRequest {
                tier_id: tier_id.into(),
            };
            assert_eq!(upgrade.to_json(), serde_json::to_string(&upgrade).unwrap());
        }
        let mut pickup = request("trio".into(), Some("x".into()), Utm::default());
        pickup.fulfilment = Some(Fulfilment::Pickup);
        for case in [
            request("trio".into(), None, Utm::default()),
            request("a\"b\\c\n\u{1}é😀".into(), Some("monthly".into()), utm),
            pickup,
        ] {
            assert_eq!(case.to_json(), serde_json::to_string(&case).unwrap());
        }
    }

    fn event(text: String, creator: Option<String>) -> MeasurementEvent {
        let offer_variant = creator.as_ref().map(|_| "b".to_string());
        MeasurementEvent {
            id: text.clone(),
            event_type: "view".into(),
            listing_id: text.clone(),
            creator,
            variant: Some("ana".into()),
            offer_variant,
            visitor_id: text,
            at: "2026-11-26T23:40:00.123Z".into(),
        }
    }

    #[test]
    fn fulfilment_and_offer_variant_are_optional_and_lowercase() {
        let body = r#"{"listing_id":"l","offer_id":"o","return_url":"https://d.example/"}"#;
        let request: CheckoutRequest = serde_json::from_str(body).unwrap();
        assert_eq!((request.offer_variant, request.fulfilment), (None, None));
        let body = r#"{"listing_id":"l","offer_id":"o","return_url":"r","offer_variant":"b","fulfilment":"pickup"}"#;
        let request: CheckoutRequest = serde_json::from_str(body).unwrap();
        assert_eq!(request.offer_variant.as_deref(), Some("b"));
        assert_eq!(request.fulfilment, Some(Fulfilment::Pickup));
        for refused in [r#""Pickup""#, r#""collect""#, "1"] {
            let body = format!(
                r#"{{"listing_id":"l","offer_id":"o","return_url":"r","fulfilment":{refused}}}"#
            );
            assert!(
                serde_json::from_str::<CheckoutRequest>(&body).is_err(),
                "{refused}"
            );
        }
        for fulfilment in Fulfilment::ALL {
            assert_eq!(Fulfilment::parse(fulfilment.as_str()), Some(fulfilment));
            assert_eq!(
                serde_json::to_string(&fulfilment).unwrap(),
                format!("\"{}\"", fulfilment.as_str())
            );
        }
        assert_eq!(Fulfilment::parse("Ship"), None);
    }

    #[test]
    fn an_event_without_offer_variant_reads_as_null_and_writes_null() {
        let body = r#"{"id":"e","type":"view","listing_id":"l","creator":null,"variant":null,"visitor_id":"v","at":"2026-11-26T23:40:00Z"}"#;
        let event: MeasurementEvent = serde_json::from_str(body).unwrap();
        assert_eq!(event.offer_variant, None);
        assert!(event.to_json().contains(r#""offer_variant":null"#));
    }

    #[test]
    fn a_batch_is_what_serde_writes() {
        let events = [
            event("e1".into(), None),
            event("a\"b\\\u{1}é".into(), Some("theo".into())),
        ];
        let written: Vec<String> = events.iter().map(MeasurementEvent::to_json).collect();
        let batch = event_batch_json(written.iter().map(String::as_str));
        #[derive(Serialize)]
        struct Batch<'a> {
            events: &'a [MeasurementEvent],
        }
        assert_eq!(
            batch,
            serde_json::to_string(&Batch { events: &events }).unwrap()
        );
        assert_eq!(event_batch_json([]), "{\"events\":[]}");
    }

    proptest! {
        #[test]
        fn any_event_is_what_serde_writes(text in any::<String>(), creator in proptest::option::of(any::<String>())) {
            let case = event(text, creator);
            prop_assert_eq!(case.to_json(), serde_json::to_string(&case).unwrap());
        }

        #[test]
        fn any_text_round_trips(
            text in any::<String>(),
            tier in proptest::option::of(any::<String>()),
            source in proptest::option::of(any::<String>()),
            term in proptest::option::of(any::<String>()),
        ) {
            let case = request(text, tier, Utm { source, term, ..Utm::default() });
            prop_assert_eq!(case.to_json(), serde_json::to_string(&case).unwrap());
        }
    }
}
