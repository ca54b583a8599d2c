//! The N+1 detector: the same relation loaded lazily, from the same call
//! site, for several different parent rows within a short window of one
//! task. Matching by call site (as Prosopite does) keeps it quiet about
//! unrelated loads of the same relation from different places.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash};
use std::panic::Location;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How close in time the loads of one burst are.
pub(crate) const WINDOW: Duration = Duration::from_secs(1);

/// Bursts tracked at most (older ones are forgotten first).
const MAX_TRACKED: usize = 1024;

struct Burst {
    last: Instant,
    parents: Vec<u64>,
    reported: bool,
}

/// One burst is keyed by the task, the relation and the call site.
type Key = (u64, &'static str, &'static str, usize);

pub(crate) struct Detector {
    threshold: usize,
    bursts: Mutex<HashMap<Key, Burst>>,
}

/// What to report: the relation, how many parents, where.
pub(crate) struct Finding {
    pub table: &'static str,
    pub relation: &'static str,
    pub parents: usize,
    pub site: &'static Location<'static>,
}

/// The current task (tokio task id, else the thread).
fn task_key() -> u64 {
    let h = BuildHasherDefault::<DefaultHasher>::default();
    match tokio::task::try_id() {
        Some(id) => h.hash_one(id),
        None => h.hash_one(std::thread::current().id()),
    }
}

impl Detector {
    pub(crate) fn new(threshold: usize) -> Detector {
        Detector {
            threshold,
            bursts: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.threshold > 0
    }

    /// A lazy load of `relation` (of `table`) for the parent whose key hashes
    /// to `parent`, from `site`. Returns a finding the first time the burst
    /// reaches the threshold.
    pub(crate) fn record(
        &self,
        table: &'static str,
        relation: &'static str,
        site: &'static Location<'static>,
        parent: u64,
    ) -> Option<Finding> {
        if !self.enabled() {
            return None;
        }
        let now = Instant::now();
        let key: Key = (task_key(), table, relation, site as *const _ as usize);
        let mut bursts = self.bursts.lock().unwrap_or_else(|p| p.into_inner());
        if bursts.len() >= MAX_TRACKED {
            bursts.retain(|_, b| now.duration_since(b.last) < WINDOW);
            if bursts.len() >= MAX_TRACKED {
                bursts.clear();
            }
        }
        let burst = bursts.entry(key).or_insert_with(|| Burst {
            last: now,
            parents: Vec::new(),
            reported: false,
        });
        if now.duration_since(burst.last) >= WINDOW {
            burst.parents.clear();
            burst.reported = false;
        }
        burst.last = now;
        if !burst.parents.contains(&parent) {
            // only distinct parents count: loading one row's relation twice
            // is a cache question, not an N+1
            if burst.parents.len() < self.threshold || !burst.reported {
                burst.parents.push(parent);
            }
        }
        if burst.parents.len() >= self.threshold && !burst.reported {
            burst.reported = true;
            return Some(Finding {
                table,
                relation,
                parents: burst.parents.len(),
                site,
            });
        }
        None
    }
}

/// Hash anything to the `u64` the detector keys parents by.
#[allow(dead_code)]
pub(crate) fn hash_of<K: Hash>(k: &K) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn here() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn reports_once_per_burst_of_distinct_parents() {
        let d = Detector::new(3);
        let site = here();
        assert!(d.record("users", "tasks", site, 1).is_none());
        assert!(
            d.record("users", "tasks", site, 1).is_none(),
            "same parent again"
        );
        assert!(d.record("users", "tasks", site, 2).is_none());
        let f = d
            .record("users", "tasks", site, 3)
            .expect("third distinct parent");
        assert_eq!((f.relation, f.parents), ("tasks", 3));
        assert!(
            d.record("users", "tasks", site, 4).is_none(),
            "reported once"
        );
        // another call site is another burst
        let other = here();
        assert!(d.record("users", "tasks", other, 1).is_none());
        // off
        let d = Detector::new(0);
        for p in 0..10 {
            assert!(d.record("users", "tasks", site, p).is_none());
        }
    }
}
