//! The connection pool: a lean, generic pool of driver connections.
//!
//! Checkout is a semaphore permit plus a pop from a LIFO stack of idle connections:
//! no server round trip unless the connection sat idle longer than
//! `validate_after_idle` (the HikariCP rule), and none at all on return. A
//! connection that failed with a connection error is discarded instead of reused.

use std::collections::HashMap;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result, TimeoutKind};
use crate::resilience::deadline::{Checkout, CheckoutSpec};

pub(crate) mod status;

pub(crate) use status::PoolCounters;
pub use status::PoolStatus;

/// Run `f` within what is left of `limit`; `None` when it ran out.
async fn within<T>(limit: &Checkout, f: impl Future<Output = T>) -> Option<T> {
    match limit.at {
        Some(at) => tokio::time::timeout_at(at.into(), f).await.ok(),
        None => Some(f.await),
    }
}

/// Opens, checks and resets connections of one kind.
pub(crate) trait Manager: Send + Sync + 'static {
    type Conn: Send + 'static;

    /// Open a new connection.
    fn connect(&self) -> impl Future<Output = Result<Self::Conn>> + Send;

    /// Check that an idle connection still works.
    fn ping<'a>(&'a self, conn: &'a mut Self::Conn)
    -> impl Future<Output = Result<()>> + Send + 'a;

    /// Bring a connection back to a clean state (e.g. roll back a transaction a
    /// dropped guard left open). Called before reuse when the connection is marked.
    fn reset<'a>(
        &'a self,
        conn: &'a mut Self::Conn,
    ) -> impl Future<Output = Result<()>> + Send + 'a;

    /// After a statement on `conn` ran out of time and was abandoned (its
    /// cancellation already requested): wait, in the background, for the
    /// server to confirm, and say whether the connection is usable again. When
    /// it is not, end its session on the server.
    fn recover<'a>(&'a self, conn: &'a mut Self::Conn) -> impl Future<Output = bool> + Send + 'a;

    /// Whether a statement is still running on `conn` because the call that
    /// sent it was dropped before it finished (not at a deadline: the caller
    /// went away). Such a connection is recovered like a timed-out one before
    /// it is reused.
    fn interrupted(&self, _conn: &Self::Conn) -> bool {
        false
    }
}

/// Settings the pool needs (taken from the database configuration).
#[derive(Debug, Clone)]
pub(crate) struct PoolSettings {
    pub max_connections: usize,
    pub min_connections: usize,
    pub connect_timeout: Duration,
    pub idle_timeout: Option<Duration>,
    pub max_lifetime: Option<Duration>,
    pub validate_after_idle: Duration,
    pub leak_detection_threshold: Option<Duration>,
    pub capture_backtrace: bool,
    pub name: String,
    /// Where waits, gauges and leaks are reported.
    pub telemetry: Arc<crate::telemetry::Telemetry>,
}

struct Slot<C> {
    conn: C,
    created_at: Instant,
    last_used: Instant,
    needs_reset: bool,
}

/// A connection held longer than the leak-detection threshold.
#[derive(Debug, Clone)]
pub struct HeldConnection {
    /// How long it has been held.
    pub held_for: Duration,
    /// Where it was acquired (`file:line:column`).
    pub acquired_at: String,
    /// The captured backtrace, when backtrace capture is enabled.
    pub backtrace: Option<String>,
}

struct HeldInfo {
    since: Instant,
    location: &'static Location<'static>,
    backtrace: Option<std::backtrace::Backtrace>,
    reported: bool,
}

struct Shared<M: Manager> {
    manager: M,
    idle: Mutex<Vec<Box<Slot<M::Conn>>>>,
    permits: Arc<Semaphore>,
    settings: PoolSettings,
    open: AtomicUsize,
    closed: AtomicBool,
    counters: PoolCounters,
    held: Mutex<HashMap<u64, HeldInfo>>,
    next_id: AtomicU64,
}

impl<M: Manager> Shared<M> {
    /// Publish the pool gauges after a checkout or a return. The caller holds
    /// the idle stack's lock and passes its length, so the gauges follow the
    /// pool as it changes (not only on the upkeep tick), and the last write
    /// always describes the latest state: every gauge write happens under that
    /// lock and reads `open` there, and every change of `open` is followed by
    /// such a write.
    fn publish_use(&self, idle: usize) {
        self.settings
            .telemetry
            .pool_use_gauges(self.status_with(idle));
    }

