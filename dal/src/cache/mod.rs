//! The read cache: entity `get` by id for entities marked `#[dal(cache)]`,
//! kept in process or on Redis.
//!
//! Every entry is keyed by the *generations* of the table it was read from
//! (and a generation of everything), read before the database is. Every
//! statement that writes a table moves its generation on (after it has
//! committed: inside a transaction, at the commit), so what was cached
//! before the write is never found again; a write whose tables the text
//! does not say (DDL, procedure calls) moves every generation on. A reader
//! that raced a write stores its row under the generation it read first,
//! which the write has already left behind. Tables whose rows a write
//! changes through a foreign key (`ON DELETE CASCADE`, `SET NULL`, `SET
//! DEFAULT`, and the same `ON UPDATE`) move on with the table written,
//! for the cached entities that declare those keys.

mod memory;
#[cfg(feature = "redis")]
mod redis_store;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[cfg(not(feature = "redis"))]
use crate::error::Error;
use crate::error::Result;
use crate::statement::Touched;

/// Where and how long the read cache keeps rows (see
/// [`DatabaseConfigBuilder::cache`](crate::DatabaseConfigBuilder::cache)).
///
/// ```
/// use std::time::Duration;
/// let config = dal::DatabaseConfig::builder("sqlite::memory:")
///     .cache(dal::CacheConfig::memory(10_000).ttl(Duration::from_secs(30)))
///     .build()?;
/// assert_eq!(config.cache().unwrap().time_to_live(), Duration::from_secs(30));
/// # Ok::<(), dal::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CacheConfig {
    store: StoreConfig,
    ttl: Duration,
    timeout: Duration,
    namespace: Option<String>,
}

#[derive(Clone, PartialEq, Eq)]
enum StoreConfig {
    Memory { capacity: usize },
    Redis { url: String },
}

impl CacheConfig {
    /// A cache in this process holding up to `capacity` rows (the oldest
    /// go first). It sees the writes this process makes through dal; the
    /// writes of other processes it sees only when its entries expire (use
    /// [`CacheConfig::redis`] when several processes write).
    pub fn memory(capacity: usize) -> Self {
        CacheConfig {
            store: StoreConfig::Memory { capacity },
            ttl: Duration::from_secs(60),
            timeout: Duration::from_millis(100),
            namespace: None,
        }
    }

    /// A cache on the Redis server at `url` (`redis://[:password@]host[:port][/db]`),
    /// shared by every process that uses it with the same database: each
    /// one's writes invalidate the others' entries. Needs the `redis`
    /// feature (on by default).
    pub fn redis(url: impl Into<String>) -> Self {
        CacheConfig {
            store: StoreConfig::Redis { url: url.into() },
            ttl: Duration::from_secs(60),
            timeout: Duration::from_millis(100),
            namespace: None,
        }
    }

    /// How long an entry is kept at most (default 60 seconds).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long a Redis command may take before the cache is skipped for
    /// that call (default 100 ms; the call reads the database instead).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The prefix of the cache's Redis keys, after `dal:` (default: the
    /// database's host, port and name, and the PostgreSQL `search_path` or
    /// `options` of the URL, so that every process using the same database
    /// shares its entries and invalidations). Give each database its own:
    /// two databases under one namespace would read each other's rows.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// How long an entry is kept at most.
    pub fn time_to_live(&self) -> Duration {
        self.ttl
    }

    /// Whether the entries are kept on Redis (else in this process).
    pub fn is_redis(&self) -> bool {
        matches!(self.store, StoreConfig::Redis { .. })
    }

    /// The problems of this configuration, for the builder's report.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.ttl.is_zero() {
            problems.push("ttl must be positive".to_string());
        }
        if self.timeout.is_zero() {
            problems.push("timeout must be positive".to_string());
        }
        match &self.store {
            StoreConfig::Memory { capacity: 0 } => {
                problems.push("a memory cache needs a capacity of at least 1".to_string())
            }
            StoreConfig::Memory { .. } => {}
            StoreConfig::Redis { url } => {
                if !cfg!(feature = "redis") {
                    problems.push(
                        "a Redis cache needs dal's `redis` feature, which this build left out"
                            .to_string(),
                    );
                }
                if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                    problems.push(format!(
                        "a Redis URL starts with redis:// or rediss://, got {}",
                        redact(url)
                    ));
                }
            }
        }
        problems
    }

    /// A configuration from `DAL_CACHE`'s value: `memory`, `memory:N` or a
    /// Redis URL.
    pub(crate) fn parse(raw: &str) -> std::result::Result<CacheConfig, String> {
        let raw = raw.trim();
        if raw.starts_with("redis://") || raw.starts_with("rediss://") {
            return Ok(CacheConfig::redis(raw));
        }
        match raw.split_once(':') {
            None if raw.eq_ignore_ascii_case("memory") => Ok(CacheConfig::memory(10_000)),
            Some((m, n)) if m.eq_ignore_ascii_case("memory") => n
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .map(CacheConfig::memory)
                .ok_or_else(|| format!("expected memory:N with N a positive number, got {raw}")),
            _ => Err(format!(
                "expected memory, memory:N or a redis:// URL, got {}",
                redact(raw)
            )),
        }
    }
}

