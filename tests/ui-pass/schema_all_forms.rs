// Every form of the `schema!` grammar compiles, builds its script and writes
// SQL for every dialect; the expansion also compiles in a module that shadows
// the prelude (it names only `::dal::__private` paths).
#![allow(dead_code, non_camel_case_types)]

use dal::Dialect;
use dal::schema::Script;

fn every_form() -> Script {
    dal::schema! {
        create teams {
            id();
            string(name, 100).unique();
            string(slug);
            uuid(code).unique();
        }
        create "people" {
            uuid_id();
            string(r#type, 20).default("member");
            text(bio).nullable();
            small_integer(rank).default(-3);
            integer(score).default(10).index();
            big_integer(points).default(9_000_000_000);
            boolean(active).default(true);
            boolean(banned).default(false);
            float(ratio).default(0.5);
            double(weight).default(-1.25);
            decimal(balance, 12, 2).default(0);
            decimal(rate, 5, 4).default("0.0125");
            date(born).nullable();
            date(joined).use_current();
            time(wakes_at).nullable();
            timestamp(seen_at).nullable().default(null);
            timestamp_tz(verified_at).nullable();
            json(settings).nullable();
            binary(avatar).nullable();
            enumeration(role, ["admin", "user"]).default("user");
            foreign_id(team_id).references(teams).on_delete(cascade).on_update(no_action);
            foreign_id(backup_team_id).nullable().references(teams, id).on_delete(set_null).named("people_backup_team_fk");
            foreign_uuid(mentor_id).nullable().references(people).on_delete(restrict).on_update(set_default);
            foreign_uuid(team_code).nullable().references(teams, code);
            foreign_id(billing_account_id).nullable().references(billing_accounts).external();
            timestamps();
            soft_deletes();
            index(rank, score);
            unique_index(born, wakes_at);
            index_named("people_by_weight", weight);
            unique_index_named("people_unique_ratio", ratio, weight);
            check("[score] >= 0");
            check_named("people_rank_check", "[rank] > -100");
        }
        create named_keys { id(key); string(label, 10).nullable() }
        create uuid_keys { uuid_id(uid); }
        create manual_ids {
            big_integer(num).auto_increment().primary();
        };
        create memberships {
            foreign_id(team_id).references(teams);
            foreign_uuid(person_id).references(people);
            primary(team_id, person_id);
            without_rowid();
        }
        alter people {
            add string(nick, 40).nullable().unique().index();
            add foreign_id(coach_id).nullable().references(teams).on_delete(set_null);
            drop_column(bio);
            rename_column(ratio, share);
            add_index(nick, rank);
            add_unique_index(points);
            add_index_named("people_by_share", share);
            drop_index(people_by_share);
            drop_index("people_by_weight");
            add_check("people_points_check", "[points] >= 0");
            drop_check(people_points_check);
            drop_foreign(coach_id);
            drop_foreign("people_backup_team_fk");
        }
        alter legacy_table {
            add integer(flags).default(0);
            drop_column(obsolete);
            add_index(flags);
        }
        sql("UPDATE [people] SET [score] = 0 WHERE [score] IS NULL");
        rename named_keys to labels;
        drop labels;
        drop_if_exists uuid_keys;
        drop_if_exists never_created;
        drop manual_ids;
    }
}

mod shadowed {
    pub struct Result;
    pub struct Ok;
    pub struct Err;
    pub struct Option;
    pub struct Some;
    pub struct None;
    pub struct Vec;
    pub struct String;
    pub struct Script;
    pub struct Table;
    pub struct TableBuilder;
    pub trait Default {}
    pub trait Clone {}
    pub trait From {}
    pub trait Into {}
    pub mod core {}
    pub mod std {}

    pub fn script() -> ::dal::schema::Script {
        ::dal::schema! {
            create users {
                id();
                string(email, 150).unique();
                enumeration(role, ["admin", "user"]).default("user");
                timestamp(seen_at).nullable().default(null);
                timestamps();
            }
            alter users {
                add string(nick, 40).nullable();
                add_index(nick);
                add foreign_id(team_id).nullable().references(teams).external();
                drop_foreign(team_id);
            }
            sql("DELETE FROM [users]");
            drop users;
        }
    }
}

fn main() {
    let script = every_form();
    assert_eq!(script.len(), 30);
    assert_eq!(dal::schema! {}.len(), 0);
    for dialect in [Dialect::Postgres, Dialect::MySql] {
        let sql = script.to_sql(dialect).expect("SQL for every step");
        assert!(sql.len() > script.len());
    }
    let hygienic = shadowed::script();
    assert_eq!(hygienic.len(), 8);
    hygienic
        .to_sql(Dialect::Sqlite)
        .expect_err("SQLite cannot drop a foreign key in place");
    hygienic.to_sql(Dialect::Postgres).expect("SQL");
}