    /// The pool's status given its idle count.
    fn status_with(&self, idle: usize) -> PoolStatus {
        let size = self.open.load(Ordering::Relaxed);
        PoolStatus {
            size,
            idle,
            in_use: size.saturating_sub(idle),
            max: self.settings.max_connections,
        }
    }

    /// Publish the pool gauges and the breaker state, read under the idle
    /// stack's lock (see [`publish_use`](Self::publish_use) for why: a write
    /// computed outside the lock could land after a newer one and leave the
    /// gauges stale until the next tick).
    fn publish_all(&self) {
        let guard = self.idle.lock();
        let idle = guard.as_ref().map(|v| v.len()).unwrap_or(0);
        self.settings.telemetry.pool_gauges(self.status_with(idle));
        drop(guard);
    }

    fn status(&self) -> PoolStatus {
        let idle = self.idle.lock().map(|v| v.len()).unwrap_or(0);
        self.status_with(idle)
    }
}

/// A pool of `M::Conn`.
pub(crate) struct Pool<M: Manager> {
    shared: Arc<Shared<M>>,
}

impl<M: Manager> Clone for Pool<M> {
    fn clone(&self) -> Self {
        Pool {
            shared: self.shared.clone(),
        }
    }
}

impl<M: Manager> Pool<M> {
    pub(crate) fn new(manager: M, settings: PoolSettings) -> Self {
        let max = settings.max_connections.max(1);
        let shared = Arc::new(Shared {
            manager,
            idle: Mutex::new(Vec::with_capacity(max)),
            permits: Arc::new(Semaphore::new(max)),
            settings,
            open: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            counters: PoolCounters::default(),
            held: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        });
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(maintain(Arc::downgrade(&shared)));
        }
        Pool { shared }
    }

    pub(crate) fn status(&self) -> PoolStatus {
        self.shared.status()
    }

    /// Publish the pool gauges and the breaker state now.
    pub(crate) fn publish_gauges(&self) {
        self.shared.publish_all();
    }

    /// The manager that opens this pool's connections.
    pub(crate) fn manager(&self) -> &M {
        &self.shared.manager
    }

    /// The pool's counters.
    pub(crate) fn counters(&self) -> &PoolCounters {
        &self.shared.counters
    }

    /// Open connections until `n` are open (used at pool creation), within
    /// `limit`.
    pub(crate) async fn fill(&self, n: usize, limit: &CheckoutSpec) -> Result<()> {
        let mut conns = Vec::with_capacity(n);
        let mut fixed = None;
        while self.shared.open.load(Ordering::Relaxed) < n {
            conns.push(self.acquire(Location::caller(), limit, &mut fixed).await?);
            if conns.len() >= n {
                break;
            }
        }
        Ok(())
    }

    /// Check out a connection within the limit `spec` gives (fixed into
    /// `fixed` when first needed): waiting for a free one, checking
    /// an idle one that needs it, or opening a new one (each attempt also
    /// bounded by the connect timeout). Fails with the timeout of whichever
    /// limit ran out first.
    pub(crate) async fn acquire(
        &self,
        location: &'static Location<'static>,
        spec: &CheckoutSpec,
        fixed: &mut Option<Checkout>,
    ) -> Result<PooledConn<M>> {
        let shared = &self.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(Error::PoolClosed);
        }
        // the clock is read only when there is something to wait for, and the
        // checkout's limit fixed then (once per checkout, across its retries:
        // `fixed` is the caller's)
        let mut start: Option<Instant> = None;
        let permit = match shared.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                let now = Instant::now();
                start = Some(now);
                let limit = *fixed.get_or_insert_with(|| spec.fix(now));
                let wait = shared.permits.clone().acquire_owned();
                let r = match limit.at {
                    Some(at) => tokio::time::timeout_at(at.into(), wait).await,
                    None => Ok(wait.await),
                };
                match r {
                    Ok(Ok(p)) => p,
                    Ok(Err(_)) => return Err(Error::PoolClosed),
                    Err(_) => {
                        shared
                            .counters
                            .acquire_timeouts
                            .fetch_add(1, Ordering::Relaxed);
                        metrics::counter!("dal_pool_acquire_timeouts_total", "db" => shared.settings.name.clone()).increment(1);
                        return Err(limit.error(TimeoutKind::Acquire));
                    }
                }
            }
        };
        let mut permit = Some(permit);
        loop {
            let slot = match shared.idle.lock() {
                Ok(mut v) => {
                    let s = v.pop();
                    if s.is_some() {
                        shared.publish_use(v.len());
                    }
                    s
                }
                Err(_) => None,
            };
            let Some(slot) = slot else { break };
            let now = Instant::now();
            if shared
                .settings
                .max_lifetime
                .is_some_and(|l| now.duration_since(slot.created_at) > l)
            {
                self.discard(slot.conn);
                continue;
            }
            let needs_ping =
                now.duration_since(slot.last_used) > shared.settings.validate_after_idle;
            let needs_reset = slot.needs_reset;
            // wrap first so a cancelled checkout still accounts for the connection
            let mut pooled = self.wrap(slot, permit.take().expect("permit"), location);
            if needs_reset || needs_ping {
                let limit = *fixed.get_or_insert_with(|| spec.fix(now));
                pooled.broken = true;
                // a reset or a check that does not answer within the limit gives
                // the connection up (it is in an unknown state)
                if needs_reset {
                    // boxed: rare, and it would make every checkout's future larger
                    let reset = Box::pin(shared.manager.reset(pooled.conn_mut()));
                    if !matches!(within(&limit, reset).await, Some(Ok(()))) {
                        permit = Some(pooled.release_permit());
                        if limit.remaining().is_zero() {
                            return Err(limit.error(TimeoutKind::Acquire));
                        }
                        continue;
                    }
                }
                if needs_ping {
                    shared.counters.pings.fetch_add(1, Ordering::Relaxed);
                    let ping = Box::pin(shared.manager.ping(pooled.conn_mut()));
                    if !matches!(within(&limit, ping).await, Some(Ok(()))) {
                        shared
                            .counters
                            .ping_failures
                            .fetch_add(1, Ordering::Relaxed);
                        permit = Some(pooled.release_permit());
                        if limit.remaining().is_zero() {
                            return Err(limit.error(TimeoutKind::Acquire));
                        }
                        continue;
                    }
                }
                pooled.broken = false;
            }
            pooled.waited = start.is_some();
            self.record_wait(start);
            return Ok(pooled);
        }
        // no idle connection: open one, within the connect timeout and what is
        // left of the checkout's limit
        let limit = *fixed.get_or_insert_with(|| spec.fix(Instant::now()));
        let connect_timeout = shared.settings.connect_timeout;
        let left = limit.remaining();
        let (attempt_limit, cut_by_checkout) = if left < connect_timeout {
            (left, true)
        } else {
            (connect_timeout, false)
        };
        let attempt_start = Instant::now();
        // boxed: opening a connection is rare, and its future is large (it
        // would make every checkout's future, and every call's, larger)
        let r = tokio::time::timeout(attempt_limit, Box::pin(shared.manager.connect())).await;
        let conn = match r {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                shared
                    .counters
                    .connect_failures
                    .fetch_add(1, Ordering::Relaxed);
                return Err(e);
            }
            Err(_) => {
                shared
                    .counters
                    .connect_failures
                    .fetch_add(1, Ordering::Relaxed);
                return Err(if cut_by_checkout {
                    limit.error(TimeoutKind::Connect)
                } else {
                    Error::timeout(
                        TimeoutKind::Connect,
                        TimeoutKind::Connect,
                        connect_timeout,
                        limit.call_start.elapsed().max(attempt_start.elapsed()),
                    )
                });
            }
        };
        shared.counters.connects.fetch_add(1, Ordering::Relaxed);
        shared.open.fetch_add(1, Ordering::Relaxed);
        shared.publish_all();
        let now = Instant::now();
        let slot = Box::new(Slot {
            conn,
            created_at: now,
            last_used: now,
            needs_reset: false,
        });
        self.record_wait(start);
        let mut pooled = self.wrap(slot, permit.take().expect("permit"), location);
        pooled.waited = start.is_some();
        Ok(pooled)
    }

    fn record_wait(&self, start: Option<Instant>) {
        let c = &self.shared.counters;
        c.acquisitions.fetch_add(1, Ordering::Relaxed);
        if let Some(start) = start {
            let waited = start.elapsed();
            c.acquire_wait_ns
                .fetch_add(waited.as_nanos() as u64, Ordering::Relaxed);
            self.shared.settings.telemetry.acquire_waited(waited);
        } else {
            // served at once: still one observation of the wait distribution
            self.shared
                .settings
                .telemetry
                .acquire_waited(Duration::ZERO);
        }
    }

    fn wrap(
        &self,
        slot: Box<Slot<M::Conn>>,
        permit: OwnedSemaphorePermit,
        location: &'static Location<'static>,
    ) -> PooledConn<M> {
        let held_id = if self.shared.settings.leak_detection_threshold.is_some() {
            let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
            let backtrace = self
                .shared
                .settings
                .capture_backtrace
                .then(std::backtrace::Backtrace::force_capture);
            if let Ok(mut held) = self.shared.held.lock() {
                held.insert(
                    id,
                    HeldInfo {
                        since: Instant::now(),
                        location,
                        backtrace,
                        reported: false,
                    },
                );
            }
            Some(id)
        } else {
            None
        };
        PooledConn {
            slot: Some(slot),
            shared: self.shared.clone(),
            permit: Some(permit),
            broken: false,
            recover: false,
            waited: false,
            held_id,
        }
    }

    fn discard(&self, conn: M::Conn) {
        drop(conn);
        self.shared.open.fetch_sub(1, Ordering::Relaxed);
        self.shared.publish_all();
        self.shared
            .counters
            .discarded
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Close the pool: idle connections are closed now, checked-out ones when returned.
    pub(crate) fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.permits.close();
        let idle: Vec<_> = self
            .shared
            .idle
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for s in idle {
            self.discard(s.conn);
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Connections held longer than the leak-detection threshold.
    pub(crate) fn held_connections(&self) -> Vec<HeldConnection> {
        let Some(threshold) = self.shared.settings.leak_detection_threshold else {
            return Vec::new();
        };
        let held = match self.shared.held.lock() {
            Ok(h) => h,
            Err(_) => return Vec::new(),
        };
        let now = Instant::now();
        held.values()
            .filter(|h| now.duration_since(h.since) >= threshold)
            .map(|h| HeldConnection {
                held_for: now.duration_since(h.since),
                acquired_at: h.location.to_string(),
                backtrace: h.backtrace.as_ref().map(|b| b.to_string()),
            })
            .collect()
    }
}

/// Background upkeep: close connections idle too long or too old (keeping the
/// minimum), and report connections held longer than the leak threshold.
async fn maintain<M: Manager>(weak: Weak<Shared<M>>) {
    let period = {
        let Some(s) = weak.upgrade() else { return };
        // the pool gauges are published at least every 5 seconds
        let mut p = Duration::from_secs(5);
        for d in [
            s.settings.idle_timeout,
            s.settings.max_lifetime,
            s.settings.leak_detection_threshold,
        ]
        .into_iter()
        .flatten()
        {
            p = p.min(d / 2);
        }
        p.max(Duration::from_millis(50))
    };
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let Some(shared) = weak.upgrade() else { return };
        if shared.closed.load(Ordering::Acquire) {
            return;
        }
        let now = Instant::now();
        let mut expired = Vec::new();
        if let Ok(mut idle) = shared.idle.lock() {
            let min = shared.settings.min_connections;
            let mut open = shared.open.load(Ordering::Relaxed);
            let mut i = 0;
            while i < idle.len() {
                let s = &idle[i];
                let too_old = shared
                    .settings
                    .max_lifetime
                    .is_some_and(|l| now.duration_since(s.created_at) > l);
                let too_idle = shared
                    .settings
                    .idle_timeout
                    .is_some_and(|t| now.duration_since(s.last_used) > t);
                if too_old || (too_idle && open > min) {
                    expired.push(idle.remove(i));
                    open -= 1;
                } else {
                    i += 1;
                }
            }
        }
        for s in expired {
            drop(s.conn);
            shared.open.fetch_sub(1, Ordering::Relaxed);
            shared.counters.discarded.fetch_add(1, Ordering::Relaxed);
        }
        shared.publish_all();
        if let Some(threshold) = shared.settings.leak_detection_threshold
            && let Ok(mut held) = shared.held.lock()
        {
            {
                for h in held.values_mut() {
                    let age = now.duration_since(h.since);
                    if !h.reported && age >= threshold {
                        h.reported = true;
                        shared.counters.leaks.fetch_add(1, Ordering::Relaxed);
                        metrics::counter!("dal_pool_leaks_total", "db" => shared.settings.name.clone()).increment(1);
                        match &h.backtrace {
                            Some(bt) => tracing::warn!(
                                db = %shared.settings.name,
                                held_for_ms = age.as_millis() as u64,
                                acquired_at = %h.location,
                                backtrace = %bt,
                                "connection held longer than the leak-detection threshold"
                            ),
                            None => tracing::warn!(
                                db = %shared.settings.name,
                                held_for_ms = age.as_millis() as u64,
                                acquired_at = %h.location,
                                "connection held longer than the leak-detection threshold"
                            ),
                        }
                    }
                }
            }
        }
    }
}

