//! The card's decisions around a purchase, data in and data out: where its checkout stands
//! ([`CheckoutPhase`], changed only by named events), which offer a redirect-mode return
//! resumes, and what the card offers next once one is paid; and the rest of the card's one
//! state ([`CardState`]): its demo and its view measurement, each changed by named events.
//! The widget does the I/O (sessionStorage, the partner, the video) and draws the answer;
//! nothing here touches a browser.

use crate::listing::{OfferKind, Tier};
use crate::{Listing, Offer};

/// Where a card's checkout stands: one value instead of flags. Only [`CheckoutPhase::after`]
/// changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckoutPhase {
    /// Nothing under way: a checkout button starts one.
    #[default]
    Idle,
    /// The session is being created (the POST and its retries).
    Opening,
    /// The partner's price differs from the one shown: waiting for Continue or Cancel.
    AwaitingShopper,
    /// The shopper is on the partner's page (the popup, or the page itself in redirect mode).
    WithPartner,
    /// Back from a redirect-mode checkout: asking the partner how it ended.
    Checking,
    /// A membership is being moved to another tier (its price first, then the change).
    ChangingTier,
}

/// What happens to a card's checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutEvent {
    /// A checkout button (or Try again, Buy again) was pressed.
    Press,
    /// The session exists, at another price than the one shown.
    PriceChanged,
    /// The shopper is sent to the partner's page.
    ToPartner,
    /// The shopper accepted the new price.
    Continue,
    /// The shopper turned the new price down.
    Dismiss,
    /// The page came back from the partner with a session to check.
    ReturnFound,
    /// An upgrade (or its price) was asked for.
    TierChange,
    /// It ended: paid, declined, expired, refused, unreachable, closed, or a tier changed.
    Ended,
}

impl CheckoutPhase {
    /// The phase after `event`, or `None` when the event does not apply now: a second press
    /// while a checkout is under way is ignored (a double click makes one session).
    pub fn after(self, event: CheckoutEvent) -> Option<CheckoutPhase> {
        use CheckoutEvent as Event;
        use CheckoutPhase as Phase;
        Some(match (self, event) {
            (Phase::Idle, Event::Press) => Phase::Opening,
            (Phase::Idle, Event::ReturnFound) => Phase::Checking,
            (Phase::Idle, Event::TierChange) => Phase::ChangingTier,
            (Phase::Opening, Event::PriceChanged) => Phase::AwaitingShopper,
            (Phase::Opening | Phase::AwaitingShopper, Event::ToPartner) => Phase::WithPartner,
            (Phase::AwaitingShopper, Event::Continue) => Phase::WithPartner,
            (Phase::AwaitingShopper, Event::Dismiss) => Phase::Idle,
            (_, Event::Ended) => Phase::Idle,
            _ => return None,
        })
    }

    /// Whether a checkout (or a tier change) is under way: the card's buttons wait.
    pub fn is_busy(self) -> bool {
        self != CheckoutPhase::Idle
    }
}

/// What the card tells the shopper about a checkout, moment by moment (the text is the
/// widget's, in the shopper's language; what the panel does is decided here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// The session is being created.
    Opening,
    /// The partner was slow or busy: trying again with the same key.
    SlowToAnswer,
    /// The page itself goes to the partner (redirect mode).
    ToPartnerPage,
    /// The partner's page is open in the popup.
    InPopup,
    /// Back from the partner: asking how it ended.
    Checking,
    /// The session exists at another price than the one shown.
    PriceChanged,
    /// The shopper closed the popup before paying.
    PopupClosed,
    /// Paid; `next_offer` when something follows (the membership, the next tier).
    Paid { next_offer: bool },
    /// The payment was declined.
    Declined,
    /// The session expired before the payment.
    Expired,
    /// Back from the partner with the session still open: not paid.
    NotCompleted,
    /// Back from the partner, but the partner could not be asked.
    Unconfirmed,
    /// No usable answer after every attempt (network, timeout, 5xx, 429).
    Unreachable,
    /// The partner refused the checkout (409, 422); `conflict` for a dead idempotency key.
    Refused { conflict: bool },
    /// The listing names no checkout endpoint.
    NoEndpoint,
    /// The partner's `redirect_url` is not one a shopper may be sent to.
    InsecureRedirect,
    /// The popup could not be sent to the partner's page.
    PopupFailed,
}

