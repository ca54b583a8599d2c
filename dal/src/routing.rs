//! Read routing over a primary and its replicas: which replica serves the
//! next read (in turn, skipping the ones that cannot take it), and which
//! tasks must read from the primary because they wrote within the
//! read-your-writes window.
//!
//! Generic over the node type, so that this file knows nothing of `Db`
//! (which keeps a `Replicas<Db>`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
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
}
