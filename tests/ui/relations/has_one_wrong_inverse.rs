// `has_one` names a belongs-to of `Profile` that points at `Account`, not at `User`.
use dal::Entity;

#[derive(Entity)]
#[dal(has_one(profile = Profile::ACCOUNT))]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Account {
    id: i64,
}

#[derive(Entity)]
struct Profile {
    id: i64,
    #[dal(belongs_to = Account, unique)]
    account_id: i64,
}

fn main() {}
