//! Result rows: columns by name or index with typed getters, and [`FromRow`] for
//! decoding rows into your own types.

use std::sync::Arc;

use crate::codec::{Decode, Quick, ScalarRef, ValueInner, ValueRef};
use crate::error::{Error, Result};
use crate::value::Value;

/// One cell of a copied SQLite row; text and blobs live in the row's byte buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(usize, usize),
    Blob(usize, usize),
}

/// One row of a SQLite result, copied out of the statement into two buffers (cells
/// and bytes) that can be reused from row to row, so decoding a large result
/// allocates nothing per cell.
#[derive(Debug, Clone, Default)]
pub(crate) struct SqliteRow {
    pub(crate) columns: Arc<[Box<str>]>,
    pub(crate) cells: Vec<Cell>,
    pub(crate) data: Vec<u8>,
}

impl SqliteRow {
    /// Point the buffer at another statement's columns (keeping its allocations).
    pub(crate) fn reset(&mut self, columns: Arc<[Box<str>]>) {
        self.columns = columns;
        self.cells.clear();
        self.data.clear();
    }

    pub(crate) fn value(&self, i: usize) -> ScalarRef<'_> {
        use ScalarRef as V;
        match self.cells[i] {
            Cell::Null => V::Null,
            Cell::Integer(x) => V::Integer(x),
            Cell::Real(x) => V::Real(x),
            Cell::Text(s, n) => V::Text(&self.data[s..s + n]),
            Cell::Blob(s, n) => V::Blob(&self.data[s..s + n]),
        }
    }
}

/// What a backend's row answers (implemented in `backend/<dialect>/codec.rs`
/// for the drivers' rows, here for the SQLite row buffer).
pub(crate) trait RawRow {
    /// Number of columns.
    fn raw_len(&self) -> usize;
    /// The name of column `i`.
    fn raw_column_name(&self, i: usize) -> Option<&str>;
    /// The value of column `i`; the error is the reason it cannot be read
    /// (out of range, or the driver's own).
    fn raw_value(&self, i: usize) -> std::result::Result<ValueInner<'_>, String>;
    /// Whether column `i` is NULL, when the row can tell without decoding.
    fn raw_is_null(&self, _i: usize) -> Option<bool> {
        None
    }
    /// The text of column `i` moved out of the row without a copy, when the
    /// row holds it as owned bytes; `None` leaves the row as it was.
    fn raw_take_text(&mut self, _i: usize) -> Option<Result<String>> {
        None
    }
}

impl RawRow for SqliteRow {
    fn raw_len(&self) -> usize {
        self.cells.len()
    }
    fn raw_column_name(&self, i: usize) -> Option<&str> {
        self.columns.get(i).map(|c| &**c)
    }
    fn raw_value(&self, i: usize) -> std::result::Result<ValueInner<'_>, String> {
        if i < self.cells.len() {
            Ok(ValueInner::Scalar(self.value(i)))
        } else {
            Err(format!(
                "column index out of range (the row has {})",
                self.cells.len()
            ))
        }
    }
}

/// The rows of each backend. The payloads are the drivers' own rows (or
/// dal's SQLite row buffer); [`RawRow`] is implemented with each backend.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))] // SQLite rows: built by its backend
pub(crate) enum RowInner<'r> {
    #[cfg(feature = "postgres")]
    Pg(tokio_postgres::Row),
    #[cfg(feature = "mysql")]
    MySql(mysql_async::Row),
    Sqlite(SqliteRow),
    /// A reusable SQLite row buffer (decoding a result without per-row allocation).
    SqliteBuf(&'r SqliteRow),
}

/// Run `$e` with `$r` bound to whichever row `$inner` holds.
macro_rules! each_row {
    ($inner:expr, $r:ident => $e:expr) => {
        match $inner {
            #[cfg(feature = "postgres")]
            RowInner::Pg($r) => $e,
            #[cfg(feature = "mysql")]
            RowInner::MySql($r) => $e,
            RowInner::Sqlite($r) => $e,
            RowInner::SqliteBuf($r) => $e,
        }
    };
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
    /// The columns are known to be in the order the decoder expects
    /// ([`FromRow::__columns`], checked once per result): hinted reads skip
    /// the name check.
    pub(crate) positional: bool,
}

