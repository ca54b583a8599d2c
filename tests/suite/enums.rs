//! Rust enums as columns (`#[derive(DbEnum)]`) on every backend: the
//! enumeration column (native `ENUM` on the MySQL family, a checked
//! `VARCHAR` elsewhere) created and read back unchanged, values round-trip
//! (optional ones too), typed filters, the database refusing other names, and
//! a clear decode error for a stored name that has no variant.

use dal::{ColumnType, DbEnum, Dialect, Entity, Error};

use crate::support::TestDb;

#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Open,
    InProgress,
    #[dal(rename = "closed")]
    Done,
}

#[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
#[dal(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Priority {
    Low,
    VeryHigh,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "en_tickets", history)]
pub struct Ticket {
    #[dal(id)]
    pub id: i64,
    #[dal(index)]
    pub status: Status,
    pub previous: Option<Status>,
    #[dal(default = "LOW")]
    pub priority: Priority,
}

/// The same table as the code had it before a variant was removed.
#[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
pub enum OldStatus {
    Open,
    InProgress,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "en_tickets")]
pub struct OldTicket {
    #[dal(id)]
    pub id: i64,
    pub status: OldStatus,
}

fn ticket(status: Status, priority: Priority) -> Ticket {
    Ticket {
        id: 0,
        status,
        previous: None,
        priority,
    }
}

/// The column and its round trip: created as an enumeration of the stored
/// names, read back so that a second `ensure_schema` changes nothing; every
/// variant (and `None`) saved and loaded; typed filters and updates.
pub async fn enum_columns_round_trip_and_filter(t: &TestDb) {
    let db = &t.db;
    Ticket::ensure_schema(db).await.unwrap();
    let again = Ticket::ensure_schema(db).await.unwrap();
    assert!(again.is_unchanged(), "{again:?}");
    let live = db.introspect_table("en_tickets").await.unwrap().unwrap();
    let diff = dal::schema::diff_tables(&Ticket::blueprint(), &live, db.dialect());
    assert!(diff.is_empty(), "{diff:?}");
    if db.dialect() == Dialect::MySql {
        assert_eq!(
            live.column("status").unwrap().ty,
            ColumnType::Enumeration {
                variants: vec!["open".into(), "in_progress".into(), "closed".into()]
            }
        );
    }
    assert_eq!(Status::VARIANTS, ["open", "in_progress", "closed"]);
    assert_eq!(Priority::VARIANTS, ["LOW", "VERY_HIGH"]);
    assert_eq!(Status::from_stored("closed"), Some(Status::Done));
    assert_eq!(Status::from_stored("Done"), None);

    let mut rows = vec![
        ticket(Status::Open, Priority::Low),
        ticket(Status::InProgress, Priority::VeryHigh),
        ticket(Status::Done, Priority::Low),
    ];
    rows[2].previous = Some(Status::InProgress);
    Ticket::save_all(&mut rows, db).await.unwrap();
    for r in &rows {
        assert_eq!(Ticket::get(db, r.id).await.unwrap().as_ref(), Some(r));
    }
    // stored as the names, readable with plain SQL
    let names: Vec<(String,)> = db
        .fetch_all_as("SELECT [status] FROM [en_tickets] ORDER BY [id]", ())
        .await
        .unwrap();
    let names: Vec<&str> = names.iter().map(|(s,)| s.as_str()).collect();
    assert_eq!(names, ["open", "in_progress", "closed"]);

    let open = Ticket::find()
        .filter(Ticket::STATUS.ne(Status::Done))
        .order_by(Ticket::ID.asc())
        .all(db)
        .await
        .unwrap();
    assert_eq!(open, rows[..2]);
    let some = Ticket::find()
        .filter(Ticket::STATUS.in_list([Status::Done, Status::Open]))
        .count(db)
        .await
        .unwrap();
    assert_eq!(some, 2);
    assert_eq!(
        Ticket::find()
            .filter(Ticket::PREVIOUS.eq(Status::InProgress))
            .one(db)
            .await
            .unwrap(),
        rows[2]
    );
    assert_eq!(
        Ticket::find()
            .filter(Ticket::PRIORITY.eq(Priority::VeryHigh))
            .count(db)
            .await
            .unwrap(),
        1
    );
    let n = Ticket::find()
        .filter(Ticket::STATUS.eq(Status::Open))
        .update_many(db, vec![Ticket::STATUS.set(Status::InProgress)])
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        Ticket::find()
            .filter(Ticket::STATUS.eq(Status::InProgress))
            .count(db)
            .await
            .unwrap(),
        2
    );
    // the history keeps the names too
    let h = Ticket::history(db, rows[0].id).await.unwrap();
    assert_eq!(h.last().unwrap().entity.status, Status::InProgress);
    assert_eq!(h[0].entity.status, Status::Open);
}

/// The database refuses a name that is no variant (the `CHECK`, or MySQL's
/// strict `ENUM`), and a stored name that has no variant in the code (one
/// removed since) reads back as `Error::Decode` naming the value, the enum
/// and the accepted names.
pub async fn enum_unknown_names_are_refused_and_reported(t: &TestDb) {
    let db = &t.db;
    Ticket::ensure_schema(db).await.unwrap();
    let mut done = ticket(Status::Done, Priority::Low);
    done.save(db).await.unwrap();

    let err = db
        .execute("UPDATE [en_tickets] SET [status] = 'lost'", ())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConstraintViolation { .. } | Error::InvalidInput { .. } | Error::Database { .. }
        ),
        "{err:?}"
    );
    assert_eq!(
        Ticket::get(db, done.id).await.unwrap().unwrap().status,
        Status::Done
    );

    let err = OldTicket::get(db, done.id).await.unwrap_err();
    match &err {
        Error::Decode { column, reason } => {
            assert_eq!(column, "status", "{err}");
            assert!(reason.contains("\"closed\""), "{err}");
            assert!(reason.contains("OldStatus"), "{err}");
            assert!(reason.contains("\"in_progress\""), "{err}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    let err = OldTicket::find().all(db).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

macro_rules! enum_tests {
    ($setup:path) => {
        backend_tests!($setup;
            enums::enum_columns_round_trip_and_filter,
            enums::enum_unknown_names_are_refused_and_reported,
        );
    };
}
