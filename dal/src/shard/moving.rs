//! [`SlotMove`]: moving hash slots to another shard (adding a shard is
//! moving slots to it).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Moving, Shards, key_of};
use crate::codec::Encode;
use crate::db::Db;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::value::Value;

/// Rows per page read from a source shard, and per `IN` list.
const PAGE: usize = 500;

/// A move of hash slots to another shard, started by
/// [`Shards::begin_move`]. The procedure, for every sharded entity
/// (parents before children):
///
/// 1. **freeze** (`begin_move`): writes of rows in the moving slots fail
///    with [`Error::ShardMoving`] (transient; reads go on, from the old
///    shards);
/// 2. **copy** ([`copy`](SlotMove::copy)): each row of those slots, and
///    its history, is copied as it is (ids, timestamps, versions) from its
///    shard to the new one, in one transaction per page;
/// 3. **verify** ([`verify`](SlotMove::verify)): every copied row and its
///    history are read back from both sides and compared value by value;
/// 4. **switch** ([`switch`](SlotMove::switch)): the map's next version
///    gives the slots to the new shard and writes resume there. Keep the
///    returned map where the application's configuration lives, and give
///    it to every other process ([`Shards::set_map`]);
/// 5. **clean up** ([`clean_up`](SlotMove::clean_up), children before
///    parents): the moved rows are deleted from the old shards.
///
/// Until the clean-up, the moved rows exist on two shards: fan-out reads
/// ([`ShardedFind::all`](crate::ShardedFind::all), [`Shards::get`]) keep
/// only the copy on the shard the map gives the key to, but fan-out
/// counts include both. [`abort`](SlotMove::abort) instead of `switch`
/// deletes the copies and unfreezes; dropping the move unfreezes and
/// leaves the copies (abort to remove them).
///
/// Ids must be unique across shards (UUIDs, or integer sequences that do
/// not overlap): a copied id the new shard already has fails the copy with
/// a unique violation, and nothing of that page is written.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use dal::{Db, Entity, Shards, ShardMap};
///
/// #[derive(Entity, Debug, Clone)]
/// #[dal(table = "events", history)]
/// struct Event {
///     #[dal(id)]
///     id: uuid::Uuid,
///     #[dal(shard_key)]
///     account: i64,
///     body: String,
/// }
///
/// // two shards hold the 16 slots; a third, new one holds none yet
/// let map = ShardMap::hash(16, &["a", "b"])?;
/// let shards = Shards::builder()
///     .shard("a", Db::connect_url("sqlite::memory:").await?)
///     .shard("b", Db::connect_url("sqlite::memory:").await?)
///     .shard("c", Db::connect_url("sqlite::memory:").await?)
///     .map(map)
///     .build()?;
/// shards.ensure_schema::<Event>().await?;
/// for account in 0..40 {
///     let mut e = Event { id: uuid::Uuid::new_v4(), account, body: "hi".into() };
///     e.save(shards.of(&e)?).await?;
/// }
///
/// let mut mv = shards.begin_move(12..16, "c")?;
/// let copied = mv.copy::<Event>().await?;
/// assert_eq!(mv.verify::<Event>().await?, copied);
/// let map = mv.switch()?; // keep it with the configuration
/// assert_eq!(map.version(), 2);
/// mv.clean_up::<Event>().await?;
///
/// assert_eq!(shards.find(Event::find()).count().await?, 40);
/// assert_eq!(Event::find().count(shards.shard("c").unwrap()).await?, copied.rows as i64);
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
pub struct SlotMove {
    shards: Shards,
    slots: std::ops::Range<u32>,
    to: usize,
    /// Per table: the rows copied, by source shard (their ids), and the
    /// counts copied.
    copied: BTreeMap<&'static str, Copied>,
    switched: bool,
    ended: bool,
}

#[derive(Default)]
struct Copied {
    ids: BTreeMap<usize, Vec<Arc<dyn Encode>>>,
    report: MoveReport,
    verified: bool,
    history: Option<&'static str>,
    id_column: &'static str,
}

impl std::fmt::Debug for SlotMove {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotMove")
            .field("slots", &self.slots)
            .field("to", &self.shards.inner.names[self.to])
            .field("tables", &self.copied.keys().collect::<Vec<_>>())
            .field("switched", &self.switched)
            .finish()
    }
}

/// What a step of a [`SlotMove`] did to one entity's table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MoveReport {
    /// Rows of the table.
    pub rows: u64,
    /// Rows of its history table.
    pub history_rows: u64,
}