/// How a panel reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Error,
}

/// A panel button, by what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelButton {
    /// The same intent again, with the same Idempotency-Key: nothing is charged twice.
    SameKey,
    /// A new intent for the same offer, with a new key (the old session ended or is dead).
    NewKey,
    /// Go on at the new price.
    Continue,
    /// Turn the new price down.
    Cancel,
    /// What comes next after a purchase ([`next_offer`]).
    NextOffer,
}

/// What the panel does at a [`Moment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PanelPlan {
    pub tone: Tone,
    pub primary: Option<PanelButton>,
    pub secondary: Option<PanelButton>,
    /// The checkout is over ([`CheckoutEvent::Ended`]): the offers' buttons act again.
    pub ends: bool,
    /// The `mighty:checkout-error` code this moment reports, when it is the card's own (the
    /// partner's refusals and the unreachable reasons carry theirs).
    pub error_code: Option<&'static str>,
}

/// The panel of each moment of a checkout.
pub fn panel_for(moment: Moment) -> PanelPlan {
    use PanelButton::*;
    let plan = |tone, primary, secondary, ends, error_code| PanelPlan {
        tone,
        primary,
        secondary,
        ends,
        error_code,
    };
    match moment {
        Moment::Opening
        | Moment::SlowToAnswer
        | Moment::ToPartnerPage
        | Moment::InPopup
        | Moment::Checking => plan(Tone::Info, None, None, false, None),
        Moment::PriceChanged => plan(Tone::Info, Some(Continue), Some(Cancel), false, None),
        Moment::PopupClosed => plan(Tone::Info, Some(SameKey), None, true, None),
        Moment::Paid { next_offer } => plan(
            Tone::Success,
            next_offer.then_some(NextOffer),
            None,
            true,
            None,
        ),
        Moment::Declined => plan(
            Tone::Error,
            Some(NewKey),
            None,
            true,
            Some("payment_failed"),
        ),
        Moment::Expired => plan(
            Tone::Error,
            Some(NewKey),
            None,
            true,
            Some("session_expired"),
        ),
        Moment::NotCompleted => plan(Tone::Info, None, None, true, None),
        Moment::Unconfirmed => plan(Tone::Error, None, None, true, None),
        Moment::Unreachable => plan(Tone::Error, Some(SameKey), None, true, None),
        Moment::Refused { conflict } => {
            plan(Tone::Error, conflict.then_some(NewKey), None, true, None)
        }
        Moment::NoEndpoint => plan(Tone::Error, None, None, true, Some("no_checkout")),
        Moment::InsecureRedirect => plan(Tone::Error, None, None, true, Some("insecure_redirect")),
        Moment::PopupFailed => plan(Tone::Error, Some(SameKey), None, true, Some("popup_failed")),
    }
}

/// What a redirect-mode checkout keeps (in `sessionStorage`, beside the session's secret)
/// for the return: the offer and, for a membership, the tier, as `"<offer>"` or
/// `"<offer> <tier>"` (ids are `[A-Za-z0-9_-]`, so a space cannot be part of one).
pub fn kept_offer(offer_id: &str, tier_id: Option<&str>) -> String {
    match tier_id {
        Some(tier_id) => format!("{offer_id} {tier_id}"),
        None => offer_id.to_string(),
    }
}

