// A decimal's scale cannot exceed its precision.
fn main() {
    let _script = dal::schema! {
        create invoices {
            id();
            decimal(rate, 4, 6);
        }
    };
}
