//! Recent figures: calls, timeouts, statement time and acquire waits in
//! 5-second buckets over the last 15 minutes, summed over the last 1, 5 and
//! 15 minutes (like a load average, but exact sums rather than decaying
//! averages).
//!
//! Recording is a few relaxed atomic adds into the current bucket; a bucket
//! left from an earlier lap of the ring is cleared by the first recorder that
//! sees it (an increment racing with that clear may be lost: these are
//! operator figures, not accounting).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Width of one bucket.
pub(crate) const BUCKET: Duration = Duration::from_secs(5);
/// Buckets kept: 15 minutes.
const BUCKETS: usize = 180;

#[derive(Default)]
struct Bucket {
    /// Which lap of the ring this bucket's figures belong to (bucket number + 1;
    /// 0 = never used).
    epoch: AtomicU64,
    calls: AtomicU64,
    timeouts: AtomicU64,
    acquire_timeouts: AtomicU64,
    query_timeouts: AtomicU64,
    connect_timeouts: AtomicU64,
    statements: AtomicU64,
    statement_ns: AtomicU64,
    /// Statements over twice the usual time.
    slow_statements: AtomicU64,
    acquisitions: AtomicU64,
    acquire_wait_ns: AtomicU64,
}

impl Bucket {
    fn counters(&self) -> [&AtomicU64; 10] {
        [
            &self.slow_statements,
            &self.calls,
            &self.timeouts,
            &self.acquire_timeouts,
            &self.query_timeouts,
            &self.connect_timeouts,
            &self.statements,
            &self.statement_ns,
            &self.acquisitions,
            &self.acquire_wait_ns,
        ]
    }
}

/// The ring of buckets.
pub(crate) struct Windows {
    start: Instant,
    buckets: Box<[Bucket]>,
    /// The bucket number last recorded into (for figures recorded without
    /// reading the clock).
    last: AtomicU64,
}

/// Sums over one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sums {
    pub calls: u64,
    pub timeouts: u64,
    pub acquire_timeouts: u64,
    pub query_timeouts: u64,
    pub connect_timeouts: u64,
    pub statements: u64,
    pub statement_ns: u64,
    pub slow_statements: u64,
    pub acquisitions: u64,
    pub acquire_wait_ns: u64,
}

/// What a finished call counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallOutcome {
    Done,
    AcquireTimeout,
    QueryTimeout,
    ConnectTimeout,
}

impl Windows {
    pub(crate) fn new() -> Windows {
        Windows {
            start: Instant::now(),
            buckets: (0..BUCKETS).map(|_| Bucket::default()).collect(),
            last: AtomicU64::new(0),
        }
    }

