// A date default must look like a date (checked by the runtime's validator).
fn main() {
    let _script = dal::schema! {
        create people {
            id();
            date(born).default("last tuesday");
        }
    };
}
