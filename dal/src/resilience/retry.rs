//! Retries: which failures are worth another attempt, how long to wait before
//! it (exponential backoff with full jitter, within the retry policy), and the
//! bookkeeping every retry loop of dal shares ([`Retry`]).
//!
//! The loops themselves stay with the code that runs the attempts (a checkout
//! in `Db::acquire_conn`, a read or an auto-commit write in `Db`, a
//! transaction closure, an entity's unit of work); each asks a [`Retry`]
//! after a failure and sleeps the delay it gets, or gives up when it gets
//! none. Every retry is reported to a [`RetryObserver`] (telemetry), which
//! logs and counts it and decides nothing.

use std::time::{Duration, Instant};

use super::jitter::full_jitter;
use crate::config::RetryPolicy;
use crate::error::{Error, TimeoutKind};

/// Why a retry happened (the `kind` label of `dal_retries_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryKind {
    /// A read failed transiently.
    Read,
    /// A checkout failed before anything was sent.
    Connect,
    /// A transaction closure hit a serialization failure or deadlock.
    Transaction,
}

impl RetryKind {
    /// Every kind, in the order of their discriminants.
    pub(crate) const ALL: [RetryKind; 3] =
        [RetryKind::Read, RetryKind::Connect, RetryKind::Transaction];

    /// The label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RetryKind::Read => "read",
            RetryKind::Connect => "connect",
            RetryKind::Transaction => "transaction",
        }
    }
}

/// Hears of every retry, to log and count it (telemetry implements it).
pub(crate) trait RetryObserver: Sync {
    /// Attempt `attempt` failed with `cause`; the next one runs after `delay`.
    fn retried(&self, kind: RetryKind, attempt: u32, delay: Duration, cause: &Error);
}

/// The delay before retry number `attempt` (1-based) under `policy`, or
/// `None` when no further retry is allowed: full jitter over
/// `base * 2^(n-1)` capped at `max_delay`, within the total budget counted
/// from `started`.
pub(crate) fn backoff(policy: &RetryPolicy, attempt: u32, started: Instant) -> Option<Duration> {
    if !policy.enabled || attempt >= policy.max_attempts.max(1) {
        return None;
    }
    let exp = policy
        .base_delay
        .saturating_mul(1u32 << (attempt - 1).min(20))
        .min(policy.max_delay);
    let delay = full_jitter(exp);
    (started.elapsed() + delay < policy.budget).then_some(delay)
}

/// Whether a checkout that failed this way is worth another attempt: the
/// failure is transient and happened while connecting. Running out of the
/// acquire timeout (every connection busy) or of the call's own deadline is
/// not retried.
pub(crate) fn reconnectable(e: &Error) -> bool {
    e.is_transient()
        && !matches!(
            e,
            Error::Timeout {
                kind: TimeoutKind::Acquire,
                ..
            }
        )
        && !matches!(
            e,
            Error::Timeout { budget, .. } if *budget != TimeoutKind::Connect
        )
}

/// Whether a read that failed this way is worth running again: the failure
/// is transient and not a timeout (a query that ran out of its time would only
/// run out of it again, multiplying the caller's wait) nor a lock wait that
/// already took the whole busy timeout.
pub(crate) fn rereadable(e: &Error) -> bool {
    e.is_transient() && !matches!(e, Error::Timeout { .. } | Error::Busy { .. })
}

/// Whether an auto-commit unit of work that failed this way was rolled back
/// by the server as a whole (serialization failure, deadlock), so running it
/// again is safe.
pub(crate) fn rolled_back(e: &Error) -> bool {
    matches!(e, Error::Serialization { .. })
}

/// Whether a failed transaction may be re-run from the start.
pub(crate) fn rerunnable(e: &Error, during_commit: bool) -> bool {
    match e {
        Error::Serialization { .. } => true,
        // the transaction was rolled back by the server when the connection died,
        // unless it died during COMMIT (then the outcome is unknown)
        Error::ConnectionLost { .. } => !during_commit,
        _ => e.never_reached_server(),
    }
}

/// The bookkeeping of one retry loop: the policy, when the retrying started
/// (the budget counts from there) and who hears of each retry.
pub(crate) struct Retry<'a> {
    policy: &'a RetryPolicy,
    observer: &'a dyn RetryObserver,
    kind: RetryKind,
    started: Option<Instant>,
}

