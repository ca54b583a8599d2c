//! Field types of entities: [`SqlType`] (what column a Rust type is stored in),
//! [`EntityId`] (what can be a primary key) and [`TimestampField`].

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use dal_schema::ColumnType;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::codec::{Decode, Encode, Json};
use crate::error::{Error, Result};

/// A Rust type that can be an entity field: it encodes, decodes and says which
/// column type stores it.
///
/// Implemented for the integers, `f32`/`f64`, `bool`, `String`, `Vec<u8>`,
/// chrono's `NaiveDate`, `NaiveTime`, `NaiveDateTime` and `DateTime<Utc>`,
/// `uuid::Uuid`, `rust_decimal::Decimal`, `serde_json::Value`, [`Json<T>`] and
/// `Option<T>` of each (a nullable column of the same type):
///
/// | Field type | [`ColumnType`] | PostgreSQL | MySQL / MariaDB | SQLite |
/// |---|---|---|---|---|
/// | `i8`, `u8`, `i16` | `SmallInteger` | `SMALLINT` | `SMALLINT` | `SMALLINT` |
/// | `u16`, `i32` | `Integer` | `INTEGER` | `INT` | `INTEGER` |
/// | `i64`, `isize` | `BigInteger` | `BIGINT` | `BIGINT` | `BIGINT` |
/// | `u32` | `UnsignedInteger` | `BIGINT` checked to `0..=u32::MAX` | `INT UNSIGNED` | as PostgreSQL |
/// | `u64`, `usize` | `UnsignedBigInteger` | `BIGINT` with a `>= 0` check: `0..=i64::MAX` | `BIGINT UNSIGNED`: every `u64` | as PostgreSQL |
/// | `f32` | `Float` | `REAL` | `FLOAT` | `FLOAT` |
/// | `f64` | `Double` | `DOUBLE PRECISION` | `DOUBLE` | `DOUBLE` |
/// | `bool` | `Boolean` | `BOOLEAN` | `TINYINT(1)` | `BOOLEAN` |
/// | `String` | `Text` (`String { length }` with `#[dal(length = N)]`) | `TEXT` | `LONGTEXT` | `TEXT` |
/// | `Vec<u8>` | `Binary` | `BYTEA` | `LONGBLOB` | `BLOB` |
/// | `NaiveDate` | `Date` | `DATE` | `DATE` | `DATE` (text) |
/// | `NaiveTime` | `Time` | `TIME` | `TIME(6)` | `TIME` (text) |
/// | `NaiveDateTime` | `Timestamp` | `TIMESTAMP` | `DATETIME(6)` | `TIMESTAMP` (text) |
/// | `DateTime<Utc>` | `TimestampTz` | `TIMESTAMPTZ` | `DATETIME(6)` in UTC | `TIMESTAMPTZ` (text) |
/// | `Uuid` | `Uuid` | `UUID` | `CHAR(36)` | `UUID` (text) |
/// | `Decimal` | `Decimal { precision: 20, scale: 6 }` (or `#[dal(precision, scale)]`) | `NUMERIC(p, s)` | `DECIMAL(p, s)` | `DECIMAL(p, s)` (15 significant digits) |
/// | `serde_json::Value`, [`Json<T>`], `#[dal(json)]` | `Json` | `JSONB` | `JSON` | `JSON` (text) |
/// | `Vec<T>`, `T` an [`ArrayElement`](crate::ArrayElement) (`Vec<i64>`, `Vec<String>`, ...) | `Array { element }` | native array: `BIGINT[]`, `TEXT[]`, ... | a JSON array in `JSON` | a JSON array in `JSON` (text) |
///
/// Every integer is read through a range check: a value the field's type cannot
/// hold (a negative number read into a `u64`, a MySQL `BIGINT UNSIGNED` above
/// `i64::MAX` read into an `i64`) is an [`Error::Decode`] naming the column,
/// never a wrapped number. PostgreSQL and SQLite have no unsigned 64-bit type,
/// so saving a `u64` (or `usize`) above `i64::MAX` there fails with an
/// [`Error::InvalidInput`] naming the field and the limit before anything is
/// written; on the MySQL family the whole `u64` range round-trips.
///
/// For your own type, delegate to one of them:
///
/// ```
/// use dal::{Arguments, Decode, Encode, SqlType, ValueRef};
/// use dal::schema::ColumnType;
///
/// #[derive(Debug, Clone, PartialEq)]
/// struct Email(String);
///
/// impl Encode for Email {
///     fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> dal::Result<()> { self.0.encode(out) }
/// }
/// impl Decode for Email {
///     fn decode(v: ValueRef<'_>) -> dal::Result<Self> { String::decode(v).map(Email) }
/// }
/// impl SqlType for Email {
///     fn column_type() -> ColumnType { ColumnType::String { length: 254 } }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in an entity column",
    label = "this field's type is not a dal SQL type",
    note = "supported: integers, f32/f64, bool, String, Vec<u8>, chrono dates and times, Uuid, Decimal, serde_json::Value, Vec<T> of a scalar (an array column), Option<T> of these",
    note = "store any serde type as JSON with `#[dal(json)]`, use `#[dal(with = path)]` for a codec module, or implement `dal::SqlType` (with `Encode` and `Decode`) for your type"
)]
pub trait SqlType: Encode + Decode + Send + Sync + 'static {
    /// The column type a field of this type gets.
    fn column_type() -> ColumnType;

    /// Whether the column accepts NULL (true for `Option<T>`).
    const NULLABLE: bool = false;
}

