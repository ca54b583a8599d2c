// An array holds scalars: JSON (or another array) is no element type.
fn main() {
    let _script = dal::schema! {
        create posts {
            id();
            array(tags, json);
        }
    };
}
