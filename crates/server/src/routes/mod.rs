//! The HTTP handlers, one module per resource of SPEC section 7.

pub mod builder;
pub mod checkout;
pub mod checkout_return;
pub mod creator_links;
pub mod creator_view;
pub mod dashboard;
pub mod events;
pub mod listings;
pub mod manage;
pub mod metrics;
pub mod offer_variants;
pub mod orders;
pub mod pay;
pub mod popup;
pub mod retention;
pub mod sandbox;
pub mod stripe_webhook;
pub mod subscriptions;
pub mod webhook_endpoints;

#[cfg(test)]
mod tests {
    #[test]
    fn manage_links_are_redacted_in_logs() {
        assert_eq!(
            crate::redacted_path("/manage/cus_secret/upgrade"),
            "/manage/[redacted]/upgrade"
        );
        assert_eq!(
            crate::redacted_path("/manage/cus_secret"),
            "/manage/[redacted]"
        );
        assert_eq!(crate::redacted_path("/v1/orders"), "/v1/orders");
        for (path, logged) in [
            ("/creator/ct_secret", "/creator/[redacted]"),
            ("/pay/cs_1234", "/pay/[redacted]"),
            ("/pay/assets/pay.css", "/pay/assets/pay.css"),
            (
                "/v1/checkout/sessions/cs_1234",
                "/v1/checkout/sessions/[redacted]",
            ),
            ("/v1/checkout/sessions", "/v1/checkout/sessions"),
        ] {
            assert_eq!(crate::redacted_path(path), logged, "{path}");
        }
    }
}