macro_rules! sql_type {
    ($($t:ty => $ct:expr),* $(,)?) => {$(
        impl SqlType for $t {
            fn column_type() -> ColumnType { $ct }
        }
    )*};
}

sql_type! {
    i8 => ColumnType::SmallInteger,
    u8 => ColumnType::SmallInteger,
    i16 => ColumnType::SmallInteger,
    u16 => ColumnType::Integer,
    i32 => ColumnType::Integer,
    u32 => ColumnType::UnsignedInteger,
    i64 => ColumnType::BigInteger,
    isize => ColumnType::BigInteger,
    u64 => ColumnType::UnsignedBigInteger,
    usize => ColumnType::UnsignedBigInteger,
    f32 => ColumnType::Float,
    f64 => ColumnType::Double,
    bool => ColumnType::Boolean,
    String => ColumnType::Text,
    Vec<u8> => ColumnType::Binary,
    NaiveDate => ColumnType::Date,
    NaiveTime => ColumnType::Time,
    NaiveDateTime => ColumnType::Timestamp,
    DateTime<Utc> => ColumnType::TimestampTz,
    Uuid => ColumnType::Uuid,
    Decimal => ColumnType::Decimal { precision: 20, scale: 6 },
    serde_json::Value => ColumnType::Json,
}

impl<T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static> SqlType
    for Json<T>
{
    fn column_type() -> ColumnType {
        ColumnType::Json
    }
}

/// An array column: see [`ArrayElement`](crate::ArrayElement).
impl<T: crate::codec::ArrayElement> SqlType for Vec<T> {
    fn column_type() -> ColumnType {
        crate::codec::array_type::<T>()
    }
}

impl<T: SqlType> SqlType for Option<T> {
    fn column_type() -> ColumnType {
        T::column_type()
    }
    const NULLABLE: bool = true;
}

/// How an entity's primary key gets its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// The server generates it (auto-increment / identity); `0` or `None` means "not saved yet".
    AutoIncrement,
    /// dal generates a time-ordered UUID (v7) when it is nil or `None`.
    Uuid,
    /// The application always sets it.
    Manual,
}

/// A type that can be an entity's primary key.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an entity's primary key",
    label = "not a key type",
    note = "use an integer (generated by the server), `uuid::Uuid` (generated by dal), `String` (set by you), or an `Option` of one of them"
)]
pub trait EntityId:
    Encode
    + Decode
    + SqlType
    + Clone
    + Eq
    + Ord
    + std::hash::Hash
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// How the key gets its value.
    const KIND: IdKind;

    /// True when the key has no value yet (a new entity).
    fn is_unset(&self) -> bool;

    /// The key for a server-generated integer id.
    fn from_generated(id: i64) -> Result<Self>;

    /// A new key generated by dal (UUIDs), if this type has such keys.
    fn generate() -> Option<Self> {
        None
    }

    /// The value of a set integer key (`None` when unset, or for keys that are
    /// not integers). dal uses it to keep the key's sequence ahead of ids that
    /// are written explicitly.
    fn integer_value(&self) -> Option<i64> {
        None
    }

    /// Keys bound as one PostgreSQL array (eager loading's `= ANY(?)`), for
    /// the key types that have one.
    #[doc(hidden)]
    fn __pg_array(_keys: &[Self]) -> Option<Arc<dyn Encode>> {
        None
    }
}

macro_rules! pg_array {
    ($t:ty => $elem:ty) => {
        impl PgKey for $t {
            fn pg_array(keys: &[Self]) -> Option<Arc<dyn Encode>> {
                let v: Option<Vec<$elem>> = keys
                    .iter()
                    .map(|k| <$elem>::try_from(k.clone()).ok())
                    .collect();
                Some(Arc::new(crate::backend::PgArray(v?)))
            }
        }
    };
}

