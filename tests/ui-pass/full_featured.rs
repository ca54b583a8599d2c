// Every struct and field option of `#[derive(Entity)]` together, plus typed queries.
use chrono::{DateTime, Utc};
use dal::Entity;
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Prefs {
    dark: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Celsius(f64);

/// A codec module for `#[dal(with = ...)]`: tenths of a degree in an INTEGER.
mod tenths {
    use super::Celsius;
    pub fn encode<'q>(v: &'q Celsius, out: &mut dal::Arguments<'q>) -> dal::Result<()> {
        out.push_i64((v.0 * 10.0).round() as i64)
    }
    pub fn decode(v: dal::ValueRef<'_>) -> dal::Result<Celsius> {
        <i64 as dal::Decode>::decode(v).map(|t| Celsius(t as f64 / 10.0))
    }
    pub fn column_type() -> dal::ColumnType {
        dal::ColumnType::Integer
    }
}

#[derive(Entity, Debug, Clone)]
#[dal(table = "app_users", history, soft_delete, timestamps, crate = "dal")]
struct User {
    #[dal(id)]
    key: i64,
    #[dal(length = 150, unique)]
    email: String,
    #[dal(length = 40, default = "member", rename = "user_role")]
    role: String,
    #[dal(index, default = 0)]
    score: i32,
    #[dal(precision = 12, scale = 2)]
    balance: Decimal,
    #[dal(json)]
    prefs: Prefs,
    #[dal(with = tenths)]
    temperature: Celsius,
    #[dal(references = "teams.id", on_delete = "cascade", on_update = "restrict")]
    team_id: i64,
    #[dal(references = "users", on_delete = "set_null")]
    mentor_id: Option<i64>,
    #[dal(skip)]
    cached: Option<String>,
    #[dal(version)]
    revision: i64,
    #[dal(created_at)]
    created: DateTime<Utc>,
    #[dal(updated_at)]
    updated: DateTime<Utc>,
    #[dal(deleted_at)]
    removed: Option<DateTime<Utc>>,
}

fn main() {
    let query = User::find()
        .filter(User::EMAIL.eq("ada@example.com") & User::SCORE.ge(10))
        .order_by(User::KEY.desc())
        .limit(5);
    let _ = query;
    let table = User::blueprint();
    dal::schema::validate_table(&table).expect("a valid blueprint");
    assert_eq!(User::table_name(), "app_users");
    assert!(table.column("user_role").is_some());
    assert!(table.column("cached").is_none());
}
