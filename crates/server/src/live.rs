//! Live mode (issue 13): the partner endpoint of SPEC section 4 stays this server's, and
//! behind it Stripe Checkout takes the money. What is here calls Stripe and then changes
//! Mighty's state through the store's own paths (the sandbox's settle, expire, renew, refund
//! and cancel), so sellers get the same signed webhooks in both modes.
//!
//! Idempotency, end to end: the widget's `Idempotency-Key` is claimed with the session (and
//! its drop stock) before Stripe is called, its answer left pending; every call to Stripe
//! carries a key derived from Mighty's ids (`mighty-checkout-<session>`, `mighty-refund-
//! <order>`, ...), so whichever request finishes a pending session, and however often,
//! Stripe makes one Checkout Session, one charge, one refund.

use serde_json::Value;

use crate::AppState;
use crate::error::AppError;
use crate::store::{
    CreateSessionOutcome, NewSession, PartnerPayment, Payment, PaymentOutcome, RetentionChange,
    Session, StoredResponse, Subscription,
};
use crate::stripe::{self, Form, Stripe, StripeError};

/// Stripe's Checkout Session lives this much longer than Mighty's stock hold (Stripe wants at
/// least 30 minutes from the request; the margin covers clock skew and a retry of the same
/// request up to ten minutes later, which must send the same `expires_at`). Mighty expires it
/// explicitly when its own hold ends, before giving the stock back.
pub const STRIPE_EXTRA_SECONDS: i64 = 600;

/// How long the upgrade price the card showed stays the one charged.
pub const QUOTE_VALIDITY_SECONDS: i64 = 15 * 60;

/// The stored answer of a checkout whose Stripe session is not made yet (its body is the
/// session id): a request with the same key finishes it.
const PENDING: u16 = 0;

fn client(state: &AppState) -> Result<&Stripe, AppError> {
    state
        .stripe()
        .ok_or_else(|| AppError::Internal("live mode without a Stripe client".into()))
}

/// The Stripe idempotency key of a Mighty operation.
pub fn stripe_key(operation: &str, id: &str) -> String {
    format!("mighty-{operation}-{id}")
}

/// Stripe's amount for `minor` units of `currency` (core's `stripe::to_stripe_amount`:
/// three-decimal currencies in steps of ten, ISK and MGA rewritten), or a 422 naming
/// `field`: a price Stripe cannot charge exactly is refused, never rounded.
pub fn stripe_amount(minor: i64, currency: &str, field: &str) -> Result<i64, AppError> {
    let code = currency.to_ascii_uppercase();
    let currency = mighty_core::money::Currency::from_code(&code)
        .ok_or_else(|| AppError::invalid(field, format!("{code} is not an ISO 4217 currency")))?;
    mighty_core::stripe::to_stripe_amount(mighty_core::money::Money::new(minor, currency))
        .map_err(|error| AppError::invalid(field, error.to_string()))
}

/// An amount Stripe reports (an invoice's `amount_paid`, in lower-case `currency`) in
/// Mighty's minor units.
fn mighty_amount(amount: i64, currency: Option<&str>) -> i64 {
    match currency
        .and_then(|code| mighty_core::money::Currency::from_code(&code.to_ascii_uppercase()))
    {
        Some(currency) => mighty_core::stripe::from_stripe_amount(amount, currency),
        None => amount,
    }
}

