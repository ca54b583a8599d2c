//! Call deadlines: one per call, fixed when the call starts.
//!
//! A call's query timeout is a contract on the whole call: the checkout
//! (waiting for a pooled connection, opening new ones), every retry and the
//! execution all happen before [`Deadline::at`]. A checkout made for the call
//! is also bounded by the acquire timeout, counted from when the checkout
//! starts ([`Deadline::checkout`]); each connection attempt inside it by the
//! connect timeout as well.

use std::time::{Duration, Instant};

use crate::error::{Error, TimeoutKind};

/// The query-timeout deadline of one call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    /// When the call started (what `Error::Timeout::elapsed` counts from).
    pub(crate) start: Instant,
    /// The query timeout and the instant it runs out.
    limit: Option<(Duration, Instant)>,
}

impl Deadline {
    /// A deadline starting now, `limit` away (none: only the checkout is bounded).
    pub(crate) fn new(limit: Option<Duration>) -> Deadline {
        let start = Instant::now();
        Deadline {
            start,
            limit: limit.and_then(|l| start.checked_add(l).map(|at| (l, at))),
        }
    }

    /// The instant the query timeout runs out, if there is one.
    pub(crate) fn at(&self) -> Option<Instant> {
        self.limit.map(|(_, at)| at)
    }

    /// The configured query timeout of this call.
    pub(crate) fn limit(&self) -> Option<Duration> {
        self.limit.map(|(l, _)| l)
    }

    /// Time left (zero once expired); `None` without a query timeout.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        self.at()
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Whether waiting `delay` (before a retry) still leaves time to work in.
    pub(crate) fn allows(&self, delay: Duration) -> bool {
        self.at().is_none_or(|at| Instant::now() + delay < at)
    }

    /// The error for running out of the query timeout while waiting for `kind`.
    pub(crate) fn error(&self, kind: TimeoutKind) -> Error {
        Error::timeout(
            kind,
            TimeoutKind::Query,
            self.limit().unwrap_or_default(),
            self.start.elapsed(),
        )
    }

    /// The limit of a checkout for this call: the acquire timeout from when
    /// the checkout starts, or what is left of the query timeout when that
    /// ends first. Reads no clock: the checkout fixes it when it first needs
    /// it ([`CheckoutSpec::fix`]); a checkout served at once never does.
    pub(crate) fn checkout(&self, acquire: Duration) -> CheckoutSpec {
        CheckoutSpec {
            call_start: self.start,
            own: acquire,
            own_kind: TimeoutKind::Acquire,
            query: self.limit,
        }
    }
}

/// A checkout's limit before the checkout started (see [`Deadline::checkout`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CheckoutSpec {
    call_start: Instant,
    /// The checkout's own limit (acquire timeout, or pool creation).
    own: Duration,
    own_kind: TimeoutKind,
    /// The call's query timeout and its deadline.
    query: Option<(Duration, Instant)>,
}

impl CheckoutSpec {
    /// A checkout bounded by `limit` of kind `budget` from when it starts
    /// (pool creation).
    pub(crate) fn own(budget: TimeoutKind, limit: Duration) -> CheckoutSpec {
        CheckoutSpec {
            call_start: Instant::now(),
            own: limit,
            own_kind: budget,
            query: None,
        }
    }

    /// The limit of a checkout that started at `now`.
    pub(crate) fn fix(&self, now: Instant) -> Checkout {
        let own = now.checked_add(self.own);
        match self.query {
            Some((limit, at)) if own.is_none_or(|own| at <= own) => Checkout {
                call_start: self.call_start,
                at: Some(at),
                budget: TimeoutKind::Query,
                limit,
            },
            _ => Checkout {
                call_start: self.call_start,
                at: own,
                budget: self.own_kind,
                limit: self.own,
            },
        }
    }
}

/// The time limit of one checkout (see [`Deadline::checkout`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checkout {
    /// When the call started.
    pub(crate) call_start: Instant,
    /// When the checkout must be done (`None`: a limit too large to represent).
    pub(crate) at: Option<Instant>,
    /// Which configured limit `at` comes from.
    pub(crate) budget: TimeoutKind,
    /// That limit.
    pub(crate) limit: Duration,
}

impl Checkout {
    /// Time left (zero once expired).
    pub(crate) fn remaining(&self) -> Duration {
        self.at.map_or(Duration::MAX, |at| {
            at.saturating_duration_since(Instant::now())
        })
    }

    /// Whether waiting `delay` (before a retry) still leaves time to work in.
    pub(crate) fn allows(&self, delay: Duration) -> bool {
        self.at.is_none_or(|at| Instant::now() + delay < at)
    }

    /// The error for running out of this checkout's limit while waiting for `kind`.
    pub(crate) fn error(&self, kind: TimeoutKind) -> Error {
        Error::timeout(kind, self.budget, self.limit, self.call_start.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkout_takes_the_earlier_limit() {
        let d = Deadline::new(Some(Duration::from_millis(200)));
        let c = d.checkout(Duration::from_secs(5)).fix(Instant::now());
        assert_eq!(c.budget, TimeoutKind::Query);
        assert_eq!(c.limit, Duration::from_millis(200));
        assert!(c.remaining() <= Duration::from_millis(200));

        let d = Deadline::new(Some(Duration::from_secs(60)));
        let c = d.checkout(Duration::from_secs(5)).fix(Instant::now());
        assert_eq!(c.budget, TimeoutKind::Acquire);
        assert_eq!(c.limit, Duration::from_secs(5));
        assert!(c.remaining() > Duration::from_secs(4));

        let d = Deadline::new(None);
        let c = d.checkout(Duration::from_secs(5)).fix(Instant::now());
        assert_eq!(c.budget, TimeoutKind::Acquire);
        assert!(d.remaining().is_none() && d.allows(Duration::from_secs(1000)));
    }

    #[test]
    fn expiry_and_errors_report_the_budget() {
        let d = Deadline::new(Some(Duration::ZERO));
        assert_eq!(d.remaining(), Some(Duration::ZERO));
        assert!(!d.allows(Duration::ZERO));
        match d.error(TimeoutKind::Acquire) {
            Error::Timeout {
                kind,
                budget,
                after,
                ..
            } => {
                assert_eq!(kind, TimeoutKind::Acquire);
                assert_eq!(budget, TimeoutKind::Query);
                assert_eq!(after, Duration::ZERO);
            }
            other => panic!("{other:?}"),
        }
        // a limit too large for the clock is no limit
        let d = Deadline::new(Some(Duration::MAX));
        assert!(d.at().is_none());
        let c = d.checkout(Duration::MAX).fix(Instant::now());
        assert_eq!(c.remaining(), Duration::MAX);
    }
}
