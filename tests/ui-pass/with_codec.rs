// `#[dal(with = path)]` stores a field through a codec module's `encode`, `decode` and `column_type`.
use dal::Entity;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Celsius(f64);

mod tenths {
    use super::Celsius;
    pub fn encode<'q>(v: &'q Celsius, out: &mut dal::Arguments<'q>) -> dal::Result<()> {
        out.push_i64((v.0 * 10.0).round() as i64)
    }
    pub fn decode(v: dal::ValueRef<'_>) -> dal::Result<Celsius> {
        <i64 as dal::Decode>::decode(v).map(|t| Celsius(t as f64 / 10.0))
    }
    pub fn column_type() -> dal::ColumnType {
        dal::ColumnType::Integer
    }
}

#[derive(Entity)]
struct Reading {
    id: i64,
    #[dal(with = tenths)]
    temperature: Celsius,
}

fn main() {
    let t = Reading::blueprint();
    assert_eq!(t.column("temperature").unwrap().ty, dal::ColumnType::Integer);
}
