// An unsigned big integer holds no negative value.
fn main() {
    let _script = dal::schema! {
        create counters {
            id();
            unsigned_big_integer(hits).default(-1);
        }
    };
}
