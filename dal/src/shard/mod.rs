//! Shards: an application's rows divided over several databases by a shard
//! key, each shard a normal [`Db`] (its own pool, replicas, breaker and
//! read cache).
//!
//! An entity names its key with `#[dal(shard_key)]`; a [`ShardMap`] says
//! which shard holds which keys (hash slots, or key ranges); [`Shards`]
//! routes:
//!
//! - calls with the key go to one shard: [`Shards::of`] (an entity's shard),
//!   [`Shards::for_key`], and [`Shards::find`] when the query's filter holds
//!   the key to one value or a list (`Order::TENANT.eq(7)`);
//! - queries without it fan out to every shard in parallel and merge
//!   ([`ShardedFind`]): order, limit and offset are applied after the
//!   merge, counts are summed;
//! - a transaction runs on one shard ([`Shards::transaction`]); a write of
//!   a row whose key belongs to another shard, through a shard's `Db` or
//!   inside its transaction, fails with [`Error::WrongShard`] before
//!   anything is sent;
//! - migrations and `ensure_schema` run on every shard, and report per shard;
//! - a shard that is down fails only the calls that need it: keyed calls to
//!   the other shards go on, a fan-out fails with [`Error::Shard`] naming
//!   the shard.
//!
//! Moving slots to a new shard is [`Shards::begin_move`]: freeze, copy,
//! verify, switch, clean up.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use dal::{Db, Entity, Shards};
//!
//! #[derive(Entity, Debug, Clone)]
//! #[dal(table = "orders")]
//! struct Order {
//!     #[dal(id)]
//!     id: uuid::Uuid,
//!     #[dal(shard_key)]
//!     tenant: i64,
//!     cents: i64,
//! }
//!
//! let shards = Shards::builder()
//!     .shard("a", Db::connect_url("sqlite::memory:").await?)
//!     .shard("b", Db::connect_url("sqlite::memory:").await?)
//!     .slots(64)
//!     .build()?;
//! shards.ensure_schema::<Order>().await?;
//!
//! for tenant in 0..10 {
//!     let mut o = Order { id: uuid::Uuid::new_v4(), tenant, cents: tenant * 100 };
//!     o.save(shards.of(&o)?).await?; // the shard holding the tenant
//! }
//! // one shard: the filter holds the key
//! let mine = shards.find(Order::find().filter(Order::TENANT.eq(3))).all().await?;
//! assert_eq!(mine.len(), 1);
//! // every shard, merged and ordered
//! let top = shards
//!     .find(Order::find().order_by(Order::CENTS.desc()).limit(3))
//!     .all()
//!     .await?;
//! assert_eq!(top.iter().map(|o| o.cents).collect::<Vec<_>>(), vec![900, 800, 700]);
//! assert_eq!(shards.find(Order::find()).count().await?, 10);
//! # Ok::<(), dal::Error>(()) }).unwrap();
//! ```

mod fanout;
mod moving;

use std::sync::{Arc, RwLock, Weak};

pub use crate::shard_key::{KeyRange, Layout, ShardKey, ShardMap, SlotRange};
pub use fanout::ShardedFind;
pub use moving::{MoveReport, SlotMove};

use crate::db::Db;
use crate::entity::{Entity, shard_key_of as key_of};
use crate::error::{Error, Result};
use crate::shard_key::{Pin, Place, Router};
use crate::transaction::{BoxFuture, Transaction};

/// Several databases holding one application's rows, divided by a shard
/// key. Cheap to clone (an `Arc`). See the [module documentation](self).
#[derive(Clone)]
pub struct Shards {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Shards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.state();
        f.debug_struct("Shards")
            .field("shards", &self.inner.names)
            .field("map_version", &state.map.version())
            .field("moving", &state.moving.as_ref().map(|m| m.slots.len()))
            .finish()
    }
}

pub(crate) struct Inner {
    names: Vec<String>,
    dbs: Vec<Db>,
    state: RwLock<Arc<State>>,
}

/// The map in force, resolved for lookups, and the slots being moved.
struct State {
    map: ShardMap,
    /// Hash maps: each slot's shard index.
    owner: Vec<u16>,
    /// Range maps: each range's first key and shard index.
    ranges: Vec<(ShardKey, usize)>,
    moving: Option<Moving>,
}

/// Slots whose writes are refused while they are copied to `to`.
#[derive(Clone)]
struct Moving {
    slots: std::collections::BTreeSet<u32>,
    to: usize,
}

