// An enumeration default must be one of its variants.
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            enumeration(role, ["admin", "user"]).default("superuser");
        }
    };
}
