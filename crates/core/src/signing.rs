//! Signatures the server makes and others check: webhook deliveries (SPEC section 8:
//! `Mighty-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`) and creator-link
//! tokens (SPEC section 5). Public so that a seller's Rust code can verify webhooks with the
//! same function the tests use. The widget never verifies anything: it only reads which
//! listing a token names.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a webhook's timestamp may be from the receiver's clock.
pub const WEBHOOK_TOLERANCE_SECONDS: i64 = 5 * 60;

/// The header that carries a webhook's signature.
pub const SIGNATURE_HEADER: &str = "Mighty-Signature";

fn hmac_hex(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    hex(&mac.finalize().into_bytes())
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Compares two strings in time that does not depend on where they differ.
fn constant_time_eq(left: &str, right: &str) -> bool {
    left.len() == right.len()
        && left
            .bytes()
            .zip(right.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// The `Mighty-Signature` value for `body` sent at `timestamp`, keyed with the UTF-8 bytes of
/// the webhook secret string.
pub fn sign_webhook(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let signature = hmac_hex(
        secret.as_bytes(),
        &[timestamp.to_string().as_bytes(), b".", body],
    );
    format!("t={timestamp},v1={signature}")
}

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookVerifyError {
    #[error("the Mighty-Signature header is malformed; expected t=<unix seconds>,v1=<hex>")]
    Malformed,
    #[error(
        "the signature is {0} s away from now, more than the 300 s tolerance (replayed or clock skew)"
    )]
    OutsideTolerance(i64),
    #[error("no v1 signature matches the body; check the webhook secret")]
    Mismatch,
}

/// Verifies a delivery: `header` is the `Mighty-Signature` value, `body` the raw request body,
/// `now` the receiver's Unix time. Accepts any of several `v1=` values (secret rotation).
pub fn verify_webhook(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
) -> Result<(), WebhookVerifyError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value),
            _ => {}
        }
    }
    let (Some(timestamp), false) = (timestamp, signatures.is_empty()) else {
        return Err(WebhookVerifyError::Malformed);
    };
    // Saturating: `t` comes from outside (t=-9223372036854775808 once overflowed).
    let skew = now.saturating_sub(timestamp).saturating_abs();
    if skew > WEBHOOK_TOLERANCE_SECONDS {
        return Err(WebhookVerifyError::OutsideTolerance(skew));
    }
    let expected = hmac_hex(
        secret.as_bytes(),
        &[timestamp.to_string().as_bytes(), b".", body],
    );
    if signatures
        .iter()
        .any(|signature| constant_time_eq(signature, &expected))
    {
        Ok(())
    } else {
        Err(WebhookVerifyError::Mismatch)
    }
}

/// How long a creator link stays valid.
pub const CREATOR_TOKEN_VALIDITY_SECONDS: i64 = 365 * 24 * 60 * 60;

/// What a creator-link token says (`<listing>~<handle>~<issued at>~<signature>`). The listing
/// and handle are readable by anyone (the widget uses them to pick its listing); only the
/// server, holding the key, can tell whether the signature is genuine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorToken {
    pub listing_id: String,
    pub handle: String,
    pub issued_at: i64,
    signature: String,
}

/// Why a creator token is not verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreatorTokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token is for listing {0}")]
    OtherListing(String),
    #[error("the token names creator {0}")]
    OtherCreator(String),
    #[error("the signature does not match")]
    BadSignature,
    #[error("the token expired")]
    Expired,
}

impl CreatorToken {
    /// Reads a token without checking its signature.
    pub fn parse(token: &str) -> Result<CreatorToken, CreatorTokenError> {
        let mut parts = token.split('~');
        let (Some(listing_id), Some(handle), Some(issued_at), Some(signature), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(CreatorTokenError::Malformed);
        };
        let issued_at = issued_at
            .parse::<i64>()
            .map_err(|_| CreatorTokenError::Malformed)?;
        let well_formed = crate::listing::is_valid_listing_id(listing_id)
            && crate::listing::is_valid_handle(handle)
            && signature.len() == 32
            && signature.bytes().all(|byte| byte.is_ascii_hexdigit());
        if !well_formed {
            return Err(CreatorTokenError::Malformed);
        }
        Ok(CreatorToken {
            listing_id: listing_id.into(),
            handle: handle.into(),
            issued_at,
            signature: signature.into(),
        })
    }

    fn signature_for(key: &[u8], listing_id: &str, handle: &str, issued_at: i64) -> String {
        let mut signature = hmac_hex(
            key,
            &[
                listing_id.as_bytes(),
                b"~",
                handle.as_bytes(),
                b"~",
                issued_at.to_string().as_bytes(),
            ],
        );
        signature.truncate(32);
        signature
    }