impl Inner {
    fn state(&self) -> Arc<State> {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_state(&self, s: State) {
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(s);
    }

    fn index_of_name(&self, name: &str) -> Result<usize> {
        self.names.iter().position(|n| n == name).ok_or_else(|| {
            Error::invalid_input(
                "shard",
                format!(
                    "no shard is called `{name}` (the shards: {})",
                    self.names.join(", ")
                ),
            )
        })
    }

    fn resolve(&self, map: ShardMap, moving: Option<Moving>) -> Result<State> {
        let mut owner = Vec::new();
        let mut ranges = Vec::new();
        match map.layout() {
            Layout::Hash { slots, ranges: rs } => {
                owner = vec![0u16; *slots as usize];
                for r in rs {
                    let i = self.index_of_name(&r.shard)? as u16;
                    for s in r.from..r.to {
                        owner[s as usize] = i;
                    }
                }
            }
            Layout::Range { ranges: rs } => {
                for r in rs {
                    ranges.push((r.from.clone(), self.index_of_name(&r.shard)?));
                }
            }
        }
        Ok(State {
            map,
            owner,
            ranges,
            moving,
        })
    }

    /// Whether shard `i` is where the map puts `row` (true for entities
    /// without a shard key, and for rows whose key routes nowhere).
    fn owns<E: Entity>(&self, state: &State, i: usize, row: &E) -> bool {
        if E::__SHARD_KEY.is_none() {
            return true;
        }
        match key_of(row).and_then(|k| self.index_for(state, &k)) {
            Ok(holder) => holder == i,
            Err(_) => true,
        }
    }

    /// The shard index holding `key`.
    fn index_for(&self, state: &State, key: &ShardKey) -> Result<usize> {
        if let Some(slots) = state.map.slots() {
            return Ok(state.owner[key.slot(slots) as usize] as usize);
        }
        let mut found = None;
        for (start, i) in &state.ranges {
            match key.compare(start) {
                Some(std::cmp::Ordering::Less) => break,
                Some(_) => found = Some(*i),
                None => {
                    found = None;
                    break;
                }
            }
        }
        found.ok_or_else(|| {
            Error::invalid_input(
                "shard key",
                format!(
                    "no shard holds key {key}: it is below the map's first range, or of another kind"
                ),
            )
        })
    }
}

impl State {
    /// The moving slot holding `key`, when a move freezes it.
    fn frozen(&self, key: &ShardKey) -> Option<(u32, usize)> {
        let m = self.moving.as_ref()?;
        let slot = key.slot(self.map.slots()?);
        m.slots.contains(&slot).then_some((slot, m.to))
    }
}

/// Builds [`Shards`]: name each shard's database, then the map.
#[derive(Default)]
pub struct ShardsBuilder {
    shards: Vec<(String, Db)>,
    slots: Option<u32>,
    map: Option<ShardMap>,
}

impl std::fmt::Debug for ShardsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardsBuilder")
            .field(
                "shards",
                &self.shards.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("slots", &self.slots)
            .finish()
    }
}

impl ShardsBuilder {
    /// Add a shard: a name (what maps and errors call it) and its database.
    pub fn shard(mut self, name: impl Into<String>, db: Db) -> Self {
        self.shards.push((name.into(), db));
        self
    }

    /// Without a [`map`](ShardsBuilder::map): this many hash slots (default
    /// 1,024), split evenly over the shards in the order they were added.
    /// Choose a count well above the number of shards you may ever have:
    /// the slot count never changes, only the slots' owners.
    pub fn slots(mut self, n: u32) -> Self {
        self.slots = Some(n);
        self
    }

    /// The map to route by (every shard it names must be added; shards
    /// the map gives no keys yet are allowed: new shards, before a move).
    pub fn map(mut self, map: ShardMap) -> Self {
        self.map = Some(map);
        self
    }

    /// The shard set. Fails with [`Error::InvalidInput`] when there are no
    /// shards, two share a name or a database, the map names a shard that
    /// was not added, or a database already belongs to another shard set.
    pub fn build(self) -> Result<Shards> {
        if self.shards.is_empty() {
            return Err(Error::invalid_input("shards", "add at least one shard"));
        }
        let mut names: Vec<String> = Vec::new();
        for (i, (n, db)) in self.shards.iter().enumerate() {
            if n.is_empty() || names.contains(n) {
                return Err(Error::invalid_input(
                    "shards",
                    format!("shard names must be distinct and non-empty: `{n}`"),
                ));
            }
            if self.shards[..i]
                .iter()
                .any(|(_, d)| Arc::ptr_eq(&d.inner, &db.inner))
            {
                return Err(Error::invalid_input(
                    "shards",
                    format!("shard `{n}` uses the same database handle as another shard"),
                ));
            }
            if db.inner.shard.get().is_some() {
                return Err(Error::invalid_input(
                    "shards",
                    format!("the database of shard `{n}` already belongs to a shard set"),
                ));
            }
            names.push(n.clone());
        }
        let map = match self.map {
            Some(m) => m,
            None => {
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                ShardMap::hash(self.slots.unwrap_or(1024), &refs)?
            }
        };
        if names.len() > usize::from(u16::MAX) {
            return Err(Error::invalid_input("shards", "too many shards"));
        }
        let dbs: Vec<Db> = self.shards.into_iter().map(|(_, d)| d).collect();
        let probe = Inner {
            names: names.clone(),
            dbs: Vec::new(),
            state: RwLock::new(Arc::new(State {
                map: map.clone(),
                owner: Vec::new(),
                ranges: Vec::new(),
                moving: None,
            })),
        };
        let state = probe.resolve(map, None)?;
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            for (index, db) in dbs.iter().enumerate() {
                let router: Weak<dyn Router> = weak.clone();
                let _ = db.inner.shard.set(Pin { router, index });
            }
            Inner {
                names,
                dbs,
                state: RwLock::new(Arc::new(state)),
            }
        });
        Ok(Shards { inner })
    }
}