/// The offer (and tier) a redirect return resumes: the one its checkout kept, by id. The
/// session itself does not say which offer it was for, and matching its amount to a price
/// is wrong as soon as two offers share one; without what was kept (another browser, storage
/// refused, a listing changed since) the answer is `None` and the card names no offer.
pub fn resume_offer<'a>(
    listing: &'a Listing,
    kept: Option<&str>,
) -> Option<(&'a Offer, Option<&'a Tier>)> {
    let mut ids = kept?.split(' ');
    let (offer_id, tier_id) = (ids.next()?, ids.next());
    if ids.next().is_some() {
        return None;
    }
    let offer = listing.offers.iter().find(|offer| offer.id == offer_id)?;
    match (&offer.kind, tier_id) {
        (OfferKind::Bundle(_), None) => Some((offer, None)),
        (OfferKind::Retainer(retainer), Some(tier_id)) => {
            let tier = retainer.tiers.iter().find(|tier| tier.id == tier_id)?;
            Some((offer, Some(tier)))
        }
        _ => None,
    }
}

/// What the confirmation offers once something is paid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NextStep<'a> {
    /// After a bundle: join the listing's membership, at its first tier.
    Join { offer: &'a Offer, tier: &'a Tier },
    /// After a membership, when the card holds it (its customer token): the next tier up,
    /// the cheapest above the one paid, on the same subscription.
    Upgrade { tier: &'a Tier },
}

/// The next offer after `offer_id` (with `tier_id` for a membership) was paid; `membership_held`
/// says whether the card received the membership's customer token (only the browser that
/// paid does), without which no upgrade can be made from the card.
pub fn next_offer<'a>(
    listing: &'a Listing,
    offer_id: &str,
    tier_id: Option<&str>,
    membership_held: bool,
) -> Option<NextStep<'a>> {
    let paid = listing.offers.iter().find(|offer| offer.id == offer_id)?;
    match &paid.kind {
        OfferKind::Bundle(_) => listing.offers.iter().find_map(|offer| match &offer.kind {
            OfferKind::Retainer(retainer) => Some(NextStep::Join {
                offer,
                tier: retainer.tiers.first()?,
            }),
            OfferKind::Bundle(_) => None,
        }),
        OfferKind::Retainer(retainer) if membership_held => {
            let now = retainer
                .tiers
                .iter()
                .find(|tier| Some(tier.id.as_str()) == tier_id)?;
            retainer
                .tiers
                .iter()
                .filter(|tier| tier.price.minor > now.price.minor)
                .min_by_key(|tier| tier.price.minor)
                .map(|tier| NextStep::Upgrade { tier })
        }
        OfferKind::Retainer(_) => None,
    }
}

/// The card's whole state after its first render, one value: where its checkout stands, its
/// demo, its view measurement and whether its testimonial may rotate. Each part changes only
/// by its named events ([`CheckoutPhase::after`], [`Demo::after`], [`Sighting::after`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CardState {
    pub checkout: CheckoutPhase,
    pub demo: Demo,
    pub sighting: Sighting,
    /// The testimonial line is hovered or focused: it does not rotate.
    pub quote_held: bool,
}

/// The creator demo: whose demo is shown (index in the listing's `creators`), whether the
/// shopper paused it (then it does not play again on its own), whether `demo-play` was
/// reported for this creator, whether the video failed (then nothing plays it), and what its
/// controls show: playing or not, sound on or not, how far it has played, and whether its
/// captions were given up (a caption host that refuses CORS). The card draws the demo from
/// this value alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Demo {
    pub creator: usize,
    pub paused_by_shopper: bool,
    pub play_reported: bool,
    pub failed: bool,
    pub playing: bool,
    pub sounding: bool,
    /// Percent played, 0 to 100.
    pub progress: u8,
    pub without_captions: bool,
}

/// What happens to the demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoEvent {
    /// The shopper chose creator `index` (a chip): a new demo, played at once. The sound stays
    /// as the shopper set it.
    Switch(usize),
    /// The shopper pressed play (or unmuted a paused demo).
    ShopperPlay,
    /// The shopper pressed pause.
    ShopperPause,
    /// The video is playing.
    Playing,
    /// The video paused (the shopper, the card scrolling away, or the browser).
    Paused,
    /// The video ended: it stays paused until the shopper plays it.
    Ended,
    /// The video cannot play here.
    Failed,
    /// The sound was turned on (`true`) or off.
    Sound(bool),
    /// The video has played this many percent (clamped to 100).
    Progress(u8),
    /// The captions' host refused them: the demo plays on without.
    CaptionsRefused,
}

