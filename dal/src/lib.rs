//! # dal
//!
//! A data-access layer for PostgreSQL, MySQL/MariaDB and SQLite: derive-based
//! entities, a compile-time-checked schema DSL, portable SQL, and a runtime that
//! survives production faults.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use dal::{Db, Table};
//!
//! let db = Db::connect_url("sqlite::memory:").await?;
//! let notes = Table::build("notes", |t| {
//!     t.id();
//!     t.string("title", 200);
//!     t.boolean("done").default(false);
//! });
//! db.create_table(&notes).await?;
//! db.execute("INSERT INTO [notes] ([title]) VALUES (?)", ("write docs",)).await?;
//! let open: Vec<(i64, String)> = db
//!     .fetch_all_as("SELECT [id], [title] FROM [notes] WHERE [done] = ?", (false,))
//!     .await?;
//! assert_eq!(open, vec![(1, "write docs".to_string())]);
//! # Ok::<(), dal::Error>(()) }).unwrap();
//! ```
//!
//! The pieces:
//! - [`DatabaseConfig`]: URL, environment or builder; validated all at once.
//! - [`Db`]: the pool handle with `execute`, `fetch_*`, [`Db::query`] for per-call
//!   options, [`Db::begin`] / [`Db::transaction`] for transactions.
//! - [`Encode`] / [`Decode`] / [`FromRow`]: values in and out.
//! - [`dal_schema`] (re-exported as [`schema`]): blueprints, DDL, diff, portable SQL.
//! - Live-schema introspection: [`Db::introspect`].
//! - [`blocking`]: the same API for synchronous programs ([`blocking::Db`] owns a
//!   small runtime; no `.await`, no async runtime of your own).

#![warn(missing_docs)]

mod backend;
pub mod blocking;
mod codec;
mod config;
mod copy;
mod db;
mod dynamic;
pub mod entity;
mod error;
pub mod hooks;
mod introspect;
mod params;
mod pool;
mod result;
mod row;
mod schema_ops;
mod statement;
mod telemetry;
mod transaction;
mod value;

pub use codec::{Arguments, Decode, Encode, Json, SqlKind, ValueRef};
pub use config::{
    BreakerPolicy, DatabaseConfig, DatabaseConfigBuilder, PoolOptions, RetryPolicy, SqliteMode,
    Timeouts, TlsMode, UnknownTlsMode,
};
pub use db::{CallOptions, Db, Query};
pub use dynamic::{Dynamic, DynamicField, DynamicFind, DynamicVersion, FieldKind, SaveOptions};
pub use entity::{
    Assignment, Audit, Col, Cond, Entity, EntityId, Executor, Find, HistoryEntry, IdKind,
    Operation, Order, SchemaReport, SqlType, TimestampField,
};
pub use error::{ConfigErrors, ConfigProblem, ConstraintKind, Error, Result, TimeoutKind};
pub use params::Params;
pub use pool::{HeldConnection, PoolStatus};
pub use result::ExecResult;
pub use row::{ColumnIndex, FromRow, Row};
pub use telemetry::breaker::BreakerState;
pub use telemetry::stats::{ErrorKind, Health, ScalingAdvice, Stats};
pub use transaction::{BoxFuture, Transaction};
pub use value::Value;

/// The pure schema crate: blueprints, DDL, diff, validation, portable SQL.
pub use dal_schema as schema;
pub use dal_schema::{Column, ColumnType, DefaultValue, Dialect, ReferentialAction, Schema, Table};

pub use dal_macros::{Entity, FromRow};

/// Items the macros' generated code refers to. Not public API: no stability promise.
#[doc(hidden)]
pub mod __private {
    pub use crate::codec::{Arguments, Decode, Encode, Json, ValueRef};
    pub use crate::entity::{
        Col, Entity, EntityColumnInfo, EntityId, EntityInfo, EntitySqlText, IdKind, SqlType,
        TimestampField,
    };
    pub use chrono::{DateTime, Utc};

    /// Compile-time check that a field's type can be stored.
    pub fn assert_sql_type<T: SqlType>() {}
    /// Read a column into a field (requiring `SqlType`, so an unsupported field
    /// type is reported in dal's words).
    pub fn decode_field<T: SqlType>(row: &Row<'_>, hint: usize, column: &str) -> Result<T> {
        row.get_hinted::<T>(hint, column)
    }
    /// Bind a field (requiring `SqlType`, see `decode_field`).
    pub fn encode_field<'q, T: SqlType>(value: &'q T, out: &mut Arguments<'q>) -> Result<()> {
        value.encode(out)
    }
    /// Compile-time check that a field's type can be a primary key.
    pub fn assert_entity_id<T: EntityId>() {}
    /// Compile-time check that a field can hold a managed timestamp.
    pub fn assert_timestamp<T: TimestampField>() {}
    pub use crate::error::{Error, Result};
    pub use crate::row::{FromRow, Row};
    pub use crate::value::Value;
    pub use dal_schema::entity::ColumnRole;
    pub use dal_schema::{
        Column, ColumnType, DefaultValue, ForeignKey, Index, ReferentialAction, Table,
    };
    pub use std::sync::OnceLock;
}

/// The README's Rust snippets, compiled and run as doctests (the fragments
/// that are not whole programs are marked `ignore` there).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
