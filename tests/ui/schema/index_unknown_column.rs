// An index must name columns of the table.
fn main() {
    let _script = dal::schema! {
        create posts {
            id();
            string(title);
            index(titel);
        }
    };
}