impl Demo {
    /// The demo after `event`, and whether `demo-play` is to be reported now (once per
    /// creator shown: a replay after a pause is the same view of the demo).
    pub fn after(self, event: DemoEvent) -> (Demo, bool) {
        let next = match event {
            DemoEvent::Switch(creator) => Demo {
                creator,
                sounding: self.sounding,
                ..Demo::default()
            },
            DemoEvent::ShopperPlay => Demo {
                paused_by_shopper: false,
                ..self
            },
            DemoEvent::ShopperPause => Demo {
                paused_by_shopper: true,
                ..self
            },
            DemoEvent::Ended => Demo {
                paused_by_shopper: true,
                playing: false,
                ..self
            },
            DemoEvent::Playing => Demo {
                play_reported: true,
                playing: true,
                ..self
            },
            DemoEvent::Paused => Demo {
                playing: false,
                ..self
            },
            DemoEvent::Failed => Demo {
                failed: true,
                playing: false,
                ..self
            },
            DemoEvent::Sound(sounding) => Demo { sounding, ..self },
            DemoEvent::Progress(percent) => Demo {
                progress: percent.min(100),
                ..self
            },
            DemoEvent::CaptionsRefused => Demo {
                without_captions: true,
                ..self
            },
        };
        let report = event == DemoEvent::Playing && !self.play_reported;
        (next, report)
    }

    /// Whether the demo plays now that the card became at least half visible: not after the
    /// shopper paused it, not once it failed, never on its own under reduced motion.
    pub fn plays_when_visible(self, reduced_motion: bool) -> bool {
        !self.paused_by_shopper && !self.failed && !reduced_motion
    }
}

/// The card's view measurement (SPEC section 6): `mighty:view` once per mount, after the card
/// stayed at least half visible for one whole second. `changes` counts visibility changes, so
/// a second that saw one is not a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sighting {
    pub changes: u32,
    pub view_reported: bool,
}

/// What happens to the card's visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SightingEvent {
    /// The card became at least half visible (`true`) or stopped being so.
    Visible(bool),
    /// One second passed since visibility change number `change`.
    SecondAfter(u32),
}

/// What the widget does after a [`SightingEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SightingStep {
    Nothing,
    /// Wait one second, then tell [`SightingEvent::SecondAfter`] with this change number.
    WaitASecond(u32),
    /// Report `mighty:view`.
    ReportView,
}

