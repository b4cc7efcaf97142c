//! Time-driven work: open checkout sessions expire after 30 minutes (their drop stock comes
//! back), subscriptions renew at the end of each period, and bundle offer variant tests are
//! recomputed (`crate::bandit`), each on its seller's clock.
//! Runs every few seconds, and at once when a seller's sandbox clock moves.

use std::time::Duration;

use crate::AppState;
use crate::error::AppError;

#[derive(Debug, Default, Clone, Copy)]
pub struct TickReport {
    pub expired_sessions: usize,
    pub renewals: usize,
}

pub async fn tick(state: &AppState) -> Result<TickReport, AppError> {
    // Another instance may have moved a seller's sandbox clock.
    let offsets = state.store(|store| store.clock_offsets()).await?;
    state.clock().replace_offsets(offsets);
    // Each session and subscription is due on its own seller's clock (the store adds the
    // seller's offset to real time).
    let now = crate::clock::real_now();
    // Bundle tests due on their seller's clock get their shares recomputed (both modes); a
    // failure there never holds up expiries and renewals.
    if let Err(error) = crate::bandit::recompute_due(state).await {
        tracing::warn!(%error, "recomputing bundle offer variant tests failed");
    }
    if state.config().live().is_some() {
        // Live mode: each session is expired on Stripe before its stock comes back, and
        // Stripe renews memberships (`invoice.paid` makes the renewal orders).
        let expired_sessions = crate::live::expire_due(state).await?;
        return Ok(TickReport {
            expired_sessions,
            renewals: 0,
        });
    }
    let expired_sessions = state
        .store(move |store| store.expire_due_sessions(now))
        .await?;
    let renewals = state
        .store(move |store| store.renew_due_subscriptions(now))
        .await?;
    if expired_sessions + renewals > 0 {
        state.outbox_changed();
    }
    Ok(TickReport {
        expired_sessions,
        renewals,
    })
}

pub async fn run_forever(state: AppState) {
    loop {
        if let Err(error) = tick(&state).await {
            tracing::warn!(%error, "scheduler tick failed");
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}
