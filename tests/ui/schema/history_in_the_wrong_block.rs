// `history()` goes in `create`, `add_history()` in `alter`.
fn main() {
    let _ = dal::schema! {
        create tasks { id(); add_history(); }
        alter tasks { history(); }
    };
}
