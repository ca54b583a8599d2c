// A decimal has at most 65 digits.
fn main() {
    let _script = dal::schema! {
        create invoices {
            id();
            decimal(amount, 70, 2);
        }
    };
}
