//! Result rows: columns by name or index with typed getters, and [`FromRow`] for
//! decoding rows into your own types.

use std::sync::Arc;

use sqlx::mysql::MySqlRow;
use sqlx::postgres::PgRow;
use sqlx::{Column as _, Row as _};

use crate::codec::{Decode, ValueInner, ValueRef};
use crate::error::{Error, Result};
use crate::value::Value;

/// One row of a SQLite result, copied out of the statement.
#[derive(Debug, Clone)]
pub(crate) struct SqliteRow {
    pub(crate) columns: Arc<[Box<str>]>,
    pub(crate) values: Vec<rusqlite::types::Value>,
}

pub(crate) enum RowInner<'r> {
    Pg(PgRow),
    MySql(MySqlRow),
    Sqlite(SqliteRow),
    /// A row still inside a running SQLite statement (decoded without copying).
    SqliteRef(&'r rusqlite::Row<'r>),
}

/// A result row.
///
/// Rows returned by `fetch_*` are owned (`Row<'static>`); [`FromRow`] receives a
/// `&Row<'_>`, which may borrow from a statement still running.
///
/// ```no_run
/// # async fn f(db: &dal::Db) -> dal::Result<()> {
/// let row = db.fetch_one("SELECT [id], [email] FROM [users] WHERE [id] = ?", (1,)).await?;
/// let id: i64 = row.get(0)?;
/// let email: String = row.get("email")?;
/// # Ok(()) }
/// ```
pub struct Row<'r> {
    pub(crate) inner: RowInner<'r>,
}

impl std::fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for i in 0..self.len() {
            let name = self.column_name(i).unwrap_or("?").to_string();
            match self.get::<Value, _>(i) {
                Ok(v) => m.entry(&name, &v),
                Err(_) => m.entry(&name, &"<undecodable>"),
            };
        }
        m.finish()
    }
}

/// Something that picks a column: a `usize` index or a `&str` name.
pub trait ColumnIndex: std::fmt::Display + Copy {
    /// The 0-based index of the column in `row`.
    fn index_in(self, row: &Row<'_>) -> Result<usize>;
}

impl ColumnIndex for usize {
    fn index_in(self, row: &Row<'_>) -> Result<usize> {
        if self < row.len() {
            Ok(self)
        } else {
            Err(Error::decode(
                self.to_string(),
                format!("column index out of range (the row has {})", row.len()),
            ))
        }
    }
}

impl ColumnIndex for &str {
    fn index_in(self, row: &Row<'_>) -> Result<usize> {
        let found = match &row.inner {
            RowInner::Pg(r) => r.columns().iter().position(|c| c.name() == self),
            RowInner::MySql(r) => r.columns().iter().position(|c| c.name() == self),
            RowInner::Sqlite(r) => r.columns.iter().position(|c| &**c == self),
            RowInner::SqliteRef(r) => r.as_ref().column_index(self).ok(),
        };
        found.ok_or_else(|| {
            Error::decode(
                self,
                format!("no such column (the row has {:?})", row.column_names()),
            )
        })
    }
}

impl<'r> Row<'r> {
    /// Number of columns.
    pub fn len(&self) -> usize {
        match &self.inner {
            RowInner::Pg(r) => r.len(),
            RowInner::MySql(r) => r.len(),
            RowInner::Sqlite(r) => r.values.len(),
            RowInner::SqliteRef(r) => r.as_ref().column_count(),
        }
    }

    /// True when the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name of column `i`.
    pub fn column_name(&self, i: usize) -> Option<&str> {
        match &self.inner {
            RowInner::Pg(r) => r.columns().get(i).map(|c| c.name()),
            RowInner::MySql(r) => r.columns().get(i).map(|c| c.name()),
            RowInner::Sqlite(r) => r.columns.get(i).map(|c| &**c),
            RowInner::SqliteRef(r) => r.as_ref().column_name(i).ok(),
        }
    }

    /// The names of all columns, in order.
    pub fn column_names(&self) -> Vec<&str> {
        (0..self.len()).filter_map(|i| self.column_name(i)).collect()
    }

