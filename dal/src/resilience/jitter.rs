//! Jitter: spreading retries of many callers over time so they do not hit a
//! recovering database in step.

use std::time::Duration;

/// A delay drawn uniformly from `[0, cap)` ("full jitter"); zero when `cap`
/// is zero.
pub(crate) fn full_jitter(cap: Duration) -> Duration {
    let nanos = cap.as_nanos().clamp(1, u64::MAX as u128) as u64;
    Duration::from_nanos(rand::random::<u64>() % nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_under_the_cap() {
        let cap = Duration::from_millis(5);
        assert!((0..1000).all(|_| full_jitter(cap) < cap));
        assert_eq!(full_jitter(Duration::ZERO), Duration::ZERO);
    }
}