impl<'r> Row<'r> {
    pub(crate) fn new(inner: RowInner<'r>) -> Self {
        Row {
            inner,
            positional: false,
        }
    }
}

/// How a backend turns rows into `T`: `T`'s [`FromRow`] functions as
/// function pointers, so the code that runs a query (inside futures the
/// compiler must prove `Send`) needs no `T: FromRow` bound, which rustc
/// cannot always prove for every lifetime there.
pub(crate) struct Decoder<T> {
    /// The columns `T` reads by position, when it does.
    pub(crate) columns: Option<&'static [&'static str]>,
    /// Decode a borrowed row.
    pub(crate) borrowed: fn(&Row<'_>) -> Result<T>,
    /// Decode an owned row.
    pub(crate) owned: fn(Row<'static>) -> Result<T>,
}

impl<T: FromRow> Decoder<T> {
    /// `T`'s decoder.
    pub(crate) fn of() -> Self {
        Decoder {
            columns: T::__columns(),
            borrowed: T::from_row,
            owned: T::from_owned_row,
        }
    }
}

impl<T> Decoder<T> {
    /// Whether a result's column names are exactly `T`'s expected columns,
    /// in order (then every row of it can be read by position).
    pub(crate) fn positional<'a>(&self, names: impl ExactSizeIterator<Item = &'a str>) -> bool {
        match self.columns {
            Some(expected) => {
                names.len() == expected.len() && names.zip(expected).all(|(n, e)| n == *e)
            }
            None => false,
        }
    }
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
        let found = (0..row.len()).position(|i| row.column_name(i) == Some(self));
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
        each_row!(&self.inner, r => r.raw_len())
    }

    /// True when the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name of column `i`.
    pub fn column_name(&self, i: usize) -> Option<&str> {
        each_row!(&self.inner, r => r.raw_column_name(i))
    }

    /// The names of all columns, in order.
    pub fn column_names(&self) -> Vec<&str> {
        (0..self.len())
            .filter_map(|i| self.column_name(i))
            .collect()
    }

    /// The raw value of a column, for [`Decode`] implementations.
    pub fn value_ref<I: ColumnIndex>(&self, index: I) -> Result<ValueRef<'_>> {
        let i = index.index_in(self)?;
        let inner = each_row!(&self.inner, r => r.raw_value(i))
            .map_err(|e| Error::decode(index.to_string(), e))?;
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

    /// Read column `name`, looking at position `hint` first (entity decoding:
    /// dal's own queries list the columns in field order, so the hint is right and
    /// no search by name is needed).
    #[doc(hidden)]
    pub fn get_hinted<T: Decode>(&self, hint: usize, name: &str) -> Result<T> {
        if self.positional || self.column_name(hint) == Some(name) {
            // `hint` is in range here (a positional row has every expected
            // column; otherwise the name was found there)
            let named = |e| match e {
                Error::Decode { reason, .. } => Error::Decode {
                    column: name.to_string(),
                    reason,
                },
                other => other,
            };
            match each_row!(&self.inner, r => r.raw_value(hint)) {
                Ok(inner) => T::decode(ValueRef { inner }).map_err(named),
                Err(reason) => Err(Error::decode(name, reason)),
            }
        } else {
            self.get(name)
        }
    }

    /// Whether column `name` (looked for at position `hint`) is NULL, when
    /// the row can tell without decoding (the servers' rows); `None`
    /// otherwise, for the ordinary read. Used by [`Decode`]'s owned reads.
    #[doc(hidden)]
    pub fn null_at(&self, hint: usize, name: &str) -> Option<bool> {
        match &self.inner {
            #[cfg(feature = "mysql")]
            RowInner::MySql(r) if self.positional || r.raw_column_name(hint) == Some(name) => {
                r.raw_is_null(hint)
            }
            _ => self.quick(hint, name).map(|q| q.is_null()),
        }
    }

    /// Column `name` (at position `hint`, which must hold it) of a server
    /// row, for the fast reads of owned rows (`Decode::__take`); `None` for
    /// SQLite's rows and for a column found elsewhere, which take the
    /// ordinary read.
    #[inline]
    pub(crate) fn quick(&self, hint: usize, name: &str) -> Option<Quick<'_>> {
        // only the servers' rows have fast reads, and only they pay for the
        // column check
        #[cfg(not(any(feature = "postgres", feature = "mysql")))]
        let _ = (hint, name);
        match &self.inner {
            #[cfg(feature = "postgres")]
            RowInner::Pg(r) if self.positional || r.raw_column_name(hint) == Some(name) => {
                match r.raw_value(hint) {
                    Ok(ValueInner::Pg(v)) => Some(Quick::Pg(v)),
                    _ => None,
                }
            }
            #[cfg(feature = "mysql")]
            RowInner::MySql(r) if self.positional || r.raw_column_name(hint) == Some(name) => {
                Some(Quick::My(crate::codec::MyVal {
                    value: r.as_ref(hint)?,
                    column: r.columns_ref().get(hint)?,
                }))
            }
            _ => None,
        }
    }

    /// The text of column `name` (looked for at position `hint`) moved out of
    /// the row without a copy, when the row holds it as bytes (MySQL text
    /// columns); `None` otherwise, leaving the row as it was for the ordinary
    /// read. The column cannot be read again after.
    #[doc(hidden)]
    pub fn take_text(&mut self, hint: usize, name: &str) -> Option<Result<String>> {
        let positional = self.positional;
        // only rows that own their values can give one up (MySQL's)
        #[cfg(not(feature = "mysql"))]
        let _ = (hint, positional);
        let taken: Option<Result<String>> = match &mut self.inner {
            #[cfg(feature = "mysql")]
            RowInner::MySql(r) if positional || r.raw_column_name(hint) == Some(name) => {
                r.raw_take_text(hint)
            }
            _ => None,
        };
        taken.map(|t| {
            t.map_err(|e| match e {
                Error::Decode { reason, .. } => Error::decode(name, reason),
                other => other,
            })
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

    /// An owned copy of a SQLite row (server rows are owned already and are
    /// handed over through [`FromRow::from_owned_row`]).
    fn copy_sqlite(&self) -> Result<Row<'static>> {
        let inner = match &self.inner {
            RowInner::Sqlite(r) => RowInner::Sqlite(r.clone()),
            RowInner::SqliteBuf(r) => RowInner::Sqlite((*r).clone()),
            #[allow(unreachable_patterns)] // the servers built in
            _ => {
                return Err(Error::Unsupported(
                    "copying a borrowed PostgreSQL or MySQL row; fetch rows with fetch_all instead"
                        .into(),
                ));
            }
        };
        Ok(Row {
            inner,
            positional: self.positional,
        })
    }
}

/// Types that can be built from a row.
///
/// Implemented for tuples of [`Decode`] types (read by position), for
/// `Row<'static>`, for `Vec<Value>` and for JSON objects; derive it for your own
/// structs with `#[derive(dal::FromRow)]` (columns read by field name).
pub trait FromRow: Sized {
    /// Build `Self` from `row`.
    fn from_row(row: &Row<'_>) -> Result<Self>;

    /// Build `Self` from a row the caller owns (lets `Row` itself be returned
    /// without a copy).
    #[doc(hidden)]
    fn from_owned_row(row: Row<'static>) -> Result<Self> {
        Self::from_row(&row)
    }

    /// The columns `from_row` reads, in the order dal's own queries list
    /// them (entities), when it reads them by position.
    #[doc(hidden)]
    fn __columns() -> Option<&'static [&'static str]> {
        None
    }
}

impl FromRow for Row<'static> {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        row.copy_sqlite()
    }

    fn from_owned_row(row: Row<'static>) -> Result<Self> {
        Ok(row)
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