impl std::fmt::Debug for CacheConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("CacheConfig");
        match &self.store {
            StoreConfig::Memory { capacity } => d.field("memory", capacity),
            StoreConfig::Redis { url } => d.field("redis", &redact(url)),
        };
        d.field("ttl", &self.ttl)
            .field("timeout", &self.timeout)
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// `url` with its password masked.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let host_start = rest.find('/').unwrap_or(rest.len());
    match rest[..host_start].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme_end], &rest[at..])
        }
        None => url.to_string(),
    }
}

/// Counts of the cache's work (see [`Db::cache_stats`](crate::Db::cache_stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Reads answered from the cache.
    pub hits: u64,
    /// Reads the cache could not answer (they read the database and filled it).
    pub misses: u64,
    /// Entries dropped to make room or because they expired (the memory
    /// store; Redis evicts on its own, uncounted).
    pub evictions: u64,
    /// Times the cache failed or did not answer in time (its reads then go
    /// to the database).
    pub errors: u64,
}

/// The answer of a lookup.
pub(crate) enum Lookup {
    /// The cached bytes.
    Hit(Vec<u8>),
    /// Not there: the row read from the database goes under `key`.
    Miss(String),
    /// The cache cannot be used for this read (it failed, or invalidations
    /// are still to be delivered): read the database, store nothing.
    Bypass,
}

enum Store {
    Memory(Box<memory::MemoryStore>),
    #[cfg(feature = "redis")]
    Redis(redis_store::RedisStore),
}

/// One database's read cache.
pub(crate) struct Cache {
    store: Store,
    /// Writes made inside each open transaction, invalidated at its end.
    pending: Mutex<HashMap<u64, Touched>>,
    /// Entities whose dependencies were declared to the store.
    registered: Mutex<HashSet<&'static str>>,
    counts: Counts,
    handles: Handles,
}

#[derive(Default)]
struct Counts {
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
    errors: AtomicU64,
}

/// The metrics' handles, labelled with the database's name.
struct Handles {
    hits: metrics::Counter,
    misses: metrics::Counter,
    evictions: metrics::Counter,
    errors: metrics::Counter,
}

impl Cache {
    /// The cache of the database `name`, its keys under `namespace` (the
    /// database's host, port and name) unless the configuration names one.
    pub(crate) fn new(config: &CacheConfig, name: &str, namespace: String) -> Result<Cache> {
        #[cfg(not(feature = "redis"))]
        let _ = &namespace;
        let handles = Handles {
            hits: metrics::counter!("dal_cache_hits_total", "db" => name.to_string()),
            misses: metrics::counter!("dal_cache_misses_total", "db" => name.to_string()),
            evictions: metrics::counter!("dal_cache_evictions_total", "db" => name.to_string()),
            errors: metrics::counter!("dal_cache_errors_total", "db" => name.to_string()),
        };
        let store = match &config.store {
            StoreConfig::Memory { capacity } => {
                Store::Memory(Box::new(memory::MemoryStore::new(*capacity, config.ttl)))
            }
            #[cfg(feature = "redis")]
            StoreConfig::Redis { url } => Store::Redis(redis_store::RedisStore::new(
                url,
                &config.namespace.clone().unwrap_or(namespace),
                config.ttl,
                config.timeout,
            )?),
            #[cfg(not(feature = "redis"))]
            StoreConfig::Redis { .. } => {
                return Err(Error::config(
                    "cache",
                    "a Redis cache needs dal's `redis` feature",
                ));
            }
        };
        Ok(Cache {
            store,
            pending: Mutex::new(HashMap::new()),
            registered: Mutex::new(HashSet::new()),
            counts: Counts::default(),
            handles,
        })
    }

    pub(crate) fn stats(&self) -> CacheStats {
        let c = &self.counts;
        CacheStats {
            hits: c.hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            evictions: c.evictions.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
        }
    }

    fn count_evictions(&self, n: u64) {
        if n > 0 {
            self.counts.evictions.fetch_add(n, Ordering::Relaxed);
            self.handles.evictions.increment(n);
        }
    }

    /// A failure of the store (the call reads the database instead).
    fn count_error(&self, e: &dyn std::fmt::Display) {
        self.counts.errors.fetch_add(1, Ordering::Relaxed);
        self.handles.errors.increment(1);
        tracing::warn!(target: "dal::cache", error = %e, "the read cache failed; reading the database");
    }

