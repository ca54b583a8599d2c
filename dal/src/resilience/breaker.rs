//! The circuit breaker of one database.
//!
//! Closed: calls go through; infrastructure failures (lost connections,
//! timeouts, refused connects, server overload) are counted in a sliding
//! window. The circuit opens after `failure_threshold` consecutive failures, or
//! when at least `minimum_calls` calls in the window failed at `failure_rate` or
//! more. Open: calls fail at once with [`Error::CircuitOpen`] for
//! `open_duration`. Half-open: `half_open_calls` trial calls go through; as many
//! successes close the circuit, one failure opens it again. Failures of the
//! statement itself (constraint violations, bad SQL) are successes here: the
//! database answered.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::config::BreakerPolicy;
use crate::error::{Error, TimeoutKind};

/// The state of a circuit breaker (serialized as `"closed"`, `"open"`,
/// `"half_open"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are rejected at once.
    Open,
    /// A few trial calls go through to see whether the database is back.
    HalfOpen,
    /// The breaker is turned off in the configuration.
    Disabled,
}

impl BreakerState {
    /// `closed`, `open`, `half_open` or `disabled`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
            BreakerState::Disabled => "disabled",
        }
    }

    /// The value of the `dal_breaker_state` gauge: 0 closed (or disabled), 1
    /// half-open, 2 open.
    pub fn gauge_value(self) -> f64 {
        match self {
            BreakerState::Closed | BreakerState::Disabled => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        }
    }
}

impl std::fmt::Display for BreakerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const CLOSED: u8 = 0;
const OPEN: u8 = 1;
const HALF_OPEN: u8 = 2;

/// Buckets of the sliding window.
const BUCKETS: usize = 10;

#[derive(Clone, Copy, Default)]
struct Bucket {
    /// Which slice of time the counts belong to.
    epoch: u64,
    calls: u32,
    failures: u32,
}

struct Inner {
    buckets: [Bucket; BUCKETS],
    consecutive: u32,
    opened_at: Option<Instant>,
    /// Half-open: trial calls let through and successes seen.
    trials: u32,
    trial_successes: u32,
    trials_since: Option<Instant>,
}

/// A state change, reported to the caller for logging and counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transition {
    pub from: BreakerState,
    pub to: BreakerState,
}

/// What a call learned about the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The database answered (with rows or with an error about the statement).
    Answered,
    /// An infrastructure failure.
    Failed,
}

impl Outcome {
    pub(crate) fn of<T>(r: &Result<T, Error>) -> Outcome {
        match r {
            Err(e) if e.is_infrastructure() => Outcome::Failed,
            _ => Outcome::Answered,
        }
    }

    /// What a checkout that failed before any statement was sent says about
    /// the database, if anything: an open circuit is the breaker's own
    /// answer, and running out of the acquire timeout is local capacity
    /// (every connection busy), not a sign that the database is failing.
    pub(crate) fn of_checkout(e: &Error) -> Option<Outcome> {
        let counts = !matches!(
            e,
            Error::CircuitOpen { .. }
                | Error::Timeout {
                    kind: TimeoutKind::Acquire,
                    ..
                }
        );
        counts.then(|| {
            if e.is_infrastructure() {
                Outcome::Failed
            } else {
                Outcome::Answered
            }
        })
    }
}

/// Hears what the breaker did, to log and count it (telemetry implements it).
pub(crate) trait BreakerObserver: Sync {
    /// The breaker changed state.
    fn transitioned(&self, t: Transition);
    /// A call was rejected because the circuit is open.
    fn rejected(&self);
}

pub(crate) struct Breaker {
    policy: BreakerPolicy,
    name: String,
    state: AtomicU8,
    inner: Mutex<Inner>,
    start: Instant,
    bucket_ns: u64,
    /// Calls rejected while open.
    pub(crate) rejected: AtomicU64,
    /// State changes so far.
    pub(crate) transitions: AtomicU64,
}

