// The history of `tasks` is kept in `tasks_history`: that name must be free.
fn main() {
    let _ = dal::schema! {
        create tasks_history { id(); }
        create tasks {
            id();
            history();
        }
    };
}
