//! A stand-in for PostgreSQL's array parameter when dal is built without the
//! `postgres` feature: generic code that names it still builds, and it
//! refuses to be bound (no PostgreSQL database can be connected to in such a
//! build).

use crate::codec::{Arguments, Encode};
use crate::error::{Error, Result};

/// Keys bound as one PostgreSQL array (PostgreSQL only).
pub(crate) struct PgArray<T>(pub(crate) Vec<T>);

impl<T: Send + Sync> Encode for PgArray<T> {
    fn encode<'q>(&'q self, _out: &mut Arguments<'q>) -> Result<()> {
        Err(Error::Unsupported(
            "array parameters are bound on PostgreSQL only".into(),
        ))
    }
}