impl Sighting {
    pub fn after(self, event: SightingEvent) -> (Sighting, SightingStep) {
        match event {
            SightingEvent::Visible(visible) => {
                let changes = self.changes.wrapping_add(1);
                let next = Sighting { changes, ..self };
                if visible && !self.view_reported {
                    (next, SightingStep::WaitASecond(changes))
                } else {
                    (next, SightingStep::Nothing)
                }
            }
            SightingEvent::SecondAfter(change) if change == self.changes && !self.view_reported => {
                (
                    Sighting {
                        view_reported: true,
                        ..self
                    },
                    SightingStep::ReportView,
                )
            }
            SightingEvent::SecondAfter(_) => (self, SightingStep::Nothing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_listing;

    /// Two bundles at one price (the case matching by amount got wrong), and a membership
    /// whose tiers are listed out of price order.
    fn listing() -> Listing {
        parse_listing(
            r#"{"version": 1, "id": "candles", "title": "Candles", "currency": "EUR",
                "offers": [
                  {"id": "lavender", "kind": "bundle", "name": "Lavender", "price": 2400},
                  {"id": "cedar", "kind": "bundle", "name": "Cedar", "price": 2400},
                  {"id": "club", "kind": "retainer", "name": "Club", "tiers": [
                    {"id": "monthly", "name": "Monthly", "price": 1500, "interval": "month"},
                    {"id": "max", "name": "Max", "price": 4000, "interval": "month"},
                    {"id": "plus", "name": "Plus", "price": 2500, "interval": "month"}]}]}"#,
        )
        .unwrap()
    }

    fn ids<'a>(found: Option<(&'a Offer, Option<&'a Tier>)>) -> Option<(&'a str, Option<&'a str>)> {
        found.map(|(offer, tier)| (offer.id.as_str(), tier.map(|tier| tier.id.as_str())))
    }

    #[test]
    fn the_checkout_phase_changes_only_by_its_events() {
        use CheckoutEvent::*;
        use CheckoutPhase::*;
        let phases = [
            Idle,
            Opening,
            AwaitingShopper,
            WithPartner,
            Checking,
            ChangingTier,
        ];
        let events = [
            Press,
            PriceChanged,
            ToPartner,
            Continue,
            Dismiss,
            ReturnFound,
            TierChange,
            Ended,
        ];
        // Every pair not listed here does not apply (None).
        let allowed = [
            (Idle, Press, Opening),
            (Idle, ReturnFound, Checking),
            (Idle, TierChange, ChangingTier),
            (Opening, PriceChanged, AwaitingShopper),
            (Opening, ToPartner, WithPartner),
            (AwaitingShopper, ToPartner, WithPartner),
            (AwaitingShopper, Continue, WithPartner),
            (AwaitingShopper, Dismiss, Idle),
            (Idle, Ended, Idle),
            (Opening, Ended, Idle),
            (AwaitingShopper, Ended, Idle),
            (WithPartner, Ended, Idle),
            (Checking, Ended, Idle),
            (ChangingTier, Ended, Idle),
        ];
        for phase in phases {
            for event in events {
                let expected = allowed
                    .iter()
                    .find(|(from, on, _)| *from == phase && *on == event)
                    .map(|(_, _, to)| *to);
                assert_eq!(phase.after(event), expected, "{phase:?} on {event:?}");
            }
        }
        // A double click: the second press finds a checkout under way and is ignored.
        let opening = Idle.after(Press).unwrap();
        assert!(opening.is_busy());
        assert_eq!(opening.after(Press), None);
        assert!(!Idle.is_busy());
    }

    #[test]
    fn each_moment_has_its_panel() {
        use PanelButton::*;
        use Tone::*;
        // (moment, tone, primary, secondary, ends, error code)
        let table = [
            (Moment::Opening, Info, None, None, false, None),
            (Moment::SlowToAnswer, Info, None, None, false, None),
            (Moment::ToPartnerPage, Info, None, None, false, None),
            (Moment::InPopup, Info, None, None, false, None),
            (Moment::Checking, Info, None, None, false, None),
            (
                Moment::PriceChanged,
                Info,
                Some(Continue),
                Some(Cancel),
                false,
                None,
            ),
            // Reopening a closed popup reuses the key: nothing was charged, nothing will twice.
            (Moment::PopupClosed, Info, Some(SameKey), None, true, None),
            (
                Moment::Paid { next_offer: true },
                Success,
                Some(NextOffer),
                None,
                true,
                None,
            ),
            (
                Moment::Paid { next_offer: false },
                Success,
                None,
                None,
                true,
                None,
            ),
            // A declined or expired session is over: trying again is a new intent, a new key.
            (
                Moment::Declined,
                Error,
                Some(NewKey),
                None,
                true,
                Some("payment_failed"),
            ),
            (
                Moment::Expired,
                Error,
                Some(NewKey),
                None,
                true,
                Some("session_expired"),
            ),
            (Moment::NotCompleted, Info, None, None, true, None),
            (Moment::Unconfirmed, Error, None, None, true, None),
            // No answer after the retries: the same key again, so a late success is not doubled.
            (Moment::Unreachable, Error, Some(SameKey), None, true, None),
            (
                Moment::Refused { conflict: false },
                Error,
                None,
                None,
                true,
                None,
            ),
            (
                Moment::Refused { conflict: true },
                Error,
                Some(NewKey),
                None,
                true,
                None,
            ),
            (
                Moment::NoEndpoint,
                Error,
                None,
                None,
                true,
                Some("no_checkout"),
            ),
            (
                Moment::InsecureRedirect,
                Error,
                None,
                None,
                true,
                Some("insecure_redirect"),
            ),
            (
                Moment::PopupFailed,
                Error,
                Some(SameKey),
                None,
                true,
                Some("popup_failed"),
            ),
        ];
        for (moment, tone, primary, secondary, ends, error_code) in table {
            assert_eq!(
                panel_for(moment),
                PanelPlan {
                    tone,
                    primary,
                    secondary,
                    ends,
                    error_code
                },
                "{moment:?}"
            );
        }
    }

    #[test]
    fn a_redirect_return_resumes_the_offer_it_kept_by_id() {
        let listing = listing();
        for (kept, resumed) in [
            // Two offers at one price: the kept one, not the first with that price.
            (Some(kept_offer("cedar", None)), Some(("cedar", None))),
            (Some(kept_offer("lavender", None)), Some(("lavender", None))),
            (
                Some(kept_offer("club", Some("plus"))),
                Some(("club", Some("plus"))),
            ),
            // Nothing kept (another browser, storage refused): no offer is named.
            (None, None),
            (Some(String::new()), None),
            // Kept for a listing that changed since, or garbled: not guessed.
            (Some(kept_offer("gone", None)), None),
            (Some(kept_offer("club", Some("gone"))), None),
            (Some(kept_offer("club", None)), None),
            (Some(kept_offer("cedar", Some("plus"))), None),
            (Some("club plus extra".to_string()), None),
        ] {
            assert_eq!(
                ids(resume_offer(&listing, kept.as_deref())),
                resumed,
                "{kept:?}"
            );
        }
    }

    #[test]
    fn what_comes_next_after_each_purchase() {
        let listing = listing();
        let next = |offer, tier, held| match next_offer(&listing, offer, tier, held) {
            Some(NextStep::Join { offer, tier }) => Some(format!("join {} {}", offer.id, tier.id)),
            Some(NextStep::Upgrade { tier }) => Some(format!("upgrade {}", tier.id)),
            None => None,
        };
        for (offer, tier, held, expected) in [
            ("lavender", None, false, Some("join club monthly")),
            ("cedar", None, true, Some("join club monthly")),
            // The cheapest tier above, whatever the order of the list.
            ("club", Some("monthly"), true, Some("upgrade plus")),
            ("club", Some("plus"), true, Some("upgrade max")),
            ("club", Some("max"), true, None),
            // Without the customer token the card cannot upgrade anything.
            ("club", Some("monthly"), false, None),
            ("club", Some("gone"), true, None),
            ("gone", None, true, None),
        ] {
            assert_eq!(
                next(offer, tier, held).as_deref(),
                expected,
                "{offer} {tier:?} held={held}"
            );
        }
        // A listing with no membership offers nothing after a bundle.
        let bundles_only = parse_listing(
            r#"{"version": 1, "id": "x", "title": "X", "currency": "EUR",
                "offers": [{"id": "a", "kind": "bundle", "name": "A", "price": 100}]}"#,
        )
        .unwrap();
        assert_eq!(next_offer(&bundles_only, "a", None, true), None);
    }

