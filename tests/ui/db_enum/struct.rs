// DbEnum is for fieldless enums, not structs.
#[derive(dal::DbEnum)]
struct Status {
    open: bool,
}

fn main() {}
