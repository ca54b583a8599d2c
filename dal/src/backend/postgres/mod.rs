//! Everything dal knows about PostgreSQL, one file per service: catalog
//! introspection, the migration lock's SQL and the binary `COPY` bulk path.

pub(crate) mod copy;
pub(crate) mod introspect;
pub(crate) mod lock;
