//! Behaviours written once, run on every backend (see `tests/backends.rs`).
//! Each module exports a `*_tests!` macro listing its test functions.

#[macro_use]
pub mod ddl;
#[macro_use]
pub mod dynamic;
#[macro_use]
pub mod entity;
#[macro_use]
pub mod fidelity;
#[macro_use]
pub mod network;
#[macro_use]
pub mod runtime;

macro_rules! suite_tests {
    ($setup:path) => {
        runtime_tests!($setup);
        entity_tests!($setup);
        ddl_tests!($setup);
        dynamic_tests!($setup);
        fidelity_tests!($setup);
    };
}
