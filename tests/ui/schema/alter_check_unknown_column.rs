// `add_check` on a table created above must name its columns.
fn main() {
    let _script = dal::schema! {
        create items { id(); integer(quantity); }
        alter items {
            add_check("items_quantity_check", "[qty] >= 0");
        }
    };
}
