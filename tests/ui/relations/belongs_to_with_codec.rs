// A foreign key is stored as is: not through a codec.
use dal::Entity;

mod codec {
    pub fn encode<'q>(v: &'q i64, out: &mut dal::Arguments<'q>) -> dal::Result<()> {
        out.push_i64(*v)
    }
    pub fn decode(v: dal::ValueRef<'_>) -> dal::Result<i64> {
        <i64 as dal::Decode>::decode(v)
    }
    pub fn column_type() -> dal::ColumnType {
        dal::ColumnType::BigInteger
    }
}

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(with = codec, belongs_to = User)]
    owner_id: i64,
}

fn main() {}
