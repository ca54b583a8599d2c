// A user type implementing `dal::SqlType`, `Encode` and `Decode` is a valid field type.
use dal::{Arguments, Decode, Encode, Entity, SqlType, ValueRef};

#[derive(Debug, Clone, PartialEq)]
struct Email(String);

impl Encode for Email {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> dal::Result<()> {
        self.0.encode(out)
    }
}

impl Decode for Email {
    fn decode(v: ValueRef<'_>) -> dal::Result<Self> {
        String::decode(v).map(Email)
    }
}

impl SqlType for Email {
    fn column_type() -> dal::ColumnType {
        dal::ColumnType::String { length: 254 }
    }
}

#[derive(Entity)]
struct Contact {
    id: i64,
    email: Email,
    backup: Option<Email>,
}

fn main() {
    let _ = Contact::find().filter(Contact::EMAIL.eq(Email("a@example.com".into())));
    let t = Contact::blueprint();
    assert_eq!(t.column("email").unwrap().ty, dal::ColumnType::String { length: 254 });
    assert!(t.column("backup").unwrap().nullable);
}
