//! The plain figures of a pool: its size ([`PoolStatus`]) and its counters
//! ([`PoolCounters`]). Data only, importing nothing of dal, so the pool that
//! keeps them and the telemetry that reports them both read them without
//! importing each other.

use std::sync::atomic::AtomicU64;

/// A snapshot of the pool's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PoolStatus {
    /// Open connections (idle + in use).
    pub size: usize,
    /// Idle connections.
    pub idle: usize,
    /// Connections checked out.
    pub in_use: usize,
    /// The configured maximum.
    pub max: usize,
}

/// Counters kept by the pool (read by `Db::stats`).
#[derive(Debug, Default)]
pub(crate) struct PoolCounters {
    pub acquisitions: AtomicU64,
    pub acquire_timeouts: AtomicU64,
    pub acquire_wait_ns: AtomicU64,
    pub connects: AtomicU64,
    pub connect_failures: AtomicU64,
    pub discarded: AtomicU64,
    pub pings: AtomicU64,
    pub ping_failures: AtomicU64,
    pub leaks: AtomicU64,
}