    #[test]
    fn the_demo_changes_only_by_its_events() {
        use DemoEvent::*;
        let fresh = Demo::default();
        let paused = Demo {
            paused_by_shopper: true,
            ..fresh
        };
        let reported = Demo {
            play_reported: true,
            playing: true,
            ..fresh
        };
        let failed = Demo {
            failed: true,
            ..fresh
        };
        let on_two = |demo: Demo| Demo { creator: 2, ..demo };
        // (before, event, after, report demo-play)
        let table = [
            (fresh, Playing, reported, true),
            (reported, Playing, reported, false),
            (on_two(reported), Playing, on_two(reported), false),
            (paused, ShopperPlay, fresh, false),
            (fresh, ShopperPause, paused, false),
            // The shopper's pause is the press; the video's own pause event stops the "playing".
            (
                reported,
                Paused,
                Demo {
                    playing: false,
                    ..reported
                },
                false,
            ),
            (
                reported,
                Ended,
                Demo {
                    paused_by_shopper: true,
                    playing: false,
                    ..reported
                },
                false,
            ),
            (
                reported,
                Failed,
                Demo {
                    failed: true,
                    playing: false,
                    ..reported
                },
                false,
            ),
            (fresh, Failed, failed, false),
            (
                fresh,
                Sound(true),
                Demo {
                    sounding: true,
                    ..fresh
                },
                false,
            ),
            (
                Demo {
                    sounding: true,
                    ..fresh
                },
                Sound(false),
                fresh,
                false,
            ),
            (
                fresh,
                Progress(42),
                Demo {
                    progress: 42,
                    ..fresh
                },
                false,
            ),
            (
                fresh,
                Progress(250),
                Demo {
                    progress: 100,
                    ..fresh
                },
                false,
            ),
            (
                fresh,
                CaptionsRefused,
                Demo {
                    without_captions: true,
                    ..fresh
                },
                false,
            ),
            // Another creator: a demo of its own, reported again, not paused, not failed, not
            // played, with its captions; the sound stays as the shopper set it.
            (
                Demo {
                    paused_by_shopper: true,
                    play_reported: true,
                    failed: true,
                    creator: 1,
                    playing: true,
                    sounding: true,
                    progress: 80,
                    without_captions: true,
                },
                Switch(2),
                on_two(Demo {
                    sounding: true,
                    ..fresh
                }),
                false,
            ),
            (on_two(fresh), Playing, on_two(reported), true),
        ];
        for (before, event, after, report) in table {
            assert_eq!(before.after(event), (after, report), "{before:?} {event:?}");
        }
    }