/// The PostgreSQL array a key type binds as.
trait PgKey: Sized {
    fn pg_array(keys: &[Self]) -> Option<Arc<dyn Encode>>;
}
pg_array!(i16 => i16);
pg_array!(i32 => i32);
pg_array!(i64 => i64);
pg_array!(u32 => i64);
pg_array!(u64 => i64);
pg_array!(Uuid => Uuid);
pg_array!(String => String);

macro_rules! int_id {
    ($($t:ty),*) => {$(
        impl EntityId for $t {
            const KIND: IdKind = IdKind::AutoIncrement;
            fn is_unset(&self) -> bool { *self == 0 }
            fn from_generated(id: i64) -> Result<Self> {
                <$t>::try_from(id).map_err(|_| Error::decode("id", format!("generated id {id} does not fit {}", stringify!($t))))
            }
            fn integer_value(&self) -> Option<i64> {
                if *self == 0 { None } else { i64::try_from(*self).ok() }
            }
            fn __pg_array(keys: &[Self]) -> Option<Arc<dyn Encode>> {
                <$t as PgKey>::pg_array(keys)
            }
        }
    )*};
}
int_id!(i16, i32, i64, u32, u64);

impl EntityId for Uuid {
    const KIND: IdKind = IdKind::Uuid;
    fn is_unset(&self) -> bool {
        self.is_nil()
    }
    fn from_generated(id: i64) -> Result<Self> {
        Err(Error::decode(
            "id",
            format!("a UUID key cannot take the generated integer {id}"),
        ))
    }
    fn generate() -> Option<Self> {
        Some(Uuid::now_v7())
    }
    fn __pg_array(keys: &[Self]) -> Option<Arc<dyn Encode>> {
        <Uuid as PgKey>::pg_array(keys)
    }
}

impl EntityId for String {
    const KIND: IdKind = IdKind::Manual;
    fn is_unset(&self) -> bool {
        self.is_empty()
    }
    fn from_generated(id: i64) -> Result<Self> {
        Ok(id.to_string())
    }
    fn __pg_array(keys: &[Self]) -> Option<Arc<dyn Encode>> {
        <String as PgKey>::pg_array(keys)
    }
}

impl<T: EntityId> EntityId for Option<T> {
    const KIND: IdKind = T::KIND;
    fn is_unset(&self) -> bool {
        self.as_ref().is_none_or(T::is_unset)
    }
    fn from_generated(id: i64) -> Result<Self> {
        T::from_generated(id).map(Some)
    }
    fn generate() -> Option<Self> {
        T::generate().map(Some)
    }
    fn integer_value(&self) -> Option<i64> {
        self.as_ref().and_then(T::integer_value)
    }
    fn __pg_array(keys: &[Self]) -> Option<Arc<dyn Encode>> {
        let set: Option<Vec<T>> = keys.iter().cloned().collect();
        T::__pg_array(&set?)
    }
}

/// A field that holds a managed timestamp (`created_at`, `updated_at`, `deleted_at`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold a timestamp dal manages",
    label = "not a timestamp type",
    note = "use `chrono::DateTime<Utc>` or `chrono::NaiveDateTime` (or an `Option` of one; `deleted_at` must be an `Option`)"
)]
pub trait TimestampField {
    /// Store the time dal wrote.
    fn set_timestamp(&mut self, at: Option<DateTime<Utc>>);
    /// The time held, if any (the Unix epoch counts as none: it is `Default`).
    fn timestamp(&self) -> Option<DateTime<Utc>>;
}

impl TimestampField for DateTime<Utc> {
    fn set_timestamp(&mut self, at: Option<DateTime<Utc>>) {
        if let Some(at) = at {
            *self = at;
        }
    }
    fn timestamp(&self) -> Option<DateTime<Utc>> {
        (self.timestamp() != 0 || self.timestamp_subsec_nanos() != 0).then_some(*self)
    }
}

impl TimestampField for Option<DateTime<Utc>> {
    fn set_timestamp(&mut self, at: Option<DateTime<Utc>>) {
        *self = at;
    }
    fn timestamp(&self) -> Option<DateTime<Utc>> {
        *self
    }
}

impl TimestampField for NaiveDateTime {
    fn set_timestamp(&mut self, at: Option<DateTime<Utc>>) {
        if let Some(at) = at {
            *self = at.naive_utc();
        }
    }
    fn timestamp(&self) -> Option<DateTime<Utc>> {
        let t = self.and_utc();
        (t.timestamp() != 0 || t.timestamp_subsec_nanos() != 0).then_some(t)
    }
}

impl TimestampField for Option<NaiveDateTime> {
    fn set_timestamp(&mut self, at: Option<DateTime<Utc>>) {
        *self = at.map(|a| a.naive_utc());
    }
    fn timestamp(&self) -> Option<DateTime<Utc>> {
        self.map(|t| t.and_utc())
    }
}
