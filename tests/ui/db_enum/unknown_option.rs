// Options that do not exist are reported, on the enum and on a variant.
#[derive(dal::DbEnum)]
#[dal(table = "status")]
enum Status {
    #[dal(name = "o")]
    Open,
}

fn main() {}