    /// Issues a token (server side).
    pub fn issue(key: &[u8], listing_id: &str, handle: &str, issued_at: i64) -> String {
        let signature = Self::signature_for(key, listing_id, handle, issued_at);
        format!("{listing_id}~{handle}~{issued_at}~{signature}")
    }

    /// Checks the signature, the listing, the creator and the 365-day validity (server side;
    /// revocation is the server's own list).
    pub fn verify(
        &self,
        key: &[u8],
        listing_id: &str,
        handle: &str,
        now: i64,
    ) -> Result<(), CreatorTokenError> {
        if self.listing_id != listing_id {
            return Err(CreatorTokenError::OtherListing(self.listing_id.clone()));
        }
        if self.handle != handle {
            return Err(CreatorTokenError::OtherCreator(self.handle.clone()));
        }
        let expected = Self::signature_for(key, &self.listing_id, &self.handle, self.issued_at);
        if !constant_time_eq(&expected, &self.signature) {
            return Err(CreatorTokenError::BadSignature);
        }
        if now.saturating_sub(self.issued_at) > CREATOR_TOKEN_VALIDITY_SECONDS
            || self.issued_at > now.saturating_add(WEBHOOK_TOLERANCE_SECONDS)
        {
            return Err(CreatorTokenError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_signatures_verify_and_refuse() {
        let body = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;
        let header = sign_webhook("whsec_test", 1_700_000_000, body);
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(header.len(), "t=1700000000,v1=".len() + 64);
        assert_eq!(
            verify_webhook("whsec_test", &header, body, 1_700_000_100),
            Ok(())
        );
        assert_eq!(
            verify_webhook("whsec_other", &header, body, 1_700_000_100),
            Err(WebhookVerifyError::Mismatch)
        );
        assert_eq!(
            verify_webhook("whsec_test", &header, b"{}", 1_700_000_100),
            Err(WebhookVerifyError::Mismatch)
        );
        assert_eq!(
            verify_webhook("whsec_test", &header, body, 1_700_000_301),
            Err(WebhookVerifyError::OutsideTolerance(301))
        );
        assert_eq!(
            verify_webhook("whsec_test", "v1=abc", body, 1_700_000_000),
            Err(WebhookVerifyError::Malformed)
        );
        // Several v1 values: any may match (secret rotation).
        let rotated = format!("{header},v1={}", "0".repeat(64));
        assert_eq!(
            verify_webhook("whsec_test", &rotated, body, 1_700_000_000),
            Ok(())
        );
    }

    #[test]
    fn known_hmac_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_hex(b"Jefe", &[b"what do ya want ", b"for nothing?"]),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn creator_tokens() {
        let key = b"link-key";
        let token = CreatorToken::issue(key, "candle-trio", "ana", 1_700_000_000);
        let parsed = CreatorToken::parse(&token).unwrap();
        assert_eq!(
            (
                parsed.listing_id.as_str(),
                parsed.handle.as_str(),
                parsed.issued_at
            ),
            ("candle-trio", "ana", 1_700_000_000)
        );
        assert_eq!(
            parsed.verify(key, "candle-trio", "ana", 1_700_000_000 + 86_400),
            Ok(())
        );
        assert_eq!(
            parsed.verify(b"other-key", "candle-trio", "ana", 1_700_000_000),
            Err(CreatorTokenError::BadSignature)
        );
        assert_eq!(
            parsed.verify(key, "soap", "ana", 1_700_000_000),
            Err(CreatorTokenError::OtherListing("candle-trio".into()))
        );
        assert_eq!(
            parsed.verify(key, "candle-trio", "theo", 1_700_000_000),
            Err(CreatorTokenError::OtherCreator("ana".into()))
        );
        assert_eq!(
            parsed.verify(
                key,
                "candle-trio",
                "ana",
                1_700_000_000 + CREATOR_TOKEN_VALIDITY_SECONDS + 1
            ),
            Err(CreatorTokenError::Expired)
        );
        let tampered = token.replace("~ana~", "~eve~");
        assert_eq!(
            CreatorToken::parse(&tampered).unwrap().verify(
                key,
                "candle-trio",
                "eve",
                1_700_000_000
            ),
            Err(CreatorTokenError::BadSignature)
        );
        for malformed in [
            "",
            "a~b~c",
            "a~b~notanumber~0123456789abcdef0123456789abcdef",
            "a b~c~1~0123456789abcdef0123456789abcdef",
            "a~b~1~xyz",
        ] {
            assert_eq!(
                CreatorToken::parse(malformed),
                Err(CreatorTokenError::Malformed),
                "{malformed}"
            );
        }
    }
}
