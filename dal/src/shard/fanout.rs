//! [`ShardedFind`]: one entity query over the shards that may hold its rows,
//! merged.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use dal_schema::{ColumnType, Dialect};

use super::{ShardKey, Shards};
use crate::codec::{ArgsInner, Arguments, SqliteArg};
use crate::entity::{Entity, Find};
use crate::error::{Error, Result};

/// A query over shards, from [`Shards::find`].
///
/// It runs on the shards its filter's shard-key values live on: one shard
/// for `Key.eq(v)`, those of the values for `Key.in_list(..)` (also when
/// ANDed with other conditions); every shard otherwise, all at once. The
/// rows are merged, then the query's order, offset and limit are applied
/// to the whole: each shard is asked for at most `offset + limit` rows, in
/// the query's order.
///
/// The merge orders integers and floats by value, decimals by value, text
/// by code point (the order of dal's default MariaDB collation
/// `utf8mb4_bin` and of PostgreSQL's `C` collation; under another collation
/// the merged order of text can differ from one server's), timestamps by
/// time, and NULLs as the shards' dialect does (last ascending on
/// PostgreSQL, first on MariaDB and SQLite). Rows that tie keep the shards'
/// order.
///
/// A shard that fails fails the query with [`Error::Shard`] naming it; the
/// other shards' rows are not returned.
pub struct ShardedFind<'s, E: Entity> {
    shards: &'s Shards,
    find: Find<E>,
}

impl<E: Entity> std::fmt::Debug for ShardedFind<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedFind")
            .field("find", &self.find)
            .field("shards", &self.shard_names())
            .finish()
    }
}

impl<'s, E: Entity> ShardedFind<'s, E> {
    pub(super) fn new(shards: &'s Shards, find: Find<E>) -> Self {
        ShardedFind { shards, find }
    }

