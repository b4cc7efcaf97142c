//! The server's clock: real time plus the sandbox offset that `POST /sandbox/clock/advance`
//! moves forward (stored, so it survives restarts and is shared by instances). Business time
//! (sessions, drops, periods, webhook `created`) follows it; webhook retry scheduling follows
//! real time.

use std::sync::atomic::{AtomicI64, Ordering};

use mighty_core::Timestamp;

/// Unix seconds now, without the sandbox offset.
pub fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.as_secs() as i64)
        .unwrap_or_default()
}

#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    pub fn new(offset_seconds: i64) -> Clock {
        Clock {
            offset_seconds: AtomicI64::new(offset_seconds),
        }
    }

    pub fn now(&self) -> Timestamp {
        Timestamp(real_now() + self.offset_seconds())
    }

    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }

    pub fn set_offset(&self, seconds: i64) {
        self.offset_seconds.store(seconds, Ordering::Relaxed);
    }
}