    /// The raw value of a column, for [`Decode`] implementations.
    pub fn value_ref<I: ColumnIndex>(&self, index: I) -> Result<ValueRef<'_>> {
        let i = index.index_in(self)?;
        let inner = match &self.inner {
            RowInner::Pg(r) => ValueInner::Pg(
                r.try_get_raw(i)
                    .map_err(|e| Error::decode(index.to_string(), e.to_string()))?,
            ),
            RowInner::MySql(r) => ValueInner::MySql(
                r.try_get_raw(i)
                    .map_err(|e| Error::decode(index.to_string(), e.to_string()))?,
            ),
            RowInner::Sqlite(r) => ValueInner::Sqlite((&r.values[i]).into()),
            RowInner::SqliteRef(r) => ValueInner::Sqlite(
                r.get_ref(i)
                    .map_err(|e| Error::decode(index.to_string(), e.to_string()))?,
            ),
        };
        Ok(ValueRef { inner })
    }

    /// Read a column as `T`, by index or name.
    pub fn get<T: Decode, I: ColumnIndex>(&self, index: I) -> Result<T> {
        let v = self.value_ref(index)?;
        T::decode(v).map_err(|e| match e {
            Error::Decode { column, reason } if column.is_empty() => Error::Decode {
                column: index.to_string(),
                reason,
            },
            other => other,
        })
    }

    /// Read a column as `T`, treating a missing column as `None` too.
    pub fn get_opt<T: Decode>(&self, name: &str) -> Result<Option<T>> {
        match name.index_in(self) {
            Ok(_) => self.get::<Option<T>, _>(name),
            Err(_) => Ok(None),
        }
    }

    /// Every column as a dynamic [`Value`], in order.
    pub fn values(&self) -> Result<Vec<Value>> {
        (0..self.len()).map(|i| self.get::<Value, _>(i)).collect()
    }

    /// The row as a JSON object keyed by column name.
    pub fn to_json(&self) -> Result<serde_json::Map<String, serde_json::Value>> {
        let mut map = serde_json::Map::with_capacity(self.len());
        for i in 0..self.len() {
            let name = self.column_name(i).unwrap_or_default().to_string();
            map.insert(name, self.get::<Value, _>(i)?.to_json());
        }
        Ok(map)
    }

    /// An owned copy of this row.
    pub fn to_owned(&self) -> Result<Row<'static>> {
        let inner = match &self.inner {
            RowInner::Pg(r) => RowInner::Pg(r.clone()),
            RowInner::MySql(r) => RowInner::MySql(r.clone()),
            RowInner::Sqlite(r) => RowInner::Sqlite(r.clone()),
            RowInner::SqliteRef(r) => {
                let stmt = r.as_ref();
                let columns: Arc<[Box<str>]> = stmt
                    .column_names()
                    .into_iter()
                    .map(Box::from)
                    .collect();
                RowInner::Sqlite(copy_sqlite_row(r, columns)?)
            }
        };
        Ok(Row { inner })
    }
}

pub(crate) fn copy_sqlite_row(r: &rusqlite::Row<'_>, columns: Arc<[Box<str>]>) -> Result<SqliteRow> {
    let n = columns.len();
    let mut values = Vec::with_capacity(n);
    for i in 0..n {
        let v = r
            .get_ref(i)
            .map_err(|e| Error::decode(i.to_string(), e.to_string()))?;
        values.push(v.into());
    }
    Ok(SqliteRow { columns, values })
}

/// Types that can be built from a row.
///
/// Implemented for tuples of [`Decode`] types (read by position), for
/// `Row<'static>`, for `Vec<Value>` and for JSON objects; derive it for your own
/// structs with `#[derive(dal::FromRow)]` (columns read by field name).
pub trait FromRow: Sized {
    /// Build `Self` from `row`.
    fn from_row(row: &Row<'_>) -> Result<Self>;
}

impl FromRow for Row<'static> {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        row.to_owned()
    }
}

impl FromRow for Vec<Value> {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        row.values()
    }
}

impl FromRow for serde_json::Map<String, serde_json::Value> {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        row.to_json()
    }
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Decode),+> FromRow for ($($t,)+) {
            fn from_row(row: &Row<'_>) -> Result<Self> {
                Ok(($(row.get::<$t, usize>($i)?,)+))
            }
        }
    };
}
tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