    /// The shards the query runs on, in the shards' order.
    pub fn shard_names(&self) -> Vec<&'s str> {
        let names = &self.shards.inner.names;
        self.targets()
            .into_iter()
            .map(|i| names[i].as_str())
            .collect()
    }

    /// The shard indexes the filter's key values live on (every shard when
    /// the filter does not hold the key to a list of values).
    fn targets(&self) -> Vec<usize> {
        let n = self.shards.inner.dbs.len();
        let every = || (0..n).collect::<Vec<_>>();
        let (Some(column), Some(cond)) = (E::__SHARD_KEY, self.find.cond.as_ref()) else {
            return every();
        };
        let state = self.shards.inner.state();
        let mut held: Option<BTreeSet<usize>> = None;
        for (c, values) in &cond.pins {
            if *c != column {
                continue;
            }
            let mut here = BTreeSet::new();
            for v in values {
                // a value that is no key (NULL) or that no shard holds matches
                // no row: it adds no shard
                if let Ok(key) = ShardKey::of(&**v)
                    && let Ok(i) = self.shards.inner.index_for(&state, &key)
                {
                    here.insert(i);
                }
            }
            held = Some(match held {
                Some(h) => h.intersection(&here).copied().collect(),
                None => here,
            });
        }
        match held {
            Some(h) => h.into_iter().collect(),
            None => every(),
        }
    }

    /// Run `query` on each target shard at once; each shard's rows in the
    /// shards' order, without the copies a shard keeps of rows the map gives
    /// to another shard (a slot move not yet cleaned up).
    async fn run(&self, query: Find<E>) -> Result<Vec<Vec<E>>> {
        let targets = self.targets();
        let inner = &self.shards.inner;
        let runs = targets.iter().map(|&i| query.clone().all(&inner.dbs[i]));
        let results = futures_util::future::join_all(runs).await;
        let state = inner.state();
        let mut out = Vec::with_capacity(results.len());
        for (&i, r) in targets.iter().zip(results) {
            let rows = r.map_err(|e| Error::in_shard(&inner.names[i], e))?;
            let asked = query.limit.map(|l| l as usize);
            let got = rows.len();
            let mut kept: Vec<E> = rows
                .into_iter()
                .filter(|e| inner.owns(&state, i, e))
                .collect();
            if kept.len() < got && asked == Some(got) {
                // foreign copies took room in the page: read the shard whole
                let mut again = query.clone();
                again.limit = None;
                kept = again
                    .all(&inner.dbs[i])
                    .await
                    .map_err(|e| Error::in_shard(&inner.names[i], e))?
                    .into_iter()
                    .filter(|e| inner.owns(&state, i, e))
                    .collect();
            }
            out.push(kept);
        }
        Ok(out)
    }

    /// Every matching row, merged (see the type's documentation).
    pub async fn all(self) -> Result<Vec<E>> {
        let (limit, offset) = (self.find.limit, self.find.offset.unwrap_or(0));
        let mut per_shard = self.find.clone();
        per_shard.offset = None;
        per_shard.limit = limit.map(|l| l.saturating_add(offset));
        let parts = self.run(per_shard).await?;
        let mut rows: Vec<E> = if parts.len() == 1 {
            parts.into_iter().next().unwrap_or_default()
        } else {
            let mut rows: Vec<E> = parts.into_iter().flatten().collect();
            if !self.find.order.is_empty() {
                self.sort(&mut rows);
            }
            rows
        };
        let skip = (offset as usize).min(rows.len());
        rows.drain(..skip);
        if let Some(l) = limit {
            rows.truncate(l.min(usize::MAX as u64) as usize);
        }
        Ok(rows)
    }

    /// The first matching row in the query's order, if any.
    pub async fn optional(mut self) -> Result<Option<E>> {
        self.find.limit = Some(1);
        Ok(self.all().await?.into_iter().next())
    }

    /// The first matching row; [`Error::NotFound`] when no shard has one.
    pub async fn one(self) -> Result<E> {
        self.optional()
            .await?
            .ok_or_else(|| Error::NotFound(format!("no {} matches the query", E::INFO.table)))
    }

    /// How many rows match on all the shards together (honouring the
    /// query's offset and limit, applied to the total).
    pub async fn count(self) -> Result<i64> {
        let (limit, offset) = (self.find.limit, self.find.offset.unwrap_or(0));
        let mut per_shard = self.find.clone();
        per_shard.limit = None;
        per_shard.offset = None;
        let targets = self.targets();
        let inner = &self.shards.inner;
        let runs = targets
            .iter()
            .map(|&i| per_shard.clone().count(&inner.dbs[i]));
        let results = futures_util::future::join_all(runs).await;
        let mut total: i64 = 0;
        for (i, r) in targets.iter().zip(results) {
            total = total.saturating_add(r.map_err(|e| Error::in_shard(&inner.names[*i], e))?);
        }
        let mut n = (total - offset.min(i64::MAX as u64) as i64).max(0);
        if let Some(l) = limit {
            n = n.min(l.min(i64::MAX as u64) as i64);
        }
        Ok(n)
    }

    /// Whether any shard has a matching row.
    pub async fn exists(mut self) -> Result<bool> {
        self.find.limit = Some(1);
        Ok(self.count().await? > 0)
    }

    /// The query for an aggregate on each shard: its filter, without the
    /// order and window (they apply to rows, not to one aggregate).
    fn for_aggregate(&self) -> Find<E> {
        let mut q = self.find.clone();
        q.order.clear();
        q.limit = None;
        q.offset = None;
        q
    }

    /// Each target shard's one aggregate value.
    async fn each_aggregate<T, N>(
        &self,
        expr: crate::entity::Expr<E, T, N>,
    ) -> Result<Vec<Option<T>>>
    where
        T: crate::Decode + Send + 'static,
        N: 'static,
        crate::entity::Expr<E, T, N>:
            crate::entity::Projection<crate::entity::Root<E>, crate::entity::Here, Out = Option<T>>,
    {
        let targets = self.targets();
        let inner = &self.shards.inner;
        let q = self.for_aggregate();
        let runs = targets
            .iter()
            .map(|&i| q.clone().select(expr.clone()).one(&inner.dbs[i]));
        let results = futures_util::future::join_all(runs).await;
        let mut out = Vec::with_capacity(results.len());
        for (&i, r) in targets.iter().zip(results) {
            out.push(r.map_err(|e| Error::in_shard(&inner.names[i], e))?);
        }
        Ok(out)
    }

    /// `SUM(column)` over the matching rows of every shard: each shard's
    /// sum, added (`None` when no shard has a value). Counts merge with
    /// [`count`](ShardedFind::count); minimums and maximums with
    /// [`min`](ShardedFind::min) and [`max`](ShardedFind::max). There is no
    /// `avg`: an average of the shards' averages is wrong; divide the sum
    /// by the count.
    pub async fn sum<T, N>(self, column: crate::entity::Col<E, T, N>) -> Result<Option<T::Sum>>
    where
        T: crate::entity::Summable,
        T::Sum: std::ops::Add<Output = T::Sum>,
        N: 'static,
        crate::entity::Expr<E, T::Sum, crate::entity::Nullable>: crate::entity::Projection<
                crate::entity::Root<E>,
                crate::entity::Here,
                Out = Option<T::Sum>,
            >,
    {
        let parts = self.each_aggregate(column.sum()).await?;
        Ok(parts.into_iter().flatten().reduce(|a, b| a + b))
    }

    /// `MIN(column)` over the matching rows of every shard: the smallest
    /// of the shards' minimums (`None` when no shard has a value).
    pub async fn min<T, N>(self, column: crate::entity::Col<E, T, N>) -> Result<Option<T>>
    where
        T: crate::Decode + PartialOrd + Send + 'static,
        N: 'static,
        crate::entity::Expr<E, T, crate::entity::Nullable>:
            crate::entity::Projection<crate::entity::Root<E>, crate::entity::Here, Out = Option<T>>,
    {
        self.extreme(column.min(), std::cmp::Ordering::Less).await
    }

    /// `MAX(column)` over the matching rows of every shard: the largest of
    /// the shards' maximums (`None` when no shard has a value).
    pub async fn max<T, N>(self, column: crate::entity::Col<E, T, N>) -> Result<Option<T>>
    where
        T: crate::Decode + PartialOrd + Send + 'static,
        N: 'static,
        crate::entity::Expr<E, T, crate::entity::Nullable>:
            crate::entity::Projection<crate::entity::Root<E>, crate::entity::Here, Out = Option<T>>,
    {
        self.extreme(column.max(), std::cmp::Ordering::Greater)
            .await
    }

    /// The shards' values of `expr` (a `MIN` or `MAX`), reduced to the one
    /// that compares `wanted` to the others.
    async fn extreme<T, N>(
        &self,
        expr: crate::entity::Expr<E, T, N>,
        wanted: std::cmp::Ordering,
    ) -> Result<Option<T>>
    where
        T: crate::Decode + PartialOrd + Send + 'static,
        N: 'static,
        crate::entity::Expr<E, T, N>:
            crate::entity::Projection<crate::entity::Root<E>, crate::entity::Here, Out = Option<T>>,
    {
        let parts = self.each_aggregate(expr).await?;
        Ok(parts.into_iter().flatten().reduce(|a, b| {
            if b.partial_cmp(&a) == Some(wanted) {
                b
            } else {
                a
            }
        }))
    }

    /// Sort merged rows by the query's order.
    fn sort(&self, rows: &mut [E]) {
        let table = E::blueprint();
        let dialect = self.shards.inner.dbs[0].dialect();
        let order: Vec<(&'static str, bool, bool)> = self
            .find
            .order
            .iter()
            .map(|o| {
                let decimal = table
                    .columns
                    .iter()
                    .find(|c| c.name == o.column)
                    .is_some_and(|c| matches!(c.ty, ColumnType::Decimal { .. }));
                (o.column, o.descending, decimal)
            })
            .collect();
        let keys: Vec<Vec<SqliteArg<'static>>> = rows
            .iter()
            .map(|e| order.iter().map(|(c, _, _)| sort_value(e, c)).collect())
            .collect();
        let mut index: Vec<usize> = (0..rows.len()).collect();
        index.sort_by(|&a, &b| {
            for (i, (_, descending, decimal)) in order.iter().enumerate() {
                let o = compare(&keys[a][i], &keys[b][i], *decimal, dialect);
                let o = if *descending { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        permute(rows, index);
    }
}

/// Reorder `rows` so that position `i` holds the row that was at `index[i]`.
fn permute<T>(rows: &mut [T], mut index: Vec<usize>) {
    for i in 0..index.len() {
        // follow the cycle starting at i
        let mut cur = i;
        while index[cur] != i {
            let next = index[cur];
            rows.swap(cur, next);
            index[cur] = cur;
            cur = next;
        }
        index[cur] = cur;
    }
}

/// The value of `column` in the dialect-neutral scalar form.
fn sort_value<E: Entity>(e: &E, column: &str) -> SqliteArg<'static> {
    let Some(v) = e.__value_of(column) else {
        return SqliteArg::Null;
    };
    let mut args = Arguments::from_inner(ArgsInner::Scalar(Dialect::Sqlite, Vec::with_capacity(1)));
    if v.encode(&mut args).is_err() {
        return SqliteArg::Null;
    }
    args.sqlite_values()
        .and_then(|mut v| v.pop())
        .unwrap_or(SqliteArg::Null)
}

/// Two values of one column, as the shards' dialect orders them ascending.
fn compare(a: &SqliteArg<'_>, b: &SqliteArg<'_>, decimal: bool, dialect: Dialect) -> Ordering {
    use SqliteArg::*;
    // PostgreSQL sorts NULL above every value; MariaDB and SQLite below
    let null_high = dialect == Dialect::Postgres;
    match (a, b) {
        (Null, Null) => Ordering::Equal,
        (Null, _) => {
            if null_high {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (_, Null) => {
            if null_high {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (Integer(x), Integer(y)) => x.cmp(y),
        (Real(x), Real(y)) => x.total_cmp(y),
        (Integer(x), Real(y)) => (*x as f64).total_cmp(y),
        (Real(x), Integer(y)) => x.total_cmp(&(*y as f64)),
        (Text(x), Text(y)) if decimal => {
            match (
                x.parse::<rust_decimal::Decimal>(),
                y.parse::<rust_decimal::Decimal>(),
            ) {
                (Ok(p), Ok(q)) => p.cmp(&q),
                _ => x.cmp(y),
            }
        }
        (Text(x), Text(y)) => x.cmp(y),
        (Blob(x), Blob(y)) => x.cmp(y),
        // numbers before text before bytes (as SQLite orders mixed kinds)
        (Integer(_) | Real(_), _) => Ordering::Less,
        (_, Integer(_) | Real(_)) => Ordering::Greater,
        (Text(_), Blob(_)) => Ordering::Less,
        (Blob(_), Text(_)) => Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_places_each_row_from_its_index() {
        let mut rows = vec!['a', 'b', 'c', 'd', 'e'];
        permute(&mut rows, vec![3, 0, 4, 1, 2]);
        assert_eq!(rows, vec!['d', 'a', 'e', 'b', 'c']);
    }

    #[test]
    fn nulls_sort_as_the_dialect_does() {
        let (n, one) = (SqliteArg::Null, SqliteArg::Integer(1));
        assert_eq!(
            compare(&n, &one, false, Dialect::Postgres),
            Ordering::Greater
        );
        assert_eq!(compare(&n, &one, false, Dialect::MySql), Ordering::Less);
        let (a, b) = (
            SqliteArg::Text("9.5".into()),
            SqliteArg::Text("10.25".into()),
        );
        assert_eq!(compare(&a, &b, true, Dialect::Sqlite), Ordering::Less);
        assert_eq!(compare(&a, &b, false, Dialect::Sqlite), Ordering::Greater);
    }
}
