// A `Vec<T>` field is an array column only when `T` is a scalar: a struct
// needs `#[dal(json)]`.
use dal::Entity;

#[derive(Debug, Clone)]
pub struct Point {
    pub x: i32,
}

#[derive(Entity)]
pub struct Shape {
    #[dal(id)]
    pub id: i64,
    pub points: Vec<Point>,
}

fn main() {}
