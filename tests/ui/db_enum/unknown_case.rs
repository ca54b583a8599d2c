// rename_all takes one of the known cases.
#[derive(dal::DbEnum)]
#[dal(rename_all = "Title Case")]
enum Status {
    Open,
}

fn main() {}
