// A variant carrying data cannot be stored as a name.
#[derive(dal::DbEnum)]
enum Shape {
    Point,
    Circle(f64),
}

fn main() {}
