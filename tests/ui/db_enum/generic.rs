// Generic enums have no fixed stored names.
#[derive(dal::DbEnum)]
enum Either<T> {
    Left,
    Right,
    #[allow(dead_code)]
    Other(std::marker::PhantomData<T>),
}

fn main() {}