impl SlotMove {
    pub(super) fn begin(shards: Shards, slots: std::ops::Range<u32>, to: &str) -> Result<Self> {
        let to = shards.inner.index_of_name(to)?;
        let state = shards.inner.state();
        let Some(total) = state.map.slots() else {
            return Err(Error::invalid_input(
                "slots",
                "slots belong to hash maps; this shard set routes by key ranges",
            ));
        };
        if slots.start >= slots.end || slots.end > total {
            return Err(Error::invalid_input(
                "slots",
                format!(
                    "{}..{} is not a non-empty range of the map's 0..{total} slots",
                    slots.start, slots.end
                ),
            ));
        }
        if state.moving.is_some() {
            return Err(Error::invalid_input(
                "slots",
                "another slot move is in progress: one move at a time",
            ));
        }
        let moving = Moving {
            slots: slots.clone().collect(),
            to,
        };
        let frozen = shards.inner.resolve(state.map.clone(), Some(moving))?;
        {
            // check and set under the write lock: two moves cannot both start
            let mut guard = shards
                .inner
                .state
                .write()
                .unwrap_or_else(|p| p.into_inner());
            if guard.moving.is_some() || guard.map.version() != state.map.version() {
                return Err(Error::invalid_input(
                    "slots",
                    "the map changed or another move started: begin again",
                ));
            }
            *guard = Arc::new(frozen);
        }
        Ok(SlotMove {
            shards,
            slots,
            to,
            copied: BTreeMap::new(),
            switched: false,
            ended: false,
        })
    }

    /// The slots being moved.
    pub fn slots(&self) -> std::ops::Range<u32> {
        self.slots.clone()
    }

    fn check_open(&self, step: &str) -> Result<()> {
        if self.ended {
            return Err(Error::invalid_input(
                "slot move",
                format!("cannot {step}: the move has ended"),
            ));
        }
        Ok(())
    }

