macro_rules! ddl_tests {
    ($setup:path) => {};
}