impl Shards {
    /// Start building a shard set.
    pub fn builder() -> ShardsBuilder {
        ShardsBuilder::default()
    }

    /// The shards' names, in the order they were added.
    pub fn names(&self) -> Vec<&str> {
        self.inner.names.iter().map(String::as_str).collect()
    }

    /// How many shards.
    pub fn len(&self) -> usize {
        self.inner.dbs.len()
    }

    /// Always false: a shard set has at least one shard.
    pub fn is_empty(&self) -> bool {
        self.inner.dbs.is_empty()
    }

    /// The database of the shard called `name`.
    pub fn shard(&self, name: &str) -> Option<&Db> {
        let i = self.inner.names.iter().position(|n| n == name)?;
        Some(&self.inner.dbs[i])
    }

    /// Each shard's name and database.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Db)> {
        self.inner
            .names
            .iter()
            .map(String::as_str)
            .zip(self.inner.dbs.iter())
    }

    /// The map in force (a copy).
    pub fn map(&self) -> ShardMap {
        self.inner.state().map.clone()
    }

    /// Route by `map` from now on (the map another process switched to,
    /// read back from where the application keeps it). Refused when it is
    /// older than the map in force, names a shard this set does not have,
    /// or a move is in progress.
    pub fn set_map(&self, map: ShardMap) -> Result<()> {
        let current = self.inner.state();
        if current.moving.is_some() {
            return Err(Error::invalid_input(
                "shard map",
                "a slot move is in progress: finish or abort it first",
            ));
        }
        if map.version() < current.map.version() {
            return Err(Error::invalid_input(
                "shard map",
                format!(
                    "version {} is older than the map in force (version {})",
                    map.version(),
                    current.map.version()
                ),
            ));
        }
        map.check()?;
        let state = self.inner.resolve(map, None)?;
        self.inner.set_state(state);
        Ok(())
    }

    /// The name of the shard holding `key` (any value [`ShardKey::of`]
    /// accepts: an integer, a string, a UUID).
    pub fn shard_name_for<K: crate::Encode + ?Sized>(&self, key: &K) -> Result<&str> {
        let key = ShardKey::of(key)?;
        let i = self.inner.index_for(&self.inner.state(), &key)?;
        Ok(&self.inner.names[i])
    }

    /// The database of the shard holding `key`. Reads and writes through
    /// it run on that shard only.
    pub fn for_key<K: crate::Encode + ?Sized>(&self, key: &K) -> Result<&Db> {
        let key = ShardKey::of(key)?;
        let i = self.inner.index_for(&self.inner.state(), &key)?;
        Ok(&self.inner.dbs[i])
    }

    /// The database of the shard holding `entity`'s row (by its
    /// `#[dal(shard_key)]` field): `entity.save(shards.of(&entity)?)`.
    /// [`Error::InvalidInput`] when the entity declares no shard key.
    pub fn of<E: Entity>(&self, entity: &E) -> Result<&Db> {
        let key = key_of(entity)?;
        let i = self.inner.index_for(&self.inner.state(), &key)?;
        Ok(&self.inner.dbs[i])
    }

    /// A query over every shard, or over the shards its filter's key
    /// values live on. See [`ShardedFind`].
    pub fn find<E: Entity>(&self, query: crate::entity::Find<E>) -> ShardedFind<'_, E> {
        ShardedFind::new(self, query)
    }

    /// The row with this id, looked for on every shard in parallel (ids
    /// without the shard key do not say where a row is). Needs ids unique
    /// across shards (UUIDs, or integer sequences that do not overlap):
    /// the same id on two shards is an [`Error::InvalidInput`].
    pub async fn get<E: Entity>(&self, id: E::Id) -> Result<Option<E>> {
        let found = self
            .each(|db| {
                let id = id.clone();
                async move { E::get(&db, id).await }
            })
            .await?;
        let state = self.inner.state();
        let mut out: Option<(String, E)> = None;
        for (i, (name, row)) in found.into_iter().enumerate() {
            let Some(row) = row else { continue };
            // a copy left on a shard the map no longer gives its key to (a
            // slot move not yet cleaned up) is not the row
            if !self.inner.owns(&state, i, &row) {
                continue;
            }
            if let Some((first, _)) = &out {
                return Err(Error::invalid_input(
                    "id",
                    format!(
                        "{} row {:?} is on shard `{first}` and on shard `{name}`: ids must be unique across shards",
                        E::INFO.table,
                        row.id()
                    ),
                ));
            }
            out = Some((name, row));
        }
        Ok(out.map(|(_, e)| e))
    }

    /// Run a transaction (the closure form of [`Db::transaction`]: re-run
    /// on a serialization failure or deadlock) on the shard holding `key`.
    /// A transaction stays on one shard: inside it, a write of a row whose
    /// key belongs to another shard fails with [`Error::WrongShard`].
    pub async fn transaction<K, R, F>(&self, key: &K, f: F) -> Result<R>
    where
        K: crate::Encode + ?Sized,
        R: Send,
        F: for<'t> FnMut(&'t mut Transaction<'static>) -> BoxFuture<'t, Result<R>> + Send,
    {
        let db = self.for_key(key)?;
        db.transaction(f).await
    }

    /// Run `f` on every shard's database at once (in this task, the shards'
    /// round trips overlapping); each shard's answer by name, in the shards'
    /// order. The first failure, as [`Error::Shard`] naming its shard, after
    /// every shard has answered.
    pub async fn each<T, F, Fut>(&self, f: F) -> Result<Vec<(String, T)>>
    where
        F: Fn(Db) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let all = self.each_settled(f).await;
        let mut out = Vec::with_capacity(all.len());
        for (name, r) in all {
            match r {
                Ok(v) => out.push((name, v)),
                Err(e) => return Err(Error::in_shard(&name, e)),
            }
        }
        Ok(out)
    }

    /// [`each`](Shards::each), keeping every shard's own result.
    pub async fn each_settled<T, F, Fut>(&self, f: F) -> Vec<(String, Result<T>)>
    where
        F: Fn(Db) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let runs = self.inner.dbs.iter().map(|db| f(db.clone()));
        let results = futures_util::future::join_all(runs).await;
        self.inner.names.iter().cloned().zip(results).collect()
    }

    /// Create or complete `E`'s tables on every shard
    /// ([`Entity::ensure_schema`]).
    pub async fn ensure_schema<E: Entity>(
        &self,
    ) -> Result<Vec<(String, crate::entity::SchemaReport)>> {
        self.each(|db| async move { E::ensure_schema(&db).await })
            .await
    }

    /// Apply `migrator`'s pending migrations on every shard (each under its
    /// own lock and tracking table). Every shard is tried; a shard that
    /// failed is named in the error, the others keep what they applied, and
    /// running it again applies only what is still pending.
    pub async fn migrate(
        &self,
        migrator: &crate::migrate::Migrator,
    ) -> Result<Vec<(String, crate::migrate::Report)>> {
        self.each(|db| async move { migrator.up(&db).await }).await
    }

    /// Each shard's migration status ([`Migrator::status`](crate::migrate::Migrator::status)).
    pub async fn migration_status(
        &self,
        migrator: &crate::migrate::Migrator,
    ) -> Vec<(String, Result<Vec<crate::migrate::MigrationStatus>>)> {
        self.each_settled(|db| async move { migrator.status(&db).await })
            .await
    }

    /// Each shard's health ([`Db::health`]).
    pub async fn health(&self) -> Vec<(String, crate::Health)> {
        let runs = self.inner.dbs.iter().map(|db| db.health());
        let results = futures_util::future::join_all(runs).await;
        self.inner.names.iter().cloned().zip(results).collect()
    }

    /// Start moving hash slots `slots` to shard `to`: see [`SlotMove`].
    /// From now until the move ends, writes of rows in those slots fail
    /// with [`Error::ShardMoving`] (transient: retry after the switch).
    /// One move at a time.
    pub fn begin_move(&self, slots: std::ops::Range<u32>, to: &str) -> Result<SlotMove> {
        SlotMove::begin(self.clone(), slots, to)
    }
}

impl Router for Inner {
    fn place(&self, key: &ShardKey) -> Result<Place> {
        let state = self.state();
        Ok(match state.frozen(key) {
            Some((slot, to)) => Place::Frozen(slot, self.names[to].clone()),
            None => Place::Holder(self.index_for(&state, key)?),
        })
    }

    fn name(&self, index: usize) -> String {
        self.names.get(index).cloned().unwrap_or_default()
    }
}