    #[test]
    fn the_demo_plays_when_visible_unless_paused_failed_or_reduced_motion() {
        let fresh = Demo::default();
        assert!(fresh.plays_when_visible(false));
        assert!(!fresh.plays_when_visible(true));
        let (paused, _) = fresh.after(DemoEvent::ShopperPause);
        assert!(!paused.plays_when_visible(false));
        let (ended, _) = fresh.after(DemoEvent::Ended);
        assert!(!ended.plays_when_visible(false));
        let (failed, _) = fresh.after(DemoEvent::Failed);
        assert!(!failed.plays_when_visible(false));
        let (switched, _) = failed.after(DemoEvent::Switch(1));
        assert!(switched.plays_when_visible(false));
    }

    #[test]
    fn a_view_is_one_whole_second_half_visible_once_per_mount() {
        use SightingEvent::*;
        use SightingStep::*;
        let mut sighting = Sighting::default();
        let mut step = |event| {
            let (next, what) = sighting.after(event);
            sighting = next;
            what
        };
        // Visible, hidden within the second, visible again: only the last second counts.
        assert_eq!(step(Visible(true)), WaitASecond(1));
        assert_eq!(step(Visible(false)), Nothing);
        assert_eq!(step(SecondAfter(1)), Nothing);
        assert_eq!(step(Visible(true)), WaitASecond(3));
        assert_eq!(step(SecondAfter(3)), ReportView);
        // Once per mount: later seconds of visibility report nothing.
        assert_eq!(step(SecondAfter(3)), Nothing);
        assert_eq!(step(Visible(false)), Nothing);
        assert_eq!(step(Visible(true)), Nothing);
        assert_eq!(step(SecondAfter(5)), Nothing);
        assert_eq!(
            sighting,
            Sighting {
                changes: 5,
                view_reported: true
            }
        );
    }
}
