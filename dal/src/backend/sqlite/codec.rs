//! SQLite's encode/decode: dal's scalar values (`codec/scalar.rs`, the form
//! SQLite stores) handed to rusqlite as parameters and read back from it.

use rusqlite::types::{ToSqlOutput, ValueRef as R};

use crate::codec::{ScalarRef, SqliteArg};

impl rusqlite::ToSql for SqliteArg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            SqliteArg::Null => R::Null,
            SqliteArg::Integer(i) => R::Integer(*i),
            SqliteArg::Real(f) => R::Real(*f),
            SqliteArg::Text(s) => R::Text(s.as_bytes()),
            SqliteArg::Blob(b) => R::Blob(b),
        }))
    }
}

impl<'r> From<R<'r>> for ScalarRef<'r> {
    fn from(v: R<'r>) -> Self {
        match v {
            R::Null => ScalarRef::Null,
            R::Integer(x) => ScalarRef::Integer(x),
            R::Real(x) => ScalarRef::Real(x),
            R::Text(t) => ScalarRef::Text(t),
            R::Blob(b) => ScalarRef::Blob(b),
        }
    }
}
