// `decimal` needs a precision and a scale.
fn main() {
    let _script = dal::schema! {
        create invoices {
            id();
            decimal(amount, 10);
        }
    };
}
