//! The server's clocks: real time, and in the sandbox one clock per seller, real time plus
//! the offset `POST /sandbox/clock/advance` moved that seller's clock by (stored in
//! `seller_clocks`, so it survives restarts and every instance reads the same one). A
//! seller's business time (their sessions, drops, periods, webhook `created`) follows their
//! clock; another seller's advance never moves it. Webhook retry scheduling follows real
//! time.
//!
//! Offsets are cached here and refreshed from storage by each scheduler tick (every few
//! seconds) and at once by this instance's own advance.

use std::collections::HashMap;
use std::sync::RwLock;

use mighty_core::Timestamp;

/// Unix seconds now, without any sandbox offset.
pub fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.as_secs() as i64)
        .unwrap_or_default()
}

/// Each seller's sandbox offset from real time.
#[derive(Debug, Default)]
pub struct Clock {
    offsets: RwLock<HashMap<String, i64>>,
}

impl Clock {
    pub fn new(offsets: impl IntoIterator<Item = (String, i64)>) -> Clock {
        let clock = Clock::default();
        clock.replace_offsets(offsets);
        clock
    }

    /// `seller_id`'s business time.
    pub fn now_for(&self, seller_id: &str) -> Timestamp {
        Timestamp(real_now() + self.offset_of(seller_id))
    }

    pub fn offset_of(&self, seller_id: &str) -> i64 {
        self.offsets
            .read()
            .map(|offsets| offsets.get(seller_id).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    pub fn set_offset(&self, seller_id: &str, seconds: i64) {
        if let Ok(mut offsets) = self.offsets.write() {
            offsets.insert(seller_id.to_string(), seconds);
        }
    }

    /// Takes the offsets as storage has them (another instance may have moved a clock).
    pub fn replace_offsets(&self, offsets: impl IntoIterator<Item = (String, i64)>) {
        if let Ok(mut current) = self.offsets.write() {
            *current = offsets.into_iter().collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_seller_has_their_own_clock() {
        let clock = Clock::new([("sel_a".to_string(), 3_600)]);
        let real = real_now();
        assert!((clock.now_for("sel_a").0 - real - 3_600).abs() <= 1);
        assert!((clock.now_for("sel_b").0 - real).abs() <= 1);
        clock.set_offset("sel_b", 60);
        assert_eq!(clock.offset_of("sel_b"), 60);
        assert_eq!(clock.offset_of("sel_a"), 3_600);
        clock.replace_offsets([]);
        assert_eq!(clock.offset_of("sel_a"), 0);
    }
}