impl Breaker {
    pub(crate) fn new(policy: BreakerPolicy, name: &str) -> Breaker {
        let bucket_ns = (policy.window.as_nanos() as u64 / BUCKETS as u64).max(1);
        Breaker {
            policy,
            name: name.to_string(),
            state: AtomicU8::new(CLOSED),
            inner: Mutex::new(Inner {
                buckets: [Bucket::default(); BUCKETS],
                consecutive: 0,
                opened_at: None,
                trials: 0,
                trial_successes: 0,
                trials_since: None,
            }),
            start: Instant::now(),
            bucket_ns,
            rejected: AtomicU64::new(0),
            transitions: AtomicU64::new(0),
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        if !self.policy.enabled {
            return BreakerState::Disabled;
        }
        match self.state.load(Ordering::Acquire) {
            OPEN => BreakerState::Open,
            HALF_OPEN => BreakerState::HalfOpen,
            _ => BreakerState::Closed,
        }
    }

    /// Let a call through, or reject it with [`Error::CircuitOpen`]. May move
    /// an open circuit to half-open (returned as the transition).
    pub(crate) fn admit(&self) -> Result<Option<Transition>, Error> {
        if !self.policy.enabled || self.state.load(Ordering::Acquire) == CLOSED {
            return Ok(None);
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match self.state.load(Ordering::Acquire) {
            OPEN => {
                let opened = inner.opened_at.unwrap_or(now);
                let elapsed = now.duration_since(opened);
                if elapsed < self.policy.open_duration {
                    self.rejected.fetch_add(1, Ordering::Relaxed);
                    return Err(Error::CircuitOpen {
                        database: self.name.clone(),
                        retry_after: self.policy.open_duration - elapsed,
                    });
                }
                // time to try again
                inner.trials = 1;
                inner.trial_successes = 0;
                inner.trials_since = Some(now);
                self.state.store(HALF_OPEN, Ordering::Release);
                Ok(Some(
                    self.transition(BreakerState::Open, BreakerState::HalfOpen),
                ))
            }
            HALF_OPEN => {
                // trial calls whose outcome never came back (cancelled callers)
                // must not keep the circuit half-open forever
                let stale = inner
                    .trials_since
                    .is_some_and(|t| now.duration_since(t) >= self.policy.open_duration);
                if stale {
                    inner.trials = 0;
                    inner.trial_successes = 0;
                    inner.trials_since = Some(now);
                }
                if inner.trials < self.policy.half_open_calls.max(1) {
                    inner.trials += 1;
                    Ok(None)
                } else {
                    self.rejected.fetch_add(1, Ordering::Relaxed);
                    Err(Error::CircuitOpen {
                        database: self.name.clone(),
                        retry_after: Duration::ZERO,
                    })
                }
            }
            _ => Ok(None),
        }
    }

    /// Record what a call learned; returns the state change it caused, if any.
    pub(crate) fn record(&self, outcome: Outcome) -> Option<Transition> {
        if !self.policy.enabled {
            return None;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match (self.state.load(Ordering::Acquire), outcome) {
            (CLOSED, Outcome::Answered) => {
                inner.consecutive = 0;
                self.bucket(&mut inner, now).calls += 1;
                None
            }
            (CLOSED, Outcome::Failed) => {
                inner.consecutive += 1;
                let b = self.bucket(&mut inner, now);
                b.calls += 1;
                b.failures += 1;
                let (calls, failures) = self.window_counts(&inner, now);
                let by_count = inner.consecutive >= self.policy.failure_threshold.max(1);
                let by_rate = calls >= self.policy.minimum_calls.max(1)
                    && failures as f64 >= self.policy.failure_rate * calls as f64;
                if by_count || by_rate {
                    self.open(&mut inner, now);
                    Some(self.transition(BreakerState::Closed, BreakerState::Open))
                } else {
                    None
                }
            }
            (HALF_OPEN, Outcome::Answered) => {
                inner.trial_successes += 1;
                if inner.trial_successes >= self.policy.half_open_calls.max(1) {
                    inner.consecutive = 0;
                    inner.buckets = [Bucket::default(); BUCKETS];
                    inner.opened_at = None;
                    self.state.store(CLOSED, Ordering::Release);
                    Some(self.transition(BreakerState::HalfOpen, BreakerState::Closed))
                } else {
                    None
                }
            }
            (HALF_OPEN, Outcome::Failed) => {
                self.open(&mut inner, now);
                Some(self.transition(BreakerState::HalfOpen, BreakerState::Open))
            }
            // open: late outcomes of calls admitted before it opened change nothing
            _ => None,
        }
    }

    fn open(&self, inner: &mut Inner, now: Instant) {
        inner.opened_at = Some(now);
        inner.trials = 0;
        inner.trial_successes = 0;
        self.state.store(OPEN, Ordering::Release);
    }

    fn transition(&self, from: BreakerState, to: BreakerState) -> Transition {
        self.transitions.fetch_add(1, Ordering::Relaxed);
        Transition { from, to }
    }

    fn epoch(&self, now: Instant) -> u64 {
        now.duration_since(self.start).as_nanos() as u64 / self.bucket_ns
    }

    fn bucket<'i>(&self, inner: &'i mut Inner, now: Instant) -> &'i mut Bucket {
        let epoch = self.epoch(now);
        let b = &mut inner.buckets[(epoch % BUCKETS as u64) as usize];
        if b.epoch != epoch {
            *b = Bucket {
                epoch,
                calls: 0,
                failures: 0,
            };
        }
        b
    }

    fn window_counts(&self, inner: &Inner, now: Instant) -> (u32, u32) {
        let epoch = self.epoch(now);
        inner
            .buckets
            .iter()
            .filter(|b| b.epoch + (BUCKETS as u64) > epoch && b.epoch <= epoch)
            .fold((0, 0), |(c, f), b| (c + b.calls, f + b.failures))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BreakerPolicy {
        BreakerPolicy {
            enabled: true,
            failure_threshold: 3,
            failure_rate: 0.5,
            window: Duration::from_secs(10),
            minimum_calls: 10,
            open_duration: OPEN_FOR,
            half_open_calls: 2,
        }
    }

    /// Long enough that nothing between opening and the next `admit` in these
    /// tests can outlast it, however loaded the machine (they sleep past it
    /// when they want it over).
    const OPEN_FOR: Duration = Duration::from_millis(500);

    #[test]
    fn opens_after_consecutive_failures_and_recovers() {
        let b = Breaker::new(policy(), "db");
        assert!(b.admit().is_ok());
        assert_eq!(b.record(Outcome::Failed), None);
        assert_eq!(b.record(Outcome::Failed), None);
        let t = b.record(Outcome::Failed).expect("opens");
        assert_eq!((t.from, t.to), (BreakerState::Closed, BreakerState::Open));
        match b.admit() {
            Err(Error::CircuitOpen {
                database,
                retry_after,
            }) => {
                assert_eq!(database, "db");
                assert!(retry_after <= OPEN_FOR);
            }
            other => panic!("{other:?}"),
        }
        std::thread::sleep(OPEN_FOR + Duration::from_millis(10));
        // half-open: two trials, a third call waits
        assert_eq!(
            b.admit().unwrap().map(|t| t.to),
            Some(BreakerState::HalfOpen)
        );
        assert!(b.admit().is_ok());
        assert!(matches!(b.admit(), Err(Error::CircuitOpen { .. })));
        assert_eq!(b.record(Outcome::Answered), None);
        let t = b.record(Outcome::Answered).expect("closes");
        assert_eq!(t.to, BreakerState::Closed);
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.rejected.load(Ordering::Relaxed) >= 2);
    }

    #[test]
    fn a_failed_trial_reopens() {
        let b = Breaker::new(policy(), "db");
        for _ in 0..3 {
            b.record(Outcome::Failed);
        }
        std::thread::sleep(OPEN_FOR + Duration::from_millis(10));
        b.admit().unwrap();
        assert_eq!(
            b.record(Outcome::Failed).map(|t| t.to),
            Some(BreakerState::Open)
        );
        assert!(matches!(b.admit(), Err(Error::CircuitOpen { .. })));
    }

    #[test]
    fn opens_by_rate_and_ignores_answers() {
        let mut p = policy();
        p.failure_threshold = 100;
        let b = Breaker::new(p, "db");
        // alternate: never 3 in a row, but half of 10 calls fail
        for i in 0..9 {
            let o = if i % 2 == 0 {
                Outcome::Answered
            } else {
                Outcome::Failed
            };
            assert_eq!(b.record(o), None, "call {i}");
        }
        assert_eq!(
            b.record(Outcome::Failed).map(|t| t.to),
            Some(BreakerState::Open)
        );
    }

    #[test]
    fn statement_errors_do_not_count() {
        let r: Result<(), Error> = Err(Error::invalid_input("sql", "bad"));
        assert_eq!(Outcome::of(&r), Outcome::Answered);
        let r: Result<(), Error> = Err(Error::ConnectionLost {
            message: "reset".into(),
            code: None,
        });
        assert_eq!(Outcome::of(&r), Outcome::Failed);
    }

    #[test]
    fn disabled_never_rejects() {
        let b = Breaker::new(BreakerPolicy::disabled(), "db");
        for _ in 0..100 {
            b.record(Outcome::Failed);
        }
        assert!(b.admit().is_ok());
        assert_eq!(b.state(), BreakerState::Disabled);
    }
}
