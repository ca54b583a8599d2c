//! The behaviour suite, run once per backend: `sqlite::*` always, `postgres::*`
//! and `mysql::*` against the local servers (skipped with a message when a server
//! does not answer, failing instead when `DAL_TEST_REQUIRE_SERVERS=1`).

#[macro_use]
mod support;
#[macro_use]
mod suite;

macro_rules! all_tests {
    ($setup:path) => {
        suite_tests!($setup);
    };
}

mod sqlite {
    all_tests!(crate::support::sqlite);
}

mod postgres {
    all_tests!(crate::support::postgres);
    server_tests!(crate::support::postgres);
}

mod mysql {
    all_tests!(crate::support::mysql);
    server_tests!(crate::support::mysql);
}

mod network {
    network_tests!();
}
