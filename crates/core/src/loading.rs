//! Fetching a host's listing when it fails (SPEC section 2): which failures pass by
//! themselves, so the host's fallback stays and the widget tries again, and when it tries.
//! A refusal (a 4xx other than 408 and 429) or an invalid document is the site owner's to
//! fix and gets its notice at once.

/// Whether a listing server's answer `status` (not 2xx) may pass by itself: a server error,
/// a request timeout or too many requests.
pub fn answer_is_passing(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

/// The first wait before trying again, in milliseconds.
pub const FIRST_RETRY_MS: u32 = 2_000;
/// The longest wait between two tries.
pub const LONGEST_RETRY_MS: u32 = 300_000;

/// How long to wait after the `failures`-th failure in a row (1 for the first) before the
/// next try: 2 s, then twice as long each time, at most 5 min. `Mighty.refresh()` tries at
/// once whatever the wait.
pub fn retry_delay_ms(failures: u32) -> u32 {
    let doublings = failures.saturating_sub(1).min(31);
    FIRST_RETRY_MS
        .saturating_mul(1u32 << doublings.min(16))
        .min(LONGEST_RETRY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_answers_are_server_errors_timeouts_and_rate_limits() {
        for (status, passing) in [
            (500, true),
            (502, true),
            (503, true),
            (504, true),
            (599, true),
            (408, true),
            (429, true),
            (400, false),
            (401, false),
            (403, false),
            (404, false),
            (410, false),
            (422, false),
            (301, false),
        ] {
            assert_eq!(answer_is_passing(status), passing, "{status}");
        }
    }

    #[test]
    fn retries_back_off_to_five_minutes() {
        for (failures, wait) in [
            (0, 2_000),
            (1, 2_000),
            (2, 4_000),
            (3, 8_000),
            (4, 16_000),
            (5, 32_000),
            (6, 64_000),
            (7, 128_000),
            (8, 256_000),
            (9, 300_000),
            (40, 300_000),
            (u32::MAX, 300_000),
        ] {
            assert_eq!(retry_delay_ms(failures), wait, "after {failures} failures");
        }
    }
}