/// Live mode's check of a listing at `PUT /v1/listings/{id}`: every price Stripe will be
/// asked to charge has an exact Stripe amount (a 422 naming the first that has not, e.g.
/// `offers[0].price` of 1.505 KWD), bundle offer variants' own prices included: a variant
/// Stripe cannot charge is refused when the seller puts it, not when a shopper shown it pays.
pub fn check_listing_prices(listing: &mighty_core::listing::Listing) -> Result<(), AppError> {
    use mighty_core::listing::OfferKind;
    for (index, offer) in listing.offers.iter().enumerate() {
        match &offer.kind {
            OfferKind::Bundle(bundle) => {
                stripe_amount(
                    bundle.price.minor,
                    bundle.price.currency.code(),
                    &format!("offers[{index}].price"),
                )?;
                for (variant_index, variant) in bundle.variants.iter().enumerate() {
                    if let Some(price) = variant.price {
                        stripe_amount(
                            price.minor,
                            price.currency.code(),
                            &format!("offers[{index}].variants[{variant_index}].price"),
                        )?;
                    }
                }
            }
            OfferKind::Retainer(retainer) => {
                for (tier_index, tier) in retainer.tiers.iter().enumerate() {
                    stripe_amount(
                        tier.price.minor,
                        tier.price.currency.code(),
                        &format!("offers[{index}].tiers[{tier_index}].price"),
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// `POST /v1/checkout/sessions` in live mode: the session and its stock are claimed under
/// the widget's key, then Stripe makes the Checkout Session. Returns the answer to give
/// (and stored under the key): the `201` with Stripe's hosted page, or a refusal.
///
/// A Stripe failure worth retrying (5xx, 429, timeouts, after the client's own retries)
/// answers 503/429 and leaves the key pending with its session and stock: the widget's
/// retry with the same key calls Stripe again with the same Stripe key, so it finishes that
/// same session (never a second one); nothing stays stuck, because a pending key is never
/// replayed, it is finished. A session nobody finishes expires with the others (30 minutes)
/// and its stock comes back; a later retry of that key starts again from scratch.
pub async fn create_checkout(
    state: &AppState,
    key: &str,
    hash: &str,
    new: NewSession,
    product_name: &str,
    base: &str,
) -> Result<StoredResponse, AppError> {
    // Before anything is claimed: a price Stripe cannot charge exactly is refused plainly.
    let unit_amount = stripe_amount(new.amount / new.quantity.max(1), &new.currency, "offer_id")?;
    let (claim_key, claim_hash) = (key.to_string(), hash.to_string());
    let outcome = state
        .store(move |store| {
            store.create_session(&claim_key, &claim_hash, &new, &|outcome| match outcome {
                CreateSessionOutcome::Created(session) => StoredResponse {
                    status: PENDING,
                    body: session.id.clone(),
                },
                other => crate::routes::checkout::render(other),
            })
        })
        .await?;
    let session = match outcome {
        CreateSessionOutcome::Created(session) => *session,
        CreateSessionOutcome::Replayed(response) if response.status == PENDING => {
            let id = response.body.clone();
            let session = state
                .store(move |store| store.session(&id))
                .await?
                .ok_or_else(|| AppError::Internal("a pending checkout lost its session".into()))?;
            if session.status != "open" {
                let forget = key.to_string();
                state
                    .store(move |store| store.forget_idempotency_key("checkout", &forget))
                    .await?;
                return Err(AppError::Unavailable(
                    "the earlier attempt with this key expired; try again".into(),
                ));
            }
            session
        }
        other => return Ok(crate::routes::checkout::render(&other)),
    };
    match make_stripe_session(state, &session, unit_amount, product_name, base).await {
        Ok(checkout) => {
            let url = checkout.url.clone().ok_or_else(|| {
                AppError::Internal("Stripe made a Checkout Session without a url".into())
            })?;
            let mut made = session.clone();
            made.redirect_url = url.clone();
            let response =
                crate::routes::checkout::render(&CreateSessionOutcome::Created(Box::new(made)));
            let (id, stored_key, stored) = (session.id.clone(), key.to_string(), response.clone());
            state
                .store(move |store| {
                    store.attach_stripe_session(&id, &checkout.id, &url, &stored_key, &stored)
                })
                .await?;
            Ok(response)
        }
        Err(error @ StripeError::Unavailable { .. }) => Err(error.to_app_error()),
        Err(refused) => {
            let error = refused.to_app_error();
            let response = StoredResponse {
                status: error.status().as_u16(),
                body: serde_json::to_string(&error.body()).unwrap_or_default(),
            };
            let (id, stored_key, stored) = (session.id.clone(), key.to_string(), response.clone());
            state
                .store(move |store| {
                    store.fail_pending_session(&id, "partner_refused", &stored_key, &stored)
                })
                .await?;
            state.outbox_changed();
            Ok(response)
        }
    }
}

/// What the Checkout Session's metadata carries (within Stripe's limits: `stripe::Form`).
fn metadata(session: &Session) -> Vec<(&'static str, String)> {
    let text = |value: Option<&str>| value.unwrap_or_default().to_string();
    vec![
        ("mighty_session", session.id.clone()),
        ("listing_id", session.listing_id.clone()),
        ("offer_id", session.offer_id.clone()),
        ("tier_id", text(session.tier_id.as_deref())),
        // The bundle's offer variant charged (its price is `unit_amount`).
        ("offer_variant", text(session.offer_variant.as_deref())),
        ("creator", text(session.attribution.creator.as_deref())),
        (
            "creator_verified",
            session.attribution.creator_verified.to_string(),
        ),
        (
            "variant",
            text(
                session
                    .attribution
                    .raw
                    .get("variant")
                    .and_then(Value::as_str),
            ),
        ),
        // `ship` or `pickup` (SPEC 4): a pick-up collects no shipping address
        // (`session.ships` is false) and gets its code when paid, as in the sandbox.
        ("fulfilment", text(session.fulfilment.as_deref())),
    ]
}

/// The Checkout Session's parameters for `session` (amounts from the stored listing, as the
/// session has them).
pub fn checkout_form(
    session: &Session,
    unit_amount: i64,
    product_name: &str,
    base: &str,
    ship_countries: &[String],
    expires_at: i64,
) -> Form {
    let subscription = session.kind == "retainer";
    let quantity = session.quantity.max(1);
    let return_page = format!("{base}/checkout/return/{}", session.id);
    let mut form = Form::new();
    form.set(
        &["mode"],
        if subscription {
            "subscription"
        } else {
            "payment"
        },
    )
    .set(&["client_reference_id"], session.id.clone())
    // Stripe fills `{CHECKOUT_SESSION_ID}` in: only the browser Stripe sends back knows it, so
    // the return page shows that browser the card and email (as the sandbox's receipt does).
    .set(
        &["success_url"],
        format!("{return_page}?result=success&stripe_session={{CHECKOUT_SESSION_ID}}"),
    )
    .set(&["cancel_url"], format!("{return_page}?result=cancel"))
    .set(&["expires_at"], expires_at.to_string())
    .set(&["line_items", "0", "quantity"], quantity.to_string())
    .set(
        &["line_items", "0", "price_data", "currency"],
        session.currency.to_ascii_lowercase(),
    )
    .set(
        &["line_items", "0", "price_data", "unit_amount"],
        unit_amount.to_string(),
    )
    .set(
        &["line_items", "0", "price_data", "product_data", "name"],
        stripe::truncate_chars(product_name, 250),
    );
    if subscription {
        form.set(
            &["line_items", "0", "price_data", "recurring", "interval"],
            session.interval.clone().unwrap_or_else(|| "month".into()),
        );
    }
    let entries = metadata(session);
    form.metadata(&["metadata"], &entries);
    if subscription {
        form.metadata(&["subscription_data", "metadata"], &entries);
    } else {
        form.metadata(&["payment_intent_data", "metadata"], &entries);
    }
    if session.ships {
        for (index, country) in ship_countries.iter().enumerate() {
            form.set(
                &[
                    "shipping_address_collection",
                    "allowed_countries",
                    &index.to_string(),
                ],
                country.clone(),
            );
        }
    }
    form
}

async fn make_stripe_session(
    state: &AppState,
    session: &Session,
    unit_amount: i64,
    product_name: &str,
    base: &str,
) -> Result<stripe::CheckoutSession, StripeError> {
    let stripe = state.stripe().expect("live mode has a Stripe client");
    // From the session, not from now: every attempt under one Stripe key (the widget's retry
    // included) sends the same parameters, or Stripe refuses the key (`idempotency_error`).
    // The session's times are on its seller's clock; Stripe's on the real one.
    let seller_clock_offset = state.now_for(&session.seller_id).0 - state.now().0;
    let expires_at = session.expires_at - seller_clock_offset + STRIPE_EXTRA_SECONDS;
    let form = checkout_form(
        session,
        unit_amount,
        product_name,
        base,
        &state.config().ship_countries,
        expires_at,
    );
    stripe
        .post(
            "/v1/checkout/sessions",
            &form,
            &stripe_key("checkout", &session.id),
        )
        .await
}

/// Expires the live sessions past their stock hold: each on Stripe first, then here (stock
/// back, `checkout.session.expired`). A session Stripe says is complete is settled instead,
/// and one Stripe cannot be asked about now stays open until the next tick: stock is given
/// back only once no one can pay for it, so a drop never oversells.
pub async fn expire_due(state: &AppState) -> Result<usize, AppError> {
    let real_now = state.now().0;
    let due = state
        .store(move |store| store.due_live_sessions(real_now))
        .await?;
    let mut expired = 0;
    for session in due {
        match expire_one(state, &session).await {
            Ok(true) => expired += 1,
            Ok(false) => {}
            Err(error) => tracing::warn!(session = %session.id, %error, "expiring a live session"),
        }
    }
    Ok(expired)
}

/// Expires one open live session (see [`expire_due`]). Returns whether it expired here.
///
/// When Stripe would not let it expire (an asynchronous payment still pending: Stripe's
/// webhook will say how it ends) or could not be asked, the next look is postponed, each
/// time longer (core's `stripe::expiry_recheck_delay_seconds`), and until then this asks
/// Stripe nothing: neither the scheduler's ticks nor the widget's polls hammer Stripe.
pub async fn expire_one(state: &AppState, session: &Session) -> Result<bool, AppError> {
    let now = state.now_for(&session.seller_id).0;
    let id = session.id.clone();
    let next_check = state
        .store(move |store| store.next_expiry_check(&id))
        .await?;
    if next_check.is_some_and(|next| next > now) {
        return Ok(false);
    }
    let outcome = expire_on_stripe(state, session).await;
    if !matches!(outcome, Ok(true)) {
        let id = session.id.clone();
        let next = state
            .store(move |store| {
                store.postpone_expiry_check(
                    &id,
                    now,
                    &mighty_core::stripe::expiry_recheck_delay_seconds,
                )
            })
            .await?;
        tracing::info!(session = %session.id, next, "the session did not expire on Stripe; asking again later");
    }
    outcome
}

async fn expire_on_stripe(state: &AppState, session: &Session) -> Result<bool, AppError> {
    let id = session.id.clone();
    let stripe_id = state
        .store(move |store| store.stripe_session_id(&id))
        .await?;
    let real_now = state.now().0;
    let Some(stripe_id) = stripe_id else {
        // Stripe never answered for it: no shopper has a page to pay on.
        let id = session.id.clone();
        let expired = state
            .store(move |store| store.expire_session(&id, real_now))
            .await?;
        state.outbox_changed();
        return Ok(expired);
    };
    let stripe = client(state)?;
    let answer: Result<stripe::CheckoutSession, StripeError> = stripe
        .post(
            &format!("/v1/checkout/sessions/{stripe_id}/expire"),
            &Form::new(),
            &stripe_key("expire", &session.id),
        )
        .await;
    let checkout = match answer {
        Ok(checkout) => checkout,
        // Not open any more on Stripe (paid, or expired there): ask what it is.
        Err(StripeError::Refused { .. }) => stripe
            .get(&format!("/v1/checkout/sessions/{stripe_id}"), &Form::new())
            .await
            .map_err(|error| error.to_app_error())?,
        Err(error) => return Err(error.to_app_error()),
    };
    match checkout.status.as_deref() {
        Some("expired") => {
            let id = session.id.clone();
            let expired = state
                .store(move |store| store.expire_session(&id, real_now))
                .await?;
            state.outbox_changed();
            Ok(expired)
        }
        Some("complete") => {
            settle(state, session, &checkout).await?;
            Ok(false)
        }
        _ => Ok(false),
    }
}

/// Settles a session as Stripe's Checkout Session says: paid (order, membership, webhooks:
/// the pay page's own path), declined when an asynchronous payment failed, nothing while
/// unpaid. Settling is conditional on the session being open, so a second report (webhook
/// and return page, or an event sent twice) changes nothing.
pub async fn settle(
    state: &AppState,
    session: &Session,
    checkout: &stripe::CheckoutSession,
) -> Result<(), AppError> {
    settle_as(state, session, checkout, None).await
}

async fn settle_as(
    state: &AppState,
    session: &Session,
    checkout: &stripe::CheckoutSession,
    decline: Option<&'static str>,
) -> Result<(), AppError> {
    if session.status != "open" || (decline.is_none() && !checkout.is_paid()) {
        return Ok(());
    }
    let subscription = checkout.subscription_id();
    // The period is Stripe's; the last four digits are read from the payment method Stripe
    // charged (the subscription's default one, or the payment intent's).
    let (period, card_last4) = match (&subscription, decline) {
        (Some(stripe_subscription), None) => {
            let stripe = client(state)?;
            let mut query = Form::new();
            query.set(&["expand", "0"], "default_payment_method");
            let current: stripe::Subscription = stripe
                .get(&format!("/v1/subscriptions/{stripe_subscription}"), &query)
                .await
                .map_err(|error| error.to_app_error())?;
            (current.period(), current.card_last4())
        }
        (None, None) => (None, payment_last4(state, checkout).await?),
        (_, Some(_)) => (None, None),
    };
    let payment = Payment {
        email: checkout.email().unwrap_or_default(),
        card_last4: card_last4.unwrap_or_default(),
        shipping: checkout.shipping(),
        partner: Some(PartnerPayment {
            payment_intent: checkout.payment_intent_id(),
            invoice: checkout.invoice_id(),
            subscription,
            period,
        }),
    };
    let now = state.now_for(&session.seller_id).0;
    let (id, secrets) = (session.id.clone(), state.secrets().clone());
    let outcome = state
        .store(move |store| {
            store.settle_payment(&id, &payment, decline, now, &|subscription_id| {
                secrets.customer_token(subscription_id)
            })
        })
        .await?;
    state.outbox_changed();
    if let PaymentOutcome::NotOpen(session) = outcome {
        tracing::info!(session = %session.id, status = %session.status, "Stripe reported a session that was no longer open");
    }
    Ok(())
}

/// The last four digits of what paid a Checkout Session in `payment` mode: its payment
/// intent's payment method, read with `expand[]=payment_intent.payment_method` (events carry
/// ids only). Stripe away: an error, so the event is sent again; refused: none.
async fn payment_last4(
    state: &AppState,
    checkout: &stripe::CheckoutSession,
) -> Result<Option<String>, AppError> {
    if let Some(last4) = checkout.card_last4() {
        return Ok(Some(last4));
    }
    let mut query = Form::new();
    query.set(&["expand", "0"], "payment_intent.payment_method");
    match client(state)?
        .get::<stripe::CheckoutSession>(&format!("/v1/checkout/sessions/{}", checkout.id), &query)
        .await
    {
        Ok(expanded) => Ok(expanded.card_last4()),
        Err(error @ StripeError::Unavailable { .. }) => Err(error.to_app_error()),
        Err(error) => {
            tracing::warn!(?error, "reading the payment method of a Checkout Session");
            Ok(None)
        }
    }
}

/// The return page's look at Stripe (the shopper is back before the webhook, perhaps):
/// settles the session if Stripe says it is paid. Best effort: the webhook settles it anyway.
pub async fn refresh(state: &AppState, session: &Session) {
    if session.status != "open" {
        return;
    }
    let id = session.id.clone();
    let Ok(Some(stripe_id)) = state.store(move |store| store.stripe_session_id(&id)).await else {
        return;
    };
    let Some(stripe) = state.stripe() else {
        return;
    };
    let checkout: Result<stripe::CheckoutSession, _> = stripe
        .get(&format!("/v1/checkout/sessions/{stripe_id}"), &Form::new())
        .await;
    if let Ok(checkout) = checkout
        && checkout.status.as_deref() == Some("complete")
        && let Err(error) = settle(state, session, &checkout).await
    {
        tracing::warn!(session = %session.id, %error, "settling on the return page");
    }
}

/// Handles one verified Stripe event. `Ok`: handled or not Mighty's (answered 200, marked);
/// `Err`: Stripe should send it again (answered 503).
pub async fn handle_event(state: &AppState, event: &stripe::Event) -> Result<(), AppError> {
    let object = &event.data.object;
    let read = |what: &str| {
        AppError::Malformed(format!(
            "{} does not carry a readable {what}",
            event.event_type
        ))
    };
    match event.event_type.as_str() {
        "checkout.session.completed"
        | "checkout.session.async_payment_succeeded"
        | "checkout.session.async_payment_failed"
        | "checkout.session.expired" => {
            let checkout: stripe::CheckoutSession =
                serde_json::from_value(object.clone()).map_err(|_| read("checkout session"))?;
            let Some(session) = session_of(state, &checkout).await? else {
                return Ok(());
            };
            match event.event_type.as_str() {
                "checkout.session.expired" => {
                    let (id, real_now) = (session.id.clone(), state.now().0);
                    state
                        .store(move |store| store.expire_session(&id, real_now))
                        .await?;
                    state.outbox_changed();
                    Ok(())
                }
                "checkout.session.async_payment_failed" => {
                    settle_as(state, &session, &checkout, Some("payment_failed")).await
                }
                _ => settle(state, &session, &checkout).await,
            }
        }
        "invoice.paid" => {
            let invoice: stripe::Invoice =
                serde_json::from_value(object.clone()).map_err(|_| read("invoice"))?;
            invoice_paid(state, &invoice).await
        }
        "invoice.payment_failed" => {
            let invoice: stripe::Invoice =
                serde_json::from_value(object.clone()).map_err(|_| read("invoice"))?;
            invoice_failed(state, &invoice).await
        }
        "customer.subscription.updated" | "customer.subscription.deleted" => {
            let subscription: stripe::Subscription =
                serde_json::from_value(object.clone()).map_err(|_| read("subscription"))?;
            subscription_changed(
                state,
                &subscription,
                event.event_type == "customer.subscription.deleted",
            )
            .await
        }
        "charge.refunded" => {
            let charge: stripe::Charge =
                serde_json::from_value(object.clone()).map_err(|_| read("charge"))?;
            if !charge.refunded {
                // A partial refund: the order stays paid (Mighty refunds whole orders).
                return Ok(());
            }
            let (payment_intent, invoice) = (charge.payment_intent_id(), charge.invoice_id());
            let order = state
                .store(move |store| {
                    store.order_by_stripe_payment(payment_intent.as_deref(), invoice.as_deref())
                })
                .await?;
            let Some(order) = order.filter(|order| order.status != "refunded") else {
                return Ok(());
            };
            let now = state.now_for(&order.seller_id).0;
            let result = state
                .store(move |store| store.refund_order(&order.seller_id, &order.order_id, now))
                .await;
            state.outbox_changed();
            match result {
                Ok(_) | Err(AppError::Conflict { .. }) => Ok(()),
                Err(error) => Err(error),
            }
        }
        _ => Ok(()),
    }
}

/// The Mighty session a Checkout Session was made for (its `client_reference_id`), when it
/// is one of this server's (an account may have other integrations).
async fn session_of(
    state: &AppState,
    checkout: &stripe::CheckoutSession,
) -> Result<Option<Session>, AppError> {
    let Some(id) = checkout
        .client_reference_id
        .clone()
        .or_else(|| checkout.metadata.get("mighty_session").cloned())
    else {
        return Ok(None);
    };
    let lookup = id.clone();
    let Some(session) = state.store(move |store| store.session(&lookup)).await? else {
        return Ok(None);
    };
    let known = state
        .store(move |store| store.stripe_session_id(&id))
        .await?;
    // Only the Checkout Session this server made for it speaks for it.
    Ok(session_matches(known.as_deref(), &checkout.id).then_some(session))
}

fn session_matches(known: Option<&str>, reported: &str) -> bool {
    known == Some(reported)
}

async fn invoice_paid(state: &AppState, invoice: &stripe::Invoice) -> Result<(), AppError> {
    let Some(stripe_subscription) = invoice.subscription_id() else {
        return Ok(());
    };
    match invoice.billing_reason.as_deref() {
        Some("subscription_cycle") => {
            let stripe = client(state)?;
            // The new period: the invoice's subscription line, else the subscription's own.
            let period = match invoice.line_period() {
                Some(period) => Some(period),
                None => stripe
                    .get::<stripe::Subscription>(
                        &format!("/v1/subscriptions/{stripe_subscription}"),
                        &Form::new(),
                    )
                    .await
                    .map_err(|error| error.to_app_error())?
                    .period(),
            };
            let Some(period) = period else {
                return Err(AppError::Malformed("invoice.paid without a period".into()));
            };
            let (invoice_id, payment_intent) = (invoice.id.clone(), invoice.payment_intent_id());
            let amount = mighty_amount(
                invoice.amount_paid.unwrap_or(0),
                invoice.currency.as_deref(),
            );
            state
                .store(move |store| {
                    store.record_stripe_renewal(
                        &stripe_subscription,
                        &invoice_id,
                        payment_intent.as_deref(),
                        period,
                        amount,
                    )
                })
                .await?;
            state.outbox_changed();
            Ok(())
        }
        _ => {
            // The first invoice (or an upgrade's): its payment intent, for refunds.
            if let Some(payment_intent) = invoice.payment_intent_id() {
                let invoice_id = invoice.id.clone();
                state
                    .store(move |store| store.attach_invoice_payment(&invoice_id, &payment_intent))
                    .await?;
            }
            Ok(())
        }
    }
}

async fn subscription_changed(
    state: &AppState,
    stripe_subscription: &stripe::Subscription,
    deleted: bool,
) -> Result<(), AppError> {
    let id = stripe_subscription.id.clone();
    let Some(subscription) = state
        .store(move |store| store.subscription_by_stripe_id(&id))
        .await?
    else {
        return Ok(());
    };
    let now = state.now_for(&subscription.seller_id).0;
    if deleted || stripe_subscription.status.as_deref() == Some("canceled") {
        state
            .store(move |store| store.cancel_subscription(&subscription.id, now))
            .await?;
        state.outbox_changed();
        return Ok(());
    }
    // The tier Stripe bills: its metadata (Mighty writes it on checkout and upgrade), priced
    // from the stored listing, never from Stripe's amount alone.
    // A downgrade waiting for the period's end is already what Stripe bills next: it is
    // applied at that renewal (`record_stripe_renewal`), not now.
    let tier = match stripe_subscription.metadata.get("tier_id") {
        Some(tier_id)
            if *tier_id != subscription.tier_id
                && subscription.pending_tier_id.as_ref() != Some(tier_id) =>
        {
            tier_price(state, &subscription, tier_id)
                .await?
                .map(|price| (tier_id.clone(), price))
        }
        _ => None,
    };
    let period = stripe_subscription.period();
    let id = subscription.id.clone();
    state
        .store(move |store| {
            store.sync_stripe_subscription(
                &id,
                period,
                tier.as_ref()
                    .map(|(tier_id, price)| (tier_id.as_str(), *price)),
                now,
            )
        })
        .await?;
    // A pause set, changed or cleared in Stripe's dashboard. Events come in any order, so
    // the pause is read from Stripe as it is now, not from this event's copy (an older event
    // delivered late would undo a newer change).
    let current: stripe::Subscription = client(state)?
        .get(
            &format!("/v1/subscriptions/{}", stripe_subscription.id),
            &Form::new(),
        )
        .await
        .map_err(|error| error.to_app_error())?;
    if current.status.as_deref() != Some("canceled") {
        let pause = current.pause_collection.map(|pause| pause.resumes_at);
        state
            .store(move |store| store.mirror_stripe_pause(&subscription.id, pause, now))
            .await?;
    }
    state.outbox_changed();
    Ok(())
}

/// A renewal invoice Stripe could not collect: when it is the first after a pause, the pause
/// is over all the same (Stripe retries the invoice, the seller's dunning follows), so the
/// membership must not stay paused here waiting for an `invoice.paid` that may never come.
async fn invoice_failed(state: &AppState, invoice: &stripe::Invoice) -> Result<(), AppError> {
    let (Some(stripe_subscription), Some("subscription_cycle")) =
        (invoice.subscription_id(), invoice.billing_reason.as_deref())
    else {
        return Ok(());
    };
    let Some(period) = invoice.line_period() else {
        return Err(AppError::Malformed(
            "invoice.payment_failed without a period".into(),
        ));
    };
    let ended = state
        .store(move |store| store.end_pause_at_failed_invoice(&stripe_subscription, period))
        .await?;
    if ended {
        state.outbox_changed();
    }
    Ok(())
}

async fn tier_price(
    state: &AppState,
    subscription: &Subscription,
    tier_id: &str,
) -> Result<Option<i64>, AppError> {
    let listing_id = subscription.listing_id.clone();
    let Some(stored) = state.store(move |store| store.listing(&listing_id)).await? else {
        return Ok(None);
    };
    let Ok(listing) = mighty_core::parse_listing(&stored.document.to_string()) else {
        return Ok(None);
    };
    Ok(listing
        .offer(&subscription.offer_id)
        .and_then(|offer| match &offer.kind {
            mighty_core::listing::OfferKind::Retainer(retainer) => retainer
                .tiers
                .iter()
                .find(|tier| tier.id == tier_id)
                .map(|tier| tier.price.minor),
            mighty_core::listing::OfferKind::Bundle(_) => None,
        }))
}

/// The instant an upgrade is prorated at: when its price was shown (the card's read of the
/// subscription, the manage page), if that was within [`QUOTE_VALIDITY_SECONDS`] and in the
/// current period, else now. Stripe is given the same instant (`proration_date`), so it
/// charges what was shown.
pub fn proration_date(quoted_at: Option<i64>, period_start: i64, now: i64) -> i64 {
    quoted_at
        .filter(|at| *at <= now && now - at <= QUOTE_VALIDITY_SECONDS && *at >= period_start)
        .unwrap_or(now)
}

/// Records that the upgrade price of `subscription` is being shown now (live mode).
pub async fn record_quote(state: &AppState, subscription: &Subscription) {
    if state.config().live().is_none() {
        return;
    }
    let (id, now) = (subscription.id.clone(), state.now().0);
    if let Err(error) = state
        .store(move |store| store.record_upgrade_quote(&id, now))
        .await
    {
        tracing::warn!(%error, "recording an upgrade quote");
    }
}

/// What an upgrade did on Stripe: the instant it was prorated at, and the invoice that
/// charged it (with its payment intent when Stripe says).
pub struct StripeUpgrade {
    pub proration_date: i64,
    pub invoice: Option<String>,
    pub payment_intent: Option<String>,
}

/// Moves the Stripe subscription of `subscription` to `new_price` (the same subscription,
/// its one item changed), charging the prorated difference now (`always_invoice`) at the
/// quote's instant; a declined card changes nothing (`error_if_incomplete`).
pub async fn upgrade(
    state: &AppState,
    subscription: &Subscription,
    tier_id: &str,
    new_price: i64,
    key: &str,
) -> Result<StripeUpgrade, AppError> {
    let id = subscription.id.clone();
    let link = state
        .store(move |store| store.subscription_link(&id))
        .await?
        .and_then(|link| Some((link.stripe_subscription_id?, link.upgrade_quoted_at)))
        .ok_or_else(|| AppError::conflict("conflict", "this membership is not billed by Stripe"))?;
    let (stripe_subscription, quoted_at) = link;
    let unit_amount = stripe_amount(new_price, &subscription.currency, "tier_id")?;
    let stripe = client(state)?;
    let proration_date =
        proration_date(quoted_at, subscription.current_period_start, state.now().0);
    let mut form = item_price_form(stripe, subscription, &stripe_subscription, unit_amount).await?;
    form.set(&["proration_behavior"], "always_invoice")
        .set(&["proration_date"], proration_date.to_string())
        .set(&["payment_behavior"], "error_if_incomplete")
        .set(&["metadata", "tier_id"], tier_id)
        .set(&["expand", "0"], "latest_invoice");
    let request = crate::http::request_hash(key.as_bytes());
    let updated: stripe::Subscription = stripe
        .post(
            &format!("/v1/subscriptions/{stripe_subscription}"),
            &form,
            &stripe_key(
                "upgrade",
                &format!("{}-{}", subscription.id, &request[..24]),
            ),
        )
        .await
        .map_err(|error| error.to_app_error())?;
    let invoice = updated.latest_invoice.as_ref();
    Ok(StripeUpgrade {
        proration_date,
        invoice: invoice.and_then(stripe::Expandable::id).map(str::to_string),
        payment_intent: invoice
            .and_then(stripe::Expandable::object)
            .and_then(|object| object.get("payment_intent"))
            .and_then(|intent| intent.as_str().or_else(|| intent.get("id")?.as_str()))
            .map(str::to_string),
    })
}

/// The Stripe subscription of a live membership (a 409 when it has none).
async fn stripe_subscription_of(
    state: &AppState,
    subscription: &Subscription,
) -> Result<String, AppError> {
    let id = subscription.id.clone();
    state
        .store(move |store| store.subscription_link(&id))
        .await?
        .and_then(|link| link.stripe_subscription_id)
        .ok_or_else(|| AppError::conflict("conflict", "this membership is not billed by Stripe"))
}

/// Tells Stripe of a pause, a resume or a downgrade (issue 15) before Mighty records it, on
/// the same Stripe subscription, under a Stripe key derived from the request's key and the
/// form sent ([`form_key`]):
/// - a pause is `pause_collection` with `behavior=void` (the invoices of the skipped periods
///   are voided, nothing is charged) and `resumes_at` (the first period charged again, as
///   core's `pause_window` says);
/// - a resume clears `pause_collection` (an empty value);
/// - a downgrade changes the subscription item's price with `proration_behavior=none`, so
///   nothing is charged or credited now and the next invoice bills the lower price; the
///   metadata's `tier_id` says the tier Stripe bills from then (`subscription_changed` leaves
///   a waiting downgrade waiting).
pub async fn retention_change(
    state: &AppState,
    subscription: &Subscription,
    change: &RetentionChange,
    key: &str,
) -> Result<(), AppError> {
    let stripe_subscription = stripe_subscription_of(state, subscription).await?;
    let form = match change {
        RetentionChange::Pause { resumes_at, .. } => {
            let mut form = Form::new();
            form.set(&["pause_collection", "behavior"], "void")
                .set(&["pause_collection", "resumes_at"], resumes_at.to_string());
            form
        }
        RetentionChange::Resume => {
            let mut form = Form::new();
            form.set(&["pause_collection"], "");
            form
        }
        RetentionChange::Downgrade { tier_id, price, .. } => {
            next_period_price_form(state, subscription, &stripe_subscription, tier_id, *price)
                .await?
        }
    };
    let _updated: stripe::Subscription = client(state)?
        .post(
            &format!("/v1/subscriptions/{stripe_subscription}"),
            &form,
            &stripe_key(
                &change.scope(&subscription.id).replace(':', "-"),
                &form_key(key, &form),
            ),
        )
        .await
        .map_err(|error| error.to_app_error())?;
    Ok(())
}

/// The part of a Stripe key that a Mighty request's `key` and the `form` it sends make
/// together. A retry under the same Mighty key may have to send other parameters (a pause
/// refused with a 409 because a renewal landed between the read and the write is worked out
/// again from the new period: another `resumes_at`), and Stripe refuses a key reused with
/// other parameters (`idempotency_error`); the same request sent again, the same form
/// included, keeps its Stripe key, so a retry after a Stripe failure is still deduplicated.
pub fn form_key(key: &str, form: &Form) -> String {
    let mut hashed = crate::http::request_hash(key.as_bytes());
    hashed.truncate(24);
    let form_hash = crate::http::request_hash(form.encode().as_bytes());
    format!("{hashed}-{}", &form_hash[..16])
}

/// Calls off a downgrade waiting on Stripe: the item's price goes back to the current tier's,
/// again without proration (before an upgrade, which Stripe prorates from the item's price,
/// or when the shopper chooses the current tier again).
pub async fn call_off_downgrade(
    state: &AppState,
    subscription: &Subscription,
    key: &str,
) -> Result<(), AppError> {
    let stripe_subscription = stripe_subscription_of(state, subscription).await?;
    let form = next_period_price_form(
        state,
        subscription,
        &stripe_subscription,
        &subscription.tier_id,
        subscription.price,
    )
    .await?;
    let _updated: stripe::Subscription = client(state)?
        .post(
            &format!("/v1/subscriptions/{stripe_subscription}"),
            &form,
            &stripe_key(
                "keep-tier",
                &format!("{}-{}", subscription.id, form_key(key, &form)),
            ),
        )
        .await
        .map_err(|error| error.to_app_error())?;
    Ok(())
}

/// The update that bills `price` (tier `tier_id`) from the next period on: the one item's
/// price replaced, `proration_behavior=none`.
async fn next_period_price_form(
    state: &AppState,
    subscription: &Subscription,
    stripe_subscription: &str,
    tier_id: &str,
    price: i64,
) -> Result<Form, AppError> {
    let unit_amount = stripe_amount(price, &subscription.currency, "tier_id")?;
    let mut form = item_price_form(
        client(state)?,
        subscription,
        stripe_subscription,
        unit_amount,
    )
    .await?;
    form.set(&["proration_behavior"], "none")
        .set(&["metadata", "tier_id"], tier_id);
    Ok(form)
}

/// The start of an update that moves the Stripe subscription's one item to `unit_amount` (in
/// Stripe's decimals) per period, same product and interval; the caller adds how to prorate.
async fn item_price_form(
    stripe: &Stripe,
    subscription: &Subscription,
    stripe_subscription: &str,
    unit_amount: i64,
) -> Result<Form, AppError> {
    let current: stripe::Subscription = stripe
        .get(
            &format!("/v1/subscriptions/{stripe_subscription}"),
            &Form::new(),
        )
        .await
        .map_err(|error| error.to_app_error())?;
    let item = current
        .first_item()
        .ok_or_else(|| AppError::Internal("a Stripe subscription without items".into()))?;
    let product = item
        .price
        .as_ref()
        .and_then(|price| price.product.as_ref())
        .and_then(stripe::Expandable::id)
        .ok_or_else(|| AppError::Internal("a Stripe subscription item without a product".into()))?;
    let mut form = Form::new();
    form.set(&["items", "0", "id"], item.id.clone())
        .set(
            &["items", "0", "price_data", "currency"],
            subscription.currency.to_ascii_lowercase(),
        )
        .set(&["items", "0", "price_data", "product"], product)
        .set(
            &["items", "0", "price_data", "unit_amount"],
            unit_amount.to_string(),
        )
        .set(
            &["items", "0", "price_data", "recurring", "interval"],
            subscription.interval.clone(),
        );
    Ok(form)
}

/// Cancels the Stripe subscription of `subscription` at once (one already canceled or gone
/// there counts as canceled).
pub async fn cancel(state: &AppState, subscription: &Subscription) -> Result<(), AppError> {
    let id = subscription.id.clone();
    let Some(stripe_subscription) = state
        .store(move |store| store.subscription_link(&id))
        .await?
        .and_then(|link| link.stripe_subscription_id)
    else {
        return Ok(());
    };
    let stripe = client(state)?;
    match stripe
        .delete::<Value>(&format!("/v1/subscriptions/{stripe_subscription}"))
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if error.is_missing() => Ok(()),
        Err(StripeError::Refused { message, .. }) if message.contains("canceled") => Ok(()),
        Err(error) => Err(error.to_app_error()),
    }
}

/// Refunds a live order through Stripe's refunds endpoint (the whole payment), then marks it
/// refunded here with `order.refunded`.
pub async fn refund(
    state: &AppState,
    seller_id: &str,
    order_id: &str,
) -> Result<crate::store::Order, AppError> {
    let lookup = order_id.to_string();
    let order = state
        .store(move |store| store.order_payment(&lookup))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no order {order_id}")))?;
    if order.seller_id != seller_id {
        return Err(AppError::Forbidden(format!(
            "order {order_id} is not yours"
        )));
    }
    if order.status == "refunded" {
        return Err(AppError::conflict(
            "conflict",
            format!("order {order_id} is already refunded"),
        ));
    }
    let stripe = client(state)?;
    let (field, payment) = match (&order.payment_intent, &order.invoice) {
        (Some(payment_intent), _) => ("payment_intent", payment_intent.clone()),
        (None, Some(invoice)) => invoice_payment(stripe, invoice).await?,
        (None, None) => {
            return Err(AppError::conflict(
                "conflict",
                format!("order {order_id} has no Stripe payment to refund"),
            ));
        }
    };
    let mut form = Form::new();
    form.set(&[field], payment)
        .set(&["metadata", "mighty_order"], order_id);
    let _refund: stripe::Refund = stripe
        .post("/v1/refunds", &form, &stripe_key("refund", order_id))
        .await
        .map_err(|error| error.to_app_error())?;
    let (seller, id, now) = (
        seller_id.to_string(),
        order_id.to_string(),
        state.now_for(seller_id).0,
    );
    let refunded = state
        .store(move |store| store.refund_order(&seller, &id, now))
        .await;
    state.outbox_changed();
    refunded
}

/// What paid an invoice: its payment intent or charge (API versions before 2025-03-31 have
/// them on the invoice; later ones list the invoice's payments).
async fn invoice_payment(
    stripe: &Stripe,
    invoice: &str,
) -> Result<(&'static str, String), AppError> {
    let read: stripe::Invoice = stripe
        .get(&format!("/v1/invoices/{invoice}"), &Form::new())
        .await
        .map_err(|error| error.to_app_error())?;
    if let Some(payment_intent) = read.payment_intent_id() {
        return Ok(("payment_intent", payment_intent));
    }
    if let Some(charge) = read.charge_id() {
        return Ok(("charge", charge));
    }
    let mut query = Form::new();
    query.set(&["invoice"], invoice);
    let payments: stripe::List<Value> = stripe
        .get("/v1/invoice_payments", &query)
        .await
        .map_err(|error| error.to_app_error())?;
    payments
        .data
        .iter()
        .find_map(|payment| {
            let payment = payment.get("payment")?;
            let id = |key: &str| {
                let value = payment.get(key)?;
                value
                    .as_str()
                    .or_else(|| value.get("id")?.as_str())
                    .map(str::to_string)
            };
            id("payment_intent")
                .map(|id| ("payment_intent", id))
                .or_else(|| id("charge").map(|id| ("charge", id)))
        })
        .ok_or_else(|| AppError::conflict("conflict", "the invoice has no payment to refund"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upgrade_is_prorated_at_the_quote_when_it_is_recent() {
        let (start, now) = (1_000_000, 1_000_000 + 10 * 86_400);
        // (quoted at, prorated at)
        let cases = [
            (None, now),
            (Some(now - 60), now - 60),
            (
                Some(now - QUOTE_VALIDITY_SECONDS),
                now - QUOTE_VALIDITY_SECONDS,
            ),
            (Some(now - QUOTE_VALIDITY_SECONDS - 1), now),
            (Some(now + 5), now),
            (Some(start - 1), now),
        ];
        for (quoted_at, expected) in cases {
            assert_eq!(
                proration_date(quoted_at, start, now),
                expected,
                "{quoted_at:?}"
            );
        }
    }

    #[test]
    fn only_the_checkout_session_made_here_speaks_for_a_session() {
        assert!(session_matches(Some("cs_test_1"), "cs_test_1"));
        assert!(!session_matches(Some("cs_test_1"), "cs_test_2"));
        assert!(!session_matches(None, "cs_test_1"));
    }
}
