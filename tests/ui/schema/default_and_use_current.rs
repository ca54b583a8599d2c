// `.default(..)` and `.use_current()` both set the default.
fn main() {
    let _script = dal::schema! {
        create events {
            id();
            timestamp(at).default("2024-01-01 00:00:00").use_current();
        }
    };
}
