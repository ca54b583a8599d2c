//! The read cache on Redis: entries and generations shared by every process
//! that uses the same database, each command bounded by the configured
//! timeout. After a failure the store is skipped for a second (its calls
//! read the database); invalidations that could not be delivered are kept
//! and delivered before the next lookup, which until then reads the
//! database.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Lookup, StoreError};
use crate::statement::Touched;

/// How long the store is skipped after it failed.
const BACKOFF: Duration = Duration::from_secs(1);

/// The entry under the generations read in the same round trip.
const LOOKUP: &str = r"
local g = redis.call('MGET', KEYS[1], KEYS[2])
local k = ARGV[1] .. (g[1] or '0') .. '.' .. (g[2] or '0') .. ARGV[2]
return {k, redis.call('GET', k)}
";

/// Move generations on: everything (ARGV[2] = '1') and each table named
/// after it, with the tables that depend on it.
const BUMP: &str = r"
local p = ARGV[1]
if ARGV[2] == '1' then redis.call('INCR', p .. 'g') end
for i = 3, #ARGV do
  redis.call('INCR', p .. 'g:' .. ARGV[i])
  for _, d in ipairs(redis.call('SMEMBERS', p .. 'd:' .. ARGV[i])) do
    redis.call('INCR', p .. 'g:' .. d)
  end
end
return 1
";

pub(crate) struct RedisStore(Arc<Shared>);

struct Shared {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<ConnectionManager>>,
    /// `dal:{namespace}:`
    prefix: String,
    ttl: Duration,
    timeout: Duration,
    down_until: Mutex<Option<Instant>>,
    /// Invalidations not delivered yet.
    queue: Mutex<Touched>,
    /// One delivery at a time: a caller that finds the queue empty while
    /// another delivery is on its way waits for it (its invalidation may be
    /// in it).
    delivering: tokio::sync::Mutex<()>,
    lookup: redis::Script,
    bump: redis::Script,
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("Redis: {e}"))
}

impl RedisStore {
    pub(crate) fn new(
        url: &str,
        namespace: &str,
        ttl: Duration,
        timeout: Duration,
    ) -> crate::error::Result<Self> {
        let client = redis::Client::open(url).map_err(|e| {
            crate::error::Error::config(
                "cache",
                format!("the Redis URL {} is not valid: {e}", super::redact(url)),
            )
        })?;
        Ok(RedisStore(Arc::new(Shared {
            client,
            conn: tokio::sync::Mutex::new(None),
            prefix: format!("dal:{namespace}:"),
            ttl,
            timeout,
            down_until: Mutex::new(None),
            queue: Mutex::new(Touched::Nothing),
            delivering: tokio::sync::Mutex::new(()),
            lookup: redis::Script::new(LOOKUP),
            bump: redis::Script::new(BUMP),
        })))
    }

    pub(crate) async fn lookup(&self, table: &str, id: &str) -> Result<Lookup, StoreError> {
        let s = &self.0;
        if s.is_down() {
            return Ok(Lookup::Bypass);
        }
        // this process's own writes are invalidated before it reads
        s.flush().await?;
        let mut conn = s.connection().await?;
        let p = &s.prefix;
        let mut invocation = s.lookup.key(format!("{p}g"));
        invocation
            .key(format!("{p}g:{table}"))
            .arg(format!("{p}e:{table}:"))
            .arg(format!(":{id}"));
        let call = invocation.invoke_async::<(String, Option<Vec<u8>>)>(&mut conn);
        match s.bounded(call).await? {
            (_, Some(bytes)) => Ok(Lookup::Hit(bytes)),
            (key, None) => Ok(Lookup::Miss(key)),
        }
    }

    pub(crate) async fn store(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let s = &self.0;
        if s.is_down() {
            return Ok(());
        }
        let mut conn = s.connection().await?;
        let ms = s.ttl.as_millis().max(1) as u64;
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(bytes).arg("PX").arg(ms);
        s.bounded(cmd.query_async::<()>(&mut conn)).await
    }

    /// Declare that `table`'s rows change when any of `parents` is written.
    pub(crate) async fn depend(&self, table: &str, parents: &[String]) -> Result<(), StoreError> {
        if parents.is_empty() {
            return Ok(());
        }
        let s = &self.0;
        if s.is_down() {
            return Err(StoreError("Redis: skipped after a failure".into()));
        }
        let mut conn = s.connection().await?;
        let mut pipe = redis::pipe();
        for p in parents {
            pipe.cmd("SADD")
                .arg(format!("{}d:{p}", s.prefix))
                .arg(table)
                .ignore();
        }
        let call = pipe.query_async::<()>(&mut conn);
        s.bounded(call).await
    }

    /// Queue `touched`, to be delivered by [`RedisStore::deliver`] (which
    /// the write calls before they return) or by the next lookup.
    pub(crate) fn invalidate(&self, touched: Touched) {
        self.0
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .merge(touched);
    }

    /// Whether invalidations wait to be delivered.
    pub(crate) fn has_queued(&self) -> bool {
        *self.0.queue.lock().unwrap_or_else(|p| p.into_inner()) != Touched::Nothing
    }

    /// Deliver the queued invalidations now, unless the store is skipped
    /// after a failure (they stay queued: this process's lookups read the
    /// database until they are delivered).
    pub(crate) async fn deliver(&self) -> Result<(), StoreError> {
        if !self.has_queued() || self.0.is_down() {
            return Ok(());
        }
        self.0.flush().await
    }
}

impl Shared {
    fn is_down(&self) -> bool {
        let mut down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        match *down {
            Some(until) if Instant::now() < until => true,
            Some(_) => {
                *down = None;
                false
            }
            None => false,
        }
    }

    fn mark_down(&self) {
        *self.down_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + BACKOFF);
    }

    /// `call` within the timeout; a failure marks the store down.
    async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        let r = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(failed(e)),
            Err(_) => Err(failed(format!("no answer within {:?}", self.timeout))),
        };
        if r.is_err() {
            self.mark_down();
        }
        r
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = &*slot {
            return Ok(c.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let c = self
            .bounded(ConnectionManager::new_with_config(
                self.client.clone(),
                config,
            ))
            .await?;
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Deliver the queued invalidations; on failure they stay queued.
    async fn flush(&self) -> Result<(), StoreError> {
        let _one_at_a_time = self.delivering.lock().await;
        let touched = std::mem::replace(
            &mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()),
            Touched::Nothing,
        );
        let (everything, tables) = match &touched {
            Touched::Nothing => return Ok(()),
            Touched::Everything => (true, &[][..]),
            Touched::Tables(t) => (false, &t[..]),
        };
        let sent = async {
            let mut conn = self.connection().await?;
            let mut call = self.bump.arg(&self.prefix);
            call.arg(if everything { "1" } else { "0" });
            for t in tables {
                call.arg(t);
            }
            self.bounded(call.invoke_async::<i64>(&mut conn)).await
        };
        match sent.await {
            Ok(_) => Ok(()),
            Err(e) => {
                self.queue
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .merge(touched);
                Err(e)
            }
        }
    }
}
