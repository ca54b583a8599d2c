// An enumeration lists each variant once.
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            enumeration(role, ["admin", "user", "admin"]);
        }
    };
}
