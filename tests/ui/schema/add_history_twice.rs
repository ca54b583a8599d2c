// A table that keeps a history cannot be given a second one.
fn main() {
    let _ = dal::schema! {
        create tasks {
            id();
            history();
        }
        alter tasks { add_history(); }
    };
}