impl<'a> Retry<'a> {
    /// A loop whose budget starts counting at its first failure.
    pub(crate) fn new(
        policy: &'a RetryPolicy,
        observer: &'a dyn RetryObserver,
        kind: RetryKind,
    ) -> Retry<'a> {
        Retry {
            policy,
            observer,
            kind,
            started: None,
        }
    }

    /// A loop whose budget counts from `started`.
    pub(crate) fn starting(
        policy: &'a RetryPolicy,
        observer: &'a dyn RetryObserver,
        kind: RetryKind,
        started: Instant,
    ) -> Retry<'a> {
        Retry {
            started: Some(started),
            ..Retry::new(policy, observer, kind)
        }
    }

    /// After attempt number `attempt` failed with `cause` (already judged
    /// worth retrying): the delay before the next attempt, when the policy
    /// allows one and `fits` accepts the delay (the call's deadline leaves
    /// time for it). The retry is reported to the observer; `None` means give
    /// up.
    pub(crate) fn next(
        &mut self,
        attempt: u32,
        cause: &Error,
        fits: impl FnOnce(Duration) -> bool,
    ) -> Option<Duration> {
        let started = *self.started.get_or_insert_with(Instant::now);
        let delay = backoff(self.policy, attempt, started).filter(|d| fits(*d))?;
        self.observer.retried(self.kind, attempt, delay, cause);
        Some(delay)
    }

    /// [`next`](Self::next), then sleep the delay; `false` means give up.
    pub(crate) async fn pause(
        &mut self,
        attempt: u32,
        cause: &Error,
        fits: impl FnOnce(Duration) -> bool,
    ) -> bool {
        match self.next(attempt, cause, fits) {
            Some(delay) => {
                tokio::time::sleep(delay).await;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseConfig;

    fn policy(
        f: impl FnOnce(crate::DatabaseConfigBuilder) -> crate::DatabaseConfigBuilder,
    ) -> RetryPolicy {
        *f(DatabaseConfig::builder("sqlite::memory:"))
            .build()
            .unwrap()
            .retry()
    }

    #[test]
    fn backoff_is_full_jitter_capped() {
        let p = policy(|b| {
            b.retry_base_delay(Duration::from_millis(10))
                .retry_max_delay(Duration::from_millis(500))
                .retry_max_attempts(40)
                .retry_budget(Duration::from_secs(3600))
        });
        let start = Instant::now();
        for attempt in 1..31 {
            let cap = (Duration::from_millis(10) * 2u32.pow((attempt - 1).min(10)))
                .min(Duration::from_millis(500));
            // full jitter: uniform over [0, cap) — many draws must stay under
            // the cap, spread over the whole range, and average about cap / 2
            let draws: Vec<Duration> = (0..400)
                .map(|_| backoff(&p, attempt, start).expect("within the policy"))
                .collect();
            assert!(
                draws.iter().all(|d| *d < cap),
                "attempt {attempt}: over {cap:?}"
            );
            let low = draws.iter().filter(|d| **d < cap / 4).count();
            let high = draws.iter().filter(|d| **d >= cap * 3 / 4).count();
            assert!(
                low >= 40 && high >= 40,
                "attempt {attempt}: {low} low, {high} high of 400"
            );
            let mean = draws.iter().sum::<Duration>() / draws.len() as u32;
            assert!(
                mean > cap * 2 / 5 && mean < cap * 3 / 5,
                "attempt {attempt}: mean {mean:?} for a cap of {cap:?}"
            );
        }
    }

    #[test]
    fn backoff_respects_attempts_budget_and_switch() {
        let p = policy(|b| b.retry_max_attempts(3));
        let start = Instant::now();
        assert!(backoff(&p, 1, start).is_some());
        assert!(backoff(&p, 2, start).is_some());
        assert!(backoff(&p, 3, start).is_none(), "3 attempts in all");
        let p = policy(|b| b.retry_budget(Duration::from_millis(1)));
        let long_ago = Instant::now() - Duration::from_secs(1);
        assert!(backoff(&p, 1, long_ago).is_none(), "budget spent");
        let p = policy(|b| b.retry_enabled(false));
        assert!(backoff(&p, 1, Instant::now()).is_none());
    }

    #[test]
    fn retries_are_reported_and_bounded_by_the_deadline() {
        struct Count(std::sync::atomic::AtomicU32);
        impl RetryObserver for Count {
            fn retried(&self, kind: RetryKind, _: u32, _: Duration, _: &Error) {
                assert_eq!(kind, RetryKind::Read);
                self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let p = policy(|b| b.retry_max_attempts(3));
        let seen = Count(Default::default());
        let mut r = Retry::new(&p, &seen, RetryKind::Read);
        let cause = Error::PoolClosed;
        assert!(r.next(1, &cause, |_| false).is_none(), "no time left");
        assert!(r.next(1, &cause, |_| true).is_some());
        assert!(r.next(2, &cause, |_| true).is_some());
        assert!(r.next(3, &cause, |_| true).is_none(), "3 attempts in all");
        assert_eq!(seen.0.load(std::sync::atomic::Ordering::Relaxed), 2);
    }
}
