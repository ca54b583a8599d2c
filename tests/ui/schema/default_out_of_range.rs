// 40000 does not fit a 16-bit small_integer.
fn main() {
    let _script = dal::schema! {
        create items {
            id();
            small_integer(rank).default(40000);
        }
    };
}
