//! Everything dal knows about MySQL and MariaDB, one file per service: catalog
//! introspection and the migration lock's SQL (`GET_LOCK`).

pub(crate) mod introspect;
pub(crate) mod lock;
