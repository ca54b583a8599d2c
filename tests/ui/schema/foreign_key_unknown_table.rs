// A foreign key must reference a table created in the same `schema!`, or be marked `.external()`.
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            foreign_id(team_id).references(teams);
        }
    };
}
