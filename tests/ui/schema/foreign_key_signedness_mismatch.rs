// A signed key cannot reference an unsigned one (the MySQL family refuses it).
fn main() {
    let _script = dal::schema! {
        create accounts {
            unsigned_big_integer(id).auto_increment().primary();
        }
        create payments {
            id();
            foreign_id(account_id).references(accounts);
        }
    };
}
