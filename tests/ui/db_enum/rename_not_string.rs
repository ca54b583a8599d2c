// rename takes a string.
#[derive(dal::DbEnum)]
enum Status {
    #[dal(rename = 1)]
    Open,
}

fn main() {}
