//! The checkout protocol of SPEC section 4, as types both the widget and the server use:
//! what the widget posts, what the partner answers, and the error body of every endpoint.
//! Field names are public API; do not rename them.

use serde::{Deserialize, Serialize};

/// UTM parameters of the page the shopper arrived on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm: Option<Utm>,
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
    #[serde(default)]
    pub attribution: Attribution,
    pub return_url: String,
}

fn one() -> u32 {
    1
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
}

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