    /// Declare, once per entity, the tables whose writes change the rows of
    /// `table` through its foreign keys (`parents`, called only the first
    /// time). Nothing of `table` is cached before this returns.
    pub(crate) async fn register(
        &self,
        table: &'static str,
        parents: impl FnOnce() -> Vec<String>,
    ) -> bool {
        if self
            .registered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(table)
        {
            return true;
        }
        let parents: Vec<String> = parents().iter().map(|p| table_key(p)).collect();
        let key = table_key(table);
        let declared: std::result::Result<(), StoreError> = match &self.store {
            Store::Memory(m) => {
                m.depend(&key, &parents);
                Ok(())
            }
            #[cfg(feature = "redis")]
            Store::Redis(r) => r.depend(&key, &parents).await,
        };
        match declared {
            Ok(()) => {
                self.registered
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(table);
                true
            }
            Err(e) => {
                self.count_error(&e);
                false
            }
        }
    }

    /// Look row `id` of `table` up.
    pub(crate) async fn lookup(&self, table: &str, id: &str) -> Lookup {
        let table = &table_key(table);
        let found: std::result::Result<Lookup, StoreError> = match &self.store {
            Store::Memory(m) => {
                let (found, evicted) = m.lookup(table, id);
                self.count_evictions(evicted);
                Ok(found)
            }
            #[cfg(feature = "redis")]
            Store::Redis(r) => r.lookup(table, id).await,
        };
        match found {
            Ok(Lookup::Hit(bytes)) => {
                self.counts.hits.fetch_add(1, Ordering::Relaxed);
                self.handles.hits.increment(1);
                Lookup::Hit(bytes)
            }
            // skipped (Redis failed a moment ago): neither hit nor miss
            Ok(Lookup::Bypass) => Lookup::Bypass,
            Ok(miss) => {
                self.counts.misses.fetch_add(1, Ordering::Relaxed);
                self.handles.misses.increment(1);
                miss
            }
            Err(e) => {
                self.count_error(&e);
                Lookup::Bypass
            }
        }
    }

    /// Keep `bytes` under `key` (from a [`Lookup::Miss`]).
    pub(crate) async fn store(&self, key: String, bytes: Vec<u8>) {
        let stored: std::result::Result<(), StoreError> = match &self.store {
            Store::Memory(m) => {
                self.count_evictions(m.store(key, bytes));
                Ok(())
            }
            #[cfg(feature = "redis")]
            Store::Redis(r) => r.store(&key, &bytes).await,
        };
        if let Err(e) = stored {
            self.count_error(&e);
        }
    }

    /// A statement wrote `touched`, inside transaction `tx` (0: outside
    /// one, committed already).
    pub(crate) fn wrote(&self, touched: &Touched, tx: u64) {
        if *touched == Touched::Nothing {
            return;
        }
        if tx != 0 {
            self.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(tx)
                .or_insert(Touched::Nothing)
                .merge(touched.clone());
            return;
        }
        self.invalidate(touched.clone());
    }

    /// Transaction `tx` ended: its writes are invalidated when it may have
    /// committed (a COMMIT that failed may have), forgotten when it rolled
    /// back.
    pub(crate) fn tx_end(&self, tx: u64, committed: bool) {
        let writes = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&tx);
        if let (Some(writes), true) = (writes, committed) {
            self.invalidate(writes);
        }
    }

    fn invalidate(&self, touched: Touched) {
        match &self.store {
            Store::Memory(m) => m.invalidate(&touched),
            #[cfg(feature = "redis")]
            Store::Redis(r) => r.invalidate(touched),
        }
    }

    /// Deliver the invalidations of the writes made so far to the other
    /// processes (Redis), before the write's caller goes on. A failure is
    /// counted, and the invalidations stay queued.
    pub(crate) async fn deliver(&self) {
        #[cfg(feature = "redis")]
        if let Store::Redis(r) = &self.store
            && let Err(e) = r.deliver().await
        {
            self.count_error(&e);
        }
    }

    /// Whether [`Cache::deliver`] has anything to do.
    pub(crate) fn has_queued(&self) -> bool {
        match &self.store {
            Store::Memory(_) => false,
            #[cfg(feature = "redis")]
            Store::Redis(r) => r.has_queued(),
        }
    }
}

/// Rows as one entry: each one's bytes (from `encode`) after its length;
/// `None` when one cannot be encoded.
pub(crate) fn encode_rows<T>(rows: &[T], encode: fn(&T) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for r in rows {
        let bytes = encode(r)?;
        out.extend_from_slice(&u32::try_from(bytes.len()).ok()?.to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    Some(out)
}

/// The rows of an [`encode_rows`] entry; `None` when it does not decode.
pub(crate) fn decode_rows<T>(mut bytes: &[u8], decode: fn(&[u8]) -> Option<T>) -> Option<Vec<T>> {
    let mut rows = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        let (one, rest) = (rest.get(..len)?, rest.get(len..)?);
        rows.push(decode(one)?);
        bytes = rest;
    }
    Some(rows)
}

/// `table` as the cache names it: lower case, without its schema (as
/// [`crate::statement::touched`] names the tables a write touches).
pub(crate) fn table_key(table: &str) -> String {
    table.rsplit('.').next().unwrap_or(table).to_lowercase()
}

/// A store's failure, for the count and the log.
#[derive(Debug)]
pub(crate) struct StoreError(pub(crate) String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