/// A checked-out connection; returns to the pool when dropped.
pub(crate) struct PooledConn<M: Manager> {
    // boxed: a connection moves between the idle stack and its users without copying
    slot: Option<Box<Slot<M::Conn>>>,
    shared: Arc<Shared<M>>,
    permit: Option<OwnedSemaphorePermit>,
    /// Set after a connection-level failure: the connection is closed, not reused.
    pub(crate) broken: bool,
    /// Set when a statement was abandoned at its deadline: when returned, the
    /// connection is recovered in the background ([`Manager::recover`]) before
    /// it is reused (or closed if that fails).
    pub(crate) recover: bool,
    /// The checkout had to wait for this connection (the pool was saturated).
    pub(crate) waited: bool,
    held_id: Option<u64>,
}

impl<M: Manager> PooledConn<M> {
    /// A handle on the pool this connection belongs to.
    pub(crate) fn pool(&self) -> Pool<M> {
        Pool {
            shared: self.shared.clone(),
        }
    }

    /// The database's telemetry.
    pub(crate) fn telemetry(&self) -> &crate::telemetry::Telemetry {
        &self.shared.settings.telemetry
    }

    pub(crate) fn conn_mut(&mut self) -> &mut M::Conn {
        &mut self.slot.as_mut().expect("connection present").conn
    }

