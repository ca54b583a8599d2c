// An array's element type must be one of the scalar column types.
fn main() {
    let _script = dal::schema! {
        create posts {
            id();
            array(tags, strng);
        }
    };
}
