// `drop_history()` and `refresh_history()` need a table that keeps a history.
fn main() {
    let _ = dal::schema! {
        create tasks { id(); }
        alter tasks { drop_history(); }
        alter tasks { refresh_history(); }
    };
}
