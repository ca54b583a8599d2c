//! Read routing over a primary and its replicas: which replica serves the
//! next read (in turn, skipping the ones that cannot take it), and which
//! tasks must read from the primary because they wrote within the
//! read-your-writes window.
//!
//! Generic over the node type, so that this file knows nothing of `Db`
//! (which keeps a `Replicas<Db>`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Past this many writers remembered, the ones outside the window are
/// forgotten on the next write.
const WRITERS_KEPT: usize = 1024;

/// The replicas of a primary and what routing remembers.
pub(crate) struct Replicas<T> {
    nodes: Vec<T>,
    /// The next replica to try first.
    next: AtomicUsize,
    window: Duration,
    /// When each task (`None`: outside any task) last wrote.
    writers: Mutex<HashMap<Option<tokio::task::Id>, Instant>>,
}

impl<T> Replicas<T> {
    pub(crate) fn new(nodes: Vec<T>, window: Duration) -> Self {
        Replicas {
            nodes,
            next: AtomicUsize::new(0),
            window,
            writers: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn nodes(&self) -> &[T] {
        &self.nodes
    }

    /// The calling task wrote (or may have): its reads go to the primary
    /// for the window.
    pub(crate) fn note_write(&self) {
        if self.nodes.is_empty() || self.window.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut writers = self.writers.lock().unwrap_or_else(|p| p.into_inner());
        if writers.len() >= WRITERS_KEPT {
            let window = self.window;
            writers.retain(|_, at| now.duration_since(*at) < window);
        }
        writers.insert(tokio::task::try_id(), now);
    }

    /// Whether the calling task wrote within the window.
    fn wrote_recently(&self) -> bool {
        if self.window.is_zero() {
            return false;
        }
        let writers = self.writers.lock().unwrap_or_else(|p| p.into_inner());
        writers
            .get(&tokio::task::try_id())
            .is_some_and(|at| at.elapsed() < self.window)
    }

    /// The replica for the calling task's next read: `None` when there is
    /// none, when the task wrote within the window, or when no replica is
    /// `usable`. The least loaded usable replica takes it (`load`: its
    /// connections in use); among equally loaded ones, each in turn.
    pub(crate) fn for_read(
        &self,
        usable: impl Fn(&T) -> bool,
        load: impl Fn(&T) -> usize,
    ) -> Option<&T> {
        if self.nodes.is_empty() || self.wrote_recently() {
            return None;
        }
        let n = self.nodes.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        let mut best: Option<(&T, usize)> = None;
        for k in 0..n {
            let node = &self.nodes[(first + k) % n];
            if !usable(node) {
                continue;
            }
            let l = load(node);
            if best.is_none_or(|(_, b)| l < b) {
                best = Some((node, l));
            }
        }
        best.map(|(node, _)| node)
    }
}

/// How far a replica is behind its primary, as routing last measured it,
/// and when it is next due to be measured.
pub(crate) struct Lag {
    /// Microseconds behind; [`Lag::UNKNOWN`] before the first answer and
    /// after a check that failed, [`Lag::STOPPED`] when replication stopped.
    behind_us: AtomicU64,
    /// When the last check started, in microseconds after `epoch`
    /// (`u64::MAX`: never).
    checked_at_us: AtomicU64,
    checking: AtomicBool,
    epoch: Instant,
}

impl Lag {
    const UNKNOWN: u64 = u64::MAX;
    const STOPPED: u64 = u64::MAX - 1;

    pub(crate) fn new() -> Self {
        Lag {
            behind_us: AtomicU64::new(Self::UNKNOWN),
            checked_at_us: AtomicU64::new(u64::MAX),
            checking: AtomicBool::new(false),
            epoch: Instant::now(),
        }
    }

    /// The last measured lag: `None` when unknown, [`Duration::MAX`] when
    /// replication has stopped.
    pub(crate) fn behind(&self) -> Option<Duration> {
        match self.behind_us.load(Ordering::Relaxed) {
            Self::UNKNOWN => None,
            Self::STOPPED => Some(Duration::MAX),
            us => Some(Duration::from_micros(us)),
        }
    }

    /// Whether the replica may take reads under `limit` (an unknown lag
    /// may: a replica that does not answer is left out by the read itself).
    pub(crate) fn within(&self, limit: Option<Duration>) -> bool {
        match (limit, self.behind()) {
            (Some(limit), Some(behind)) => behind <= limit,
            _ => true,
        }
    }

    /// Whether a check is due (none running, and the last one started
    /// `every` ago or more); the caller that gets `true` runs it and hands
    /// the answer to [`Lag::record`].
    pub(crate) fn claim(&self, every: Duration) -> bool {
        let now = self.epoch.elapsed().as_micros() as u64;
        let last = self.checked_at_us.load(Ordering::Relaxed);
        if last != u64::MAX && now.saturating_sub(last) < every.as_micros() as u64 {
            return false;
        }
        if self
            .checking
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        self.checked_at_us.store(now, Ordering::Relaxed);
        true
    }

    /// The answer of a check: `Ok(Some(lag))`, `Ok(None)` when replication
    /// has stopped, `Err(())` when the check failed.
    pub(crate) fn record(&self, answer: Result<Option<Duration>, ()>) {
        let us = match answer {
            Ok(Some(d)) => (d.as_micros() as u64).min(Self::STOPPED - 1),
            Ok(None) => Self::STOPPED,
            Err(()) => Self::UNKNOWN,
        };
        self.behind_us.store(us, Ordering::Relaxed);
        self.checking.store(false, Ordering::Release);
    }
}

/// How often a replica's lag is checked under `limit`: every quarter of
/// the limit, at most once a second and at least every 50 ms.
pub(crate) fn lag_check_every(limit: Duration) -> Duration {
    (limit / 4).clamp(Duration::from_millis(50), Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_go_round_to_usable_replicas_unless_the_task_wrote() {
        let r = Replicas::new(vec![1, 2, 3], Duration::from_millis(200));
        let even = |_: &i32| 0;
        let picks: Vec<i32> = (0..6)
            .map(|_| *r.for_read(|_| true, even).unwrap())
            .collect();
        assert_eq!(picks, [1, 2, 3, 1, 2, 3]);
        // an unusable replica is skipped
        let picks: Vec<i32> = (0..4)
            .map(|_| *r.for_read(|n| *n != 2, even).unwrap())
            .collect();
        assert!(!picks.contains(&2), "{picks:?}");
        assert!(r.for_read(|_| false, even).is_none());
        // the least loaded takes the read; equally loaded ones take turns
        let load = |n: &i32| if *n == 1 { 5 } else { 2 };
        let picks: Vec<i32> = (0..4)
            .map(|_| *r.for_read(|_| true, load).unwrap())
            .collect();
        assert!(!picks.contains(&1), "{picks:?}");
        assert!(picks.contains(&2) && picks.contains(&3), "{picks:?}");

        // this task wrote: its reads stay on the primary for the window
        r.note_write();
        assert!(r.for_read(|_| true, even).is_none());
        // another task did not write
        let r = std::sync::Arc::new(r);
        let r2 = r.clone();
        let elsewhere = tokio::spawn(async move { r2.for_read(|_| true, |_| 0).copied() })
            .await
            .unwrap();
        assert!(elsewhere.is_some());
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(r.for_read(|_| true, even).is_some());

        // no replicas, or a zero window
        let none: Replicas<i32> = Replicas::new(Vec::new(), Duration::from_secs(1));
        none.note_write();
        assert!(none.for_read(|_| true, |_| 0).is_none());
        let zero = Replicas::new(vec![7], Duration::ZERO);
        zero.note_write();
        assert_eq!(zero.for_read(|_| true, |_| 0), Some(&7));
    }

    #[test]
    fn lag_is_checked_when_due_and_judged_against_the_limit() {
        let lag = Lag::new();
        let limit = Some(Duration::from_millis(200));
        // unknown: usable, and a check is due at once, claimed by one caller
        assert_eq!(lag.behind(), None);
        assert!(lag.within(limit));
        assert!(lag.claim(Duration::from_secs(60)));
        assert!(!lag.claim(Duration::from_secs(60)), "one check at a time");
        lag.record(Ok(Some(Duration::from_millis(500))));
        assert_eq!(lag.behind(), Some(Duration::from_millis(500)));
        assert!(!lag.within(limit));
        assert!(lag.within(None), "no limit: never left out");
        // the next check waits for its turn
        assert!(!lag.claim(Duration::from_secs(60)));
        assert!(lag.claim(Duration::ZERO));
        lag.record(Ok(Some(Duration::from_millis(10))));
        assert!(lag.within(limit));
        // replication stopped: too far behind under any limit
        assert!(lag.claim(Duration::ZERO));
        lag.record(Ok(None));
        assert_eq!(lag.behind(), Some(Duration::MAX));
        assert!(!lag.within(Some(Duration::from_secs(86_400))));
        // a failed check: unknown again
        assert!(lag.claim(Duration::ZERO));
        lag.record(Err(()));
        assert_eq!(lag.behind(), None);
        assert!(lag.within(limit));
        assert_eq!(
            lag_check_every(Duration::from_secs(10)),
            Duration::from_secs(1)
        );
        assert_eq!(
            lag_check_every(Duration::from_millis(400)),
            Duration::from_millis(100)
        );
        assert_eq!(
            lag_check_every(Duration::from_millis(1)),
            Duration::from_millis(50)
        );
    }
}
