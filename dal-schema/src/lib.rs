//! Pure schema blueprints for dal: dialects, the table model and its fluent builder,
//! DDL generation, schema diff, validation and portable SQL translation.
//!
//! This crate has no async code and never touches a database, so the `dal-macros`
//! procedural macros use it at compile time and the `dal` runtime at run time.
//!
//! ```
//! use dal_schema::{Dialect, Table};
//!
//! let users = Table::build("users", |t| {
//!     t.id();
//!     t.string("email", 150).unique();
//!     t.timestamps();
//! });
//! let ddl = dal_schema::ddl::create_table(&users, Dialect::Postgres).unwrap();
//! assert!(ddl[0].starts_with("CREATE TABLE \"users\""));
//! ```

#![warn(missing_docs)]
// SQL text and names are user text: slice it only through char-safe APIs.
#![warn(clippy::string_slice)]

mod builder;
pub mod ddl;
pub mod dialect;
pub mod diff;
pub mod dsl;
pub mod entity;
pub mod model;
pub mod script;
pub mod sql;
mod track;
mod validate;

pub use builder::{ColumnBuilder, ForeignKeyBuilder, TableBuilder};
pub use dialect::{
    Capabilities, Dialect, DropTables, FloatStorage, GeneratedIds, RuntimeSql, SqlDialect,
    UnknownDialect, UpsertStyle,
};
pub use diff::{Change, SchemaDiff, diff_schemas, diff_tables};
pub use model::{
    Check, Column, ColumnType, DEFAULT_MYSQL_COLLATION, DefaultValue, ForeignKey, Index,
    ReferentialAction, Schema, Table,
};
pub use sql::{TranslateError, Translated, translate};
pub use validate::{
    MAX_IDENTIFIER_LEN, MAX_STRING_LENGTH, SchemaError, SchemaErrorKind, identifier_problem,
    is_valid_identifier, validate_schema, validate_table,
};

#[cfg(test)]
mod array_tests;
#[cfg(test)]
mod name_tests;
