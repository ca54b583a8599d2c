// `#[dal(crate = "dal")]` names the crate explicitly; the derive must still compile.
use dal::Entity;

#[derive(Entity)]
#[dal(crate = "dal")]
struct Tag {
    id: i64,
    #[dal(length = 50, unique)]
    name: String,
}

fn main() {
    let _ = Tag::find().filter(Tag::NAME.eq("rust"));
    assert_eq!(Tag::table_name(), "tags");
}
