//! The read cache kept in this process: entries under a mutex, the oldest
//! dropped first when full, the generations beside them.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Lookup;
use crate::statement::Touched;

pub(crate) struct MemoryStore {
    capacity: usize,
    ttl: Duration,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The generation of everything (moved on by a write of unknown tables).
    everything: u64,
    /// Each table's generation.
    gens: HashMap<String, u64>,
    /// The tables whose rows change with each table's, through foreign keys.
    dependents: HashMap<String, Vec<String>>,
    entries: HashMap<String, Entry>,
    /// Keys in the order they were stored (with the entry's `seq`: a key
    /// stored again is a later entry).
    order: VecDeque<(String, u64)>,
    seq: u64,
}

struct Entry {
    bytes: Vec<u8>,
    expires: Instant,
    seq: u64,
}

impl MemoryStore {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        MemoryStore {
            capacity,
            ttl,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Row `id` of `table`, and how many expired entries were dropped.
    pub(crate) fn lookup(&self, table: &str, id: &str) -> (Lookup, u64) {
        let mut inner = self.inner();
        let key = format!(
            "{table}\u{1f}{}.{}\u{1f}{id}",
            inner.everything,
            inner.gens.get(table).copied().unwrap_or(0)
        );
        match inner.entries.get(&key) {
            Some(e) if e.expires > Instant::now() => (Lookup::Hit(e.bytes.clone()), 0),
            Some(_) => {
                inner.entries.remove(&key);
                (Lookup::Miss(key), 1)
            }
            None => (Lookup::Miss(key), 0),
        }
    }

    /// Keep `bytes` under `key`; returns how many entries were dropped to
    /// make room.
    pub(crate) fn store(&self, key: String, bytes: Vec<u8>) -> u64 {
        let mut inner = self.inner();
        inner.seq += 1;
        let seq = inner.seq;
        inner.order.push_back((key.clone(), seq));
        inner.entries.insert(
            key,
            Entry {
                bytes,
                expires: Instant::now() + self.ttl,
                seq,
            },
        );
        let mut evicted = 0;
        while inner.entries.len() > self.capacity {
            let Some((old, old_seq)) = inner.order.pop_front() else {
                break;
            };
            if inner.entries.get(&old).is_some_and(|e| e.seq == old_seq) {
                inner.entries.remove(&old);
                evicted += 1;
            }
        }
        // keys stored again or dropped as expired leave stale places behind
        if inner.order.len() > 2 * self.capacity.max(16) {
            let Inner { order, entries, .. } = &mut *inner;
            order.retain(|(k, s)| entries.get(k).is_some_and(|e| e.seq == *s));
        }
        evicted
    }

    /// Move the generations of what `touched` names on (and of the tables
    /// that depend on them).
    pub(crate) fn invalidate(&self, touched: &Touched) {
        let mut inner = self.inner();
        match touched {
            Touched::Nothing => {}
            Touched::Everything => inner.everything += 1,
            Touched::Tables(tables) => {
                for t in tables {
                    let dependents = inner.dependents.get(t).cloned().unwrap_or_default();
                    for d in std::iter::once(t).chain(dependents.iter()) {
                        *inner.gens.entry(d.clone()).or_insert(0) += 1;
                    }
                }
            }
        }
    }

    /// `table`'s rows change when any of `parents` is written.
    pub(crate) fn depend(&self, table: &str, parents: &[String]) {
        let mut inner = self.inner();
        for p in parents {
            let d = inner.dependents.entry(p.clone()).or_default();
            if !d.iter().any(|x| x == table) {
                d.push(table.to_string());
            }
        }
    }
}
