// Two variants stored under the same name could not be told apart.
#[derive(dal::DbEnum)]
enum Status {
    Open,
    #[dal(rename = "open")]
    Reopened,
}

fn main() {}
