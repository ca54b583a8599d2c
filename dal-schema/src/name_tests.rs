//! Generated index and constraint names: pinned, and written into the DDL of
//! every dialect as they are.

use crate::Dialect;
use crate::model::{Table, names};

#[test]
fn generated_names_are_pinned() {
    let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(names::MAX_LEN, 63);
    assert_eq!(
        names::index("accounts", &cols(&["team_id", "created_at"])),
        "accounts_team_id_created_at_index"
    );
    assert_eq!(
        names::unique_index("accounts", &cols(&["email"])),
        "accounts_email_unique"
    );
    assert_eq!(
        names::foreign_key("accounts", &cols(&["team_id"])),
        "accounts_team_id_foreign"
    );
    assert_eq!(names::enum_check("accounts", "role"), "accounts_role_enum");
    assert_eq!(
        names::check("accounts", "[score] >= 0"),
        "accounts_88ae0d7c_check"
    );
    // the hash is of the normalized expression: quoting and spacing do not matter
    assert_eq!(
        names::check("accounts", "`score`>=0"),
        "accounts_88ae0d7c_check"
    );
    assert_eq!(
        names::check("accounts", "[age] >= 0"),
        "accounts_d44fe183_check"
    );
    // past 63 bytes: the first 54, '_' and the hash of the full name
    let long = "customer_subscription_billing_events_archive";
    assert_eq!(
        names::index(long, &cols(&["customer_id", "created_at"])),
        "customer_subscription_billing_events_archive_customer__cbd6aa17"
    );
    assert_eq!(
        names::unique_index(long, &cols(&["external_reference"])),
        "customer_subscription_billing_events_archive_external__cd72488e"
    );
    assert_eq!(
        names::foreign_key(long, &cols(&["subscription_id"])),
        "customer_subscription_billing_events_archive_subscript_c6bd409b"
    );
    assert_eq!(
        names::enum_check(long, "lifecycle_state"),
        "customer_subscription_billing_events_archive_lifecycle_4b6ab233"
    );
    assert_eq!(
        names::check(long, "[score] >= 0"),
        "customer_subscription_billing_events_archive_88ae0d7c_check"
    );
    assert_eq!(
        names::shorten(format!("{}_history", "t".repeat(60))),
        "tttttttttttttttttttttttttttttttttttttttttttttttttttttt_017e0e66"
    );
    // what the builder names them, and the DDL that stores the names
    let t = Table::build("accounts", |t| {
        t.id();
        t.string("email", 150).unique();
        t.enumeration("role", ["admin", "user"]);
        t.foreign_id("team_id").references("teams");
        t.index(["team_id", "email"]);
        t.unique_index(["team_id", "role"]);
        t.check("[role] <> 'admin' OR [team_id] IS NOT NULL");
    });
    let index_names: Vec<&str> = t.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        index_names,
        [
            "accounts_team_id_email_index",
            "accounts_team_id_role_unique"
        ]
    );
    assert_eq!(t.foreign_keys[0].name, "accounts_team_id_foreign");
    assert_eq!(t.checks[0].name, "accounts_833b7770_check");
    for d in Dialect::ALL {
        let ddl = crate::ddl::create_table(&t, d).unwrap().join("\n");
        let mut stored = vec![
            "accounts_email_unique",
            "accounts_team_id_email_index",
            "accounts_team_id_role_unique",
            "accounts_team_id_foreign",
            "accounts_833b7770_check",
        ];
        if d != Dialect::MySql {
            // MySQL has a native ENUM; elsewhere a named CHECK
            stored.push("accounts_role_enum");
        }
        for name in stored {
            assert!(
                ddl.contains(&d.quote_identifier(name)),
                "{d}: {name} in {ddl}"
            );
        }
    }
}