    /// Mark (or unmark) the connection so the pool resets it before the next checkout.
    pub(crate) fn set_needs_reset(&mut self, needs_reset: bool) {
        if let Some(s) = self.slot.as_mut() {
            s.needs_reset = needs_reset;
        }
    }

    /// Give up this (bad) connection but keep the permit for another attempt.
    fn release_permit(mut self) -> OwnedSemaphorePermit {
        self.broken = true;
        let permit = self.permit.take().expect("permit");
        drop(self);
        permit
    }
}

impl<M: Manager> Deref for PooledConn<M> {
    type Target = M::Conn;
    fn deref(&self) -> &M::Conn {
        &self.slot.as_ref().expect("connection present").conn
    }
}

impl<M: Manager> DerefMut for PooledConn<M> {
    fn deref_mut(&mut self) -> &mut M::Conn {
        self.conn_mut()
    }
}

impl<M: Manager> Drop for PooledConn<M> {
    fn drop(&mut self) {
        if let Some(id) = self.held_id
            && let Ok(mut held) = self.shared.held.lock()
        {
            held.remove(&id);
        }
        let interrupted = self
            .slot
            .as_ref()
            .is_some_and(|s| self.shared.manager.interrupted(&s.conn));
        if (self.recover || interrupted)
            && !self.broken
            && !self.shared.closed.load(Ordering::Acquire)
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            // the permit goes back now: callers must not wait for a connection
            // whose server may never answer (a new one is opened for them);
            // the connection rejoins the pool if the server confirms the
            // cancellation and there is room for it
            let mut conn = PooledConn {
                slot: self.slot.take(),
                shared: self.shared.clone(),
                permit: None,
                broken: true,
                recover: false,
                waited: false,
                held_id: None,
            };
            handle.spawn(async move {
                let shared = conn.shared.clone();
                let recovered = match conn.slot.as_mut() {
                    Some(slot) => shared.manager.recover(&mut slot.conn).await,
                    None => false,
                };
                let room = shared.open.load(Ordering::Relaxed) <= shared.settings.max_connections;
                conn.broken = !(recovered && room);
                drop(conn);
            });
            drop(self.permit.take());
            return;
        }
        let Some(mut slot) = self.slot.take() else {
            return;
        };
        // one clock read serves the lifetime check and the idle timestamp
        let now = Instant::now();
        let expired = self
            .shared
            .settings
            .max_lifetime
            .is_some_and(|l| now.duration_since(slot.created_at) > l);
        // (an interrupted connection that could not be recovered is closed)
        if self.broken || expired || interrupted || self.shared.closed.load(Ordering::Acquire) {
            drop(slot.conn);
            self.shared.open.fetch_sub(1, Ordering::Relaxed);
            self.shared.publish_all();
            self.shared
                .counters
                .discarded
                .fetch_add(1, Ordering::Relaxed);
        } else {
            slot.last_used = now;
            if let Ok(mut idle) = self.shared.idle.lock() {
                idle.push(slot);
                self.shared.publish_use(idle.len());
            }
        }
        // the permit is released after the connection is back on the stack
        drop(self.permit.take());
    }
}