    /// The shards (other than the target) that hold some moving slot under
    /// the map in force.
    fn sources(&self) -> Vec<usize> {
        let state = self.shards.inner.state();
        let mut out: Vec<usize> = self
            .slots
            .clone()
            .map(|s| state.owner[s as usize] as usize)
            .filter(|&i| i != self.to)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether `entity`'s key is in a moving slot.
    fn moving<E: Entity>(&self, entity: &E) -> Result<bool> {
        let key = key_of(entity)?;
        let total = self.shards.inner.state().map.slots().unwrap_or(1);
        Ok(self.slots.contains(&key.slot(total)))
    }

    /// Step 2: copy `E`'s rows in the moving slots (soft-deleted ones too)
    /// and their history rows from their shards to the new one. Pages of
    /// 500 rows, each page one transaction on the new shard. Copying the
    /// same table again first deletes what the last copy wrote.
    pub async fn copy<E: Entity>(&mut self) -> Result<MoveReport> {
        self.check_open("copy")?;
        if self.switched {
            return Err(Error::invalid_input(
                "slot move",
                "cannot copy after the switch",
            ));
        }
        if self.copied.contains_key(E::INFO.table) {
            self.remove_copies(E::INFO.table).await?;
        }
        let mut copied = Copied {
            history: E::INFO.history.then_some(E::INFO.history_table),
            id_column: E::INFO.id_column,
            ..Copied::default()
        };
        let target = self.shards.inner.dbs[self.to].clone();
        for source in self.sources() {
            let db = self.shards.inner.dbs[source].clone();
            let ids = self
                .moving_ids::<E>(&db)
                .await
                .map_err(|e| Error::in_shard(&self.shards.inner.names[source], e))?;
            for page in ids.chunks(PAGE) {
                let r = copy_page(
                    &db,
                    &target,
                    E::INFO.table,
                    copied.history,
                    E::INFO.id_column,
                    page,
                )
                .await
                .map_err(|e| Error::in_shard(&self.shards.inner.names[self.to], e))?;
                copied.report.rows += r.rows;
                copied.report.history_rows += r.history_rows;
            }
            copied.ids.insert(source, ids);
        }
        let report = copied.report;
        self.copied.insert(E::INFO.table, copied);
        Ok(report)
    }

    /// The ids of `E`'s rows on `db` whose key is in a moving slot.
    async fn moving_ids<E: Entity>(&self, db: &Db) -> Result<Vec<Arc<dyn Encode>>> {
        let mut ids: Vec<Arc<dyn Encode>> = Vec::new();
        let mut last: Option<E> = None;
        loop {
            let mut q = E::find().include_deleted().limit(PAGE as u64);
            if let Some(l) = &last {
                q = q.after(l);
            }
            let page = q.all(db).await?;
            let full = page.len() == PAGE;
            for e in &page {
                if self.moving(e)? {
                    ids.push(Arc::new(e.id()));
                }
            }
            last = page.into_iter().last();
            if !full {
                break;
            }
        }
        Ok(ids)
    }

    /// Step 3: read every copied row of `E`'s table, and its history rows,
    /// from both sides and compare them; the counts verified, or
    /// [`Error::InvalidInput`] naming the first difference. Writes are
    /// still frozen, so both sides must be equal.
    pub async fn verify<E: Entity>(&mut self) -> Result<MoveReport> {
        self.check_open("verify")?;
        let Some(copied) = self.copied.get(E::INFO.table) else {
            return Err(Error::invalid_input(
                "slot move",
                format!("`{}` was not copied: copy it first", E::INFO.table),
            ));
        };
        let target = &self.shards.inner.dbs[self.to];
        let mut report = MoveReport::default();
        for (source, ids) in &copied.ids {
            let db = &self.shards.inner.dbs[*source];
            for page in ids.chunks(PAGE) {
                let mut tables = vec![(E::INFO.table, false)];
                if let Some(h) = copied.history {
                    tables.push((h, true));
                }
                for (table, history) in tables {
                    let a = rows_of(db, table, copied.id_column, page).await?;
                    let b = rows_of(target, table, copied.id_column, page).await?;
                    if a != b {
                        let (missing, differ) = diff(&a, &b);
                        return Err(Error::invalid_input(
                            "slot move",
                            format!(
                                "verification of `{table}` failed: {missing} of {} rows missing on the new shard, {differ} differ",
                                a.len()
                            ),
                        ));
                    }
                    if history {
                        report.history_rows += a.len() as u64;
                    } else {
                        report.rows += a.len() as u64;
                    }
                }
            }
        }
        if let Some(c) = self.copied.get_mut(E::INFO.table) {
            c.verified = true;
        }
        Ok(report)
    }

    /// Step 4: give the slots to the new shard: the map's next version,
    /// in force from now on in this process (the freeze ends). Refused
    /// unless every copied table was verified since its copy.
    pub fn switch(&mut self) -> Result<crate::ShardMap> {
        self.check_open("switch")?;
        if self.switched {
            return Err(Error::invalid_input("slot move", "already switched"));
        }
        if self.copied.is_empty() {
            return Err(Error::invalid_input(
                "slot move",
                "nothing was copied: copy and verify every sharded entity first",
            ));
        }
        if let Some((t, _)) = self.copied.iter().find(|(_, c)| !c.verified) {
            return Err(Error::invalid_input(
                "slot move",
                format!("`{t}` was copied but not verified: verify it first"),
            ));
        }
        let inner = &self.shards.inner;
        let current = inner.state();
        let next = current
            .map
            .with_slots(self.slots.clone(), &inner.names[self.to])?;
        let state = inner.resolve(next.clone(), None)?;
        inner.set_state(state);
        self.switched = true;
        Ok(next)
    }

    /// Step 5 (after the switch): delete `E`'s moved rows, and their
    /// history, from the shards they came from. Children before parents.
    pub async fn clean_up<E: Entity>(&mut self) -> Result<MoveReport> {
        self.check_open("clean up")?;
        if !self.switched {
            return Err(Error::invalid_input(
                "slot move",
                "clean up after the switch (before it, the old shards still serve these rows)",
            ));
        }
        let Some(copied) = self.copied.get(E::INFO.table) else {
            return Err(Error::invalid_input(
                "slot move",
                format!("`{}` was not copied by this move", E::INFO.table),
            ));
        };
        let mut report = MoveReport::default();
        for (source, ids) in &copied.ids {
            let db = &self.shards.inner.dbs[*source];
            let r = delete_rows(db, E::INFO.table, copied.history, copied.id_column, ids)
                .await
                .map_err(|e| Error::in_shard(&self.shards.inner.names[*source], e))?;
            report.rows += r.rows;
            report.history_rows += r.history_rows;
        }
        Ok(report)
    }

    /// Give up before the switch: delete what was copied to the new shard
    /// and end the freeze. The map is unchanged.
    pub async fn abort(mut self) -> Result<()> {
        self.check_open("abort")?;
        if self.switched {
            return Err(Error::invalid_input(
                "slot move",
                "already switched: move the slots back with a new move instead",
            ));
        }
        let tables: Vec<&'static str> = self.copied.keys().rev().copied().collect();
        for t in tables {
            self.remove_copies(t).await?;
        }
        self.unfreeze();
        Ok(())
    }

    async fn remove_copies(&mut self, table: &'static str) -> Result<()> {
        if let Some(c) = self.copied.remove(table) {
            let target = &self.shards.inner.dbs[self.to];
            for ids in c.ids.values() {
                delete_rows(target, table, c.history, c.id_column, ids).await?;
            }
        }
        Ok(())
    }

    fn unfreeze(&mut self) {
        self.ended = true;
        if self.switched {
            return;
        }
        let inner = &self.shards.inner;
        let mut guard = inner.state.write().unwrap_or_else(|p| p.into_inner());
        if guard.moving.is_some()
            && let Ok(s) = inner.resolve(guard.map.clone(), None)
        {
            *guard = Arc::new(s);
        }
    }
}

impl Drop for SlotMove {
    fn drop(&mut self) {
        if !self.ended {
            self.unfreeze();
        }
    }
}

/// `?, ?, ..` for `n` parameters.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Every row of `table` whose `id_column` is in `ids`, all columns, sorted
/// (by their text form, so both sides compare in one order).
async fn rows_of(
    db: &Db,
    table: &str,
    id_column: &str,
    ids: &[Arc<dyn Encode>],
) -> Result<Vec<Vec<(String, Value)>>> {
    let sql = format!(
        "SELECT * FROM [{table}] WHERE [{id_column}] IN ({})",
        marks(ids.len())
    );
    let rows = db.fetch_all(&sql, ids.to_vec()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let names: Vec<String> = r.column_names().iter().map(|s| s.to_string()).collect();
        let mut pairs: Vec<(String, Value)> = names.into_iter().zip(r.values()?).collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        out.push(pairs);
    }
    out.sort_by_key(|r| format!("{r:?}"));
    Ok(out)
}

/// How many rows of `a` are missing from `b`, and how many differ.
fn diff(a: &[Vec<(String, Value)>], b: &[Vec<(String, Value)>]) -> (usize, usize) {
    let (missing, differ) = (a.len().saturating_sub(b.len()), 0);
    let differ = differ
        + a.iter()
            .filter(|r| !b.contains(r))
            .count()
            .saturating_sub(missing);
    (missing, differ)
}

/// Copy the rows of `table` with these ids, and their history rows, from
/// `from` to `to`, in one transaction on `to`. The history trigger of
/// `to` records each inserted row as a new version: those versions are
/// replaced by the copied history.
async fn copy_page(
    from: &Db,
    to: &Db,
    table: &str,
    history: Option<&str>,
    id_column: &str,
    ids: &[Arc<dyn Encode>],
) -> Result<MoveReport> {
    let rows = from
        .fetch_all(
            &format!(
                "SELECT * FROM [{table}] WHERE [{id_column}] IN ({})",
                marks(ids.len())
            ),
            ids.to_vec(),
        )
        .await?;
    let hist = match history {
        Some(h) => Some(
            from.fetch_all(
                &format!(
                    "SELECT * FROM [{h}] WHERE [{id_column}] IN ({})",
                    marks(ids.len())
                ),
                ids.to_vec(),
            )
            .await?,
        ),
        None => None,
    };
    let mut tx = to.begin().await?;
    let mut report = MoveReport::default();
    for r in &rows {
        insert_row(&mut tx, table, r).await?;
        report.rows += 1;
    }
    if let (Some(h), Some(hist)) = (history, hist) {
        tx.execute(
            &format!(
                "DELETE FROM [{h}] WHERE [{id_column}] IN ({})",
                marks(ids.len())
            ),
            ids.to_vec(),
        )
        .await?;
        for r in &hist {
            insert_row(&mut tx, h, r).await?;
            report.history_rows += 1;
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// `INSERT` one row read with `SELECT *`, every column as it was.
async fn insert_row(
    tx: &mut crate::Transaction<'static>,
    table: &str,
    row: &crate::Row<'static>,
) -> Result<()> {
    let names = row.column_names();
    let columns: Vec<String> = names.iter().map(|n| format!("[{n}]")).collect();
    let sql = format!(
        "INSERT INTO [{table}] ({}) VALUES ({})",
        columns.join(", "),
        marks(names.len())
    );
    tx.execute(&sql, row.values()?).await?;
    Ok(())
}

/// Delete the rows with these ids from `table` and its history table.
async fn delete_rows(
    db: &Db,
    table: &str,
    history: Option<&str>,
    id_column: &str,
    ids: &[Arc<dyn Encode>],
) -> Result<MoveReport> {
    let mut report = MoveReport::default();
    for page in ids.chunks(PAGE) {
        let mut tx = db.begin().await?;
        if let Some(h) = history {
            report.history_rows += tx
                .execute(
                    &format!(
                        "DELETE FROM [{h}] WHERE [{id_column}] IN ({})",
                        marks(page.len())
                    ),
                    page.to_vec(),
                )
                .await?
                .rows_affected;
        }
        report.rows += tx
            .execute(
                &format!(
                    "DELETE FROM [{table}] WHERE [{id_column}] IN ({})",
                    marks(page.len())
                ),
                page.to_vec(),
            )
            .await?
            .rows_affected;
        tx.commit().await?;
    }
    Ok(report)
}
