//! Behaviours written once, run on every backend (see `tests/backends.rs`).
//! Each module exports a `*_tests!` macro listing its test functions.

#[macro_use]
pub mod arrays;
#[macro_use]
pub mod ddl;
#[macro_use]
pub mod deadline;
#[macro_use]
pub mod dynamic;
#[macro_use]
pub mod entity;
#[macro_use]
pub mod enums;
#[macro_use]
pub mod fidelity;
#[macro_use]
pub mod hooks;
#[macro_use]
pub mod integers;
#[macro_use]
pub mod network;
#[macro_use]
pub mod portable;
#[macro_use]
pub mod relations;
#[macro_use]
pub mod runtime;
#[macro_use]
pub mod select;
#[macro_use]
pub mod timetravel;
#[macro_use]
pub mod upsert;

macro_rules! suite_tests {
    ($setup:path) => {
        runtime_tests!($setup);
        entity_tests!($setup);
        ddl_tests!($setup);
        deadline_tests!($setup);
        dynamic_tests!($setup);
        portable_tests!($setup);
        integer_tests!($setup);
        fidelity_tests!($setup);
        relation_tests!($setup);
        time_travel_tests!($setup);
        enum_tests!($setup);
        upsert_tests!($setup);
        hook_tests!($setup);
        select_tests!($setup);
        array_tests!($setup);
    };
}

/// Behaviours only a database server has (sessions that can be killed), run
/// on PostgreSQL and MariaDB only, so that nothing is reported as passing on
/// SQLite without having run there.
macro_rules! server_tests {
    ($setup:path) => {
        backend_tests!($setup;
            runtime::rt_dead_connections_are_evicted,
        );
    };
}