    fn number(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.start).as_secs() / BUCKET.as_secs()
    }

    /// The bucket of `now`, cleared first if it holds an earlier lap's figures.
    fn current(&self, now: Instant) -> &Bucket {
        let n = self.number(now);
        if self.last.load(Ordering::Relaxed) != n {
            self.last.store(n, Ordering::Relaxed);
        }
        let b = &self.buckets[(n % BUCKETS as u64) as usize];
        let epoch = n + 1;
        let seen = b.epoch.load(Ordering::Acquire);
        if seen != epoch
            && b.epoch
                .compare_exchange(seen, epoch, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            for c in b.counters() {
                c.store(0, Ordering::Relaxed);
            }
        }
        b
    }

    /// A call finished at `now`.
    pub(crate) fn call(&self, now: Instant, outcome: CallOutcome) {
        let b = self.current(now);
        b.calls.fetch_add(1, Ordering::Relaxed);
        let kind = match outcome {
            CallOutcome::Done => return,
            CallOutcome::AcquireTimeout => &b.acquire_timeouts,
            CallOutcome::QueryTimeout => &b.query_timeouts,
            CallOutcome::ConnectTimeout => &b.connect_timeouts,
        };
        b.timeouts.fetch_add(1, Ordering::Relaxed);
        kind.fetch_add(1, Ordering::Relaxed);
    }

    /// A statement succeeded in `elapsed` (failed ones, timed out ones above
    /// all, would only measure their limit).
    /// `slow`: it took over twice the database's usual time.
    pub(crate) fn statement(&self, now: Instant, elapsed: Duration, slow: bool) {
        let b = self.current(now);
        b.statements.fetch_add(1, Ordering::Relaxed);
        if slow {
            b.slow_statements.fetch_add(1, Ordering::Relaxed);
        }
        b.statement_ns
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }

    /// A checkout waited `wait` for its connection.
    pub(crate) fn acquired(&self, now: Instant, wait: Duration) {
        let b = self.current(now);
        b.acquisitions.fetch_add(1, Ordering::Relaxed);
        b.acquire_wait_ns
            .fetch_add(wait.as_nanos() as u64, Ordering::Relaxed);
    }

    /// A checkout got its connection without waiting: counted in the bucket
    /// last recorded into (no clock read on this path).
    pub(crate) fn acquired_at_once(&self) {
        let n = self.last.load(Ordering::Relaxed);
        let b = &self.buckets[(n % BUCKETS as u64) as usize];
        if b.epoch.load(Ordering::Acquire) == n + 1 {
            b.acquisitions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sums over the last `window` (whole buckets, the current one included).
    pub(crate) fn sums(&self, window: Duration) -> Sums {
        let now = self.number(Instant::now());
        let n = (window.as_secs() / BUCKET.as_secs()).clamp(1, BUCKETS as u64);
        let oldest = now.saturating_sub(n - 1);
        let mut s = Sums::default();
        for b in self.buckets.iter() {
            let epoch = b.epoch.load(Ordering::Acquire);
            if epoch == 0 || epoch - 1 < oldest || epoch - 1 > now {
                continue;
            }
            let [
                slow_statements,
                calls,
                timeouts,
                acquire_timeouts,
                query_timeouts,
                connect_timeouts,
                statements,
                statement_ns,
                acquisitions,
                acquire_wait_ns,
            ] = b.counters().map(|c| c.load(Ordering::Relaxed));
            s.calls += calls;
            s.timeouts += timeouts;
            s.acquire_timeouts += acquire_timeouts;
            s.query_timeouts += query_timeouts;
            s.connect_timeouts += connect_timeouts;
            s.statements += statements;
            s.statement_ns += statement_ns;
            s.slow_statements += slow_statements;
            s.acquisitions += acquisitions;
            s.acquire_wait_ns += acquire_wait_ns;
        }
        s
    }

    /// How long the ring has been recording (windows longer than this hold
    /// everything since the start).
    pub(crate) fn age(&self) -> Duration {
        self.start.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_count_what_was_recorded() {
        let w = Windows::new();
        let now = Instant::now();
        for _ in 0..97 {
            w.call(now, CallOutcome::Done);
        }
        w.call(now, CallOutcome::AcquireTimeout);
        w.call(now, CallOutcome::AcquireTimeout);
        w.call(now, CallOutcome::QueryTimeout);
        w.statement(now, Duration::from_millis(10), false);
        w.statement(now, Duration::from_millis(30), true);
        w.acquired(now, Duration::from_millis(5));
        let s = w.sums(Duration::from_secs(60));
        assert_eq!(s.calls, 100);
        assert_eq!(s.timeouts, 3);
        assert_eq!(s.acquire_timeouts, 2);
        assert_eq!(s.query_timeouts, 1);
        assert_eq!(s.connect_timeouts, 0);
        assert_eq!(s.statements, 2);
        assert_eq!(s.statement_ns, 40_000_000);
        assert_eq!(s.slow_statements, 1);
        assert_eq!(s.acquisitions, 1);
        assert_eq!(s.acquire_wait_ns, 5_000_000);
        assert_eq!(w.sums(Duration::from_secs(900)), s);
    }

    #[test]
    fn old_buckets_leave_the_window_and_are_reused() {
        let mut w = Windows::new();
        // pretend the ring started 20 minutes ago: bucket numbers move on
        w.start -= Duration::from_secs(20 * 60);
        let stale = &w.buckets[0];
        stale.epoch.store(1, Ordering::Release); // bucket 0, 20 minutes old
        stale.calls.store(1000, Ordering::Relaxed);
        stale.timeouts.store(1000, Ordering::Relaxed);
        assert_eq!(
            w.sums(Duration::from_secs(900)).calls,
            0,
            "outside every window"
        );
        w.call(Instant::now(), CallOutcome::Done);
        let s = w.sums(Duration::from_secs(60));
        assert_eq!((s.calls, s.timeouts), (1, 0));
        // a bucket 3 minutes old is in the 5- and 15-minute windows only
        let now = w.number(Instant::now());
        let three_min_ago = now - 36;
        let b = &w.buckets[(three_min_ago % BUCKETS as u64) as usize];
        b.epoch.store(three_min_ago + 1, Ordering::Release);
        b.calls.store(10, Ordering::Relaxed);
        assert_eq!(w.sums(Duration::from_secs(60)).calls, 1);
        assert_eq!(w.sums(Duration::from_secs(300)).calls, 11);
        assert_eq!(w.sums(Duration::from_secs(900)).calls, 11);
    }
}
