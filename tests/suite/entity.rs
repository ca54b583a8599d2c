//! Entities on every backend: save (insert, upsert, versioned update), get,
//! typed queries, soft delete, history, bulk save, transactions, schema management.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use dal::{Audit, ConstraintKind, Dialect, Entity, Error, Operation, Value};
use futures_util::StreamExt;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::support::TestDb;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Prefs {
    pub theme: String,
    pub tags: Vec<String>,
}

#[derive(Entity, Debug, Clone, PartialEq, Serialize)]
#[dal(table = "e_users", history, soft_delete, timestamps)]
pub struct User {
    #[dal(id)]
    pub id: i64,
    #[dal(length = 150, unique)]
    pub email: String,
    pub name: Option<String>,
    #[dal(default = 0, index)]
    pub score: i32,
    pub active: bool,
    #[dal(json)]
    pub prefs: Prefs,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl User {
    fn new(email: &str, score: i32) -> Self {
        User {
            id: 0,
            email: email.into(),
            name: None,
            score,
            active: true,
            prefs: Prefs::default(),
            created_at: DateTime::default(),
            updated_at: DateTime::default(),
            deleted_at: None,
        }
    }
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "e_docs", history)]
pub struct Doc {
    #[dal(id)]
    pub id: Uuid,
    #[dal(length = 200)]
    pub title: String,
    #[dal(version)]
    pub version: i64,
    pub body: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "e_teams")]
pub struct Team {
    pub id: i64,
    #[dal(length = 50, unique)]
    pub name: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "e_members")]
pub struct Member {
    pub id: i64,
    #[dal(references = "e_teams.id", on_delete = "cascade", index)]
    pub team_id: i64,
    #[dal(length = 80)]
    pub name: String,
    #[dal(skip)]
    pub cached: Option<String>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "e_settings")]
pub struct Setting {
    #[dal(id, length = 64)]
    pub key: String,
    pub value: String,
}

/// A user type stored through `SqlType` (delegating to `String`).
#[derive(Debug, Clone, PartialEq)]
pub struct Email(pub String);

impl dal::Encode for Email {
    fn encode<'q>(&'q self, out: &mut dal::Arguments<'q>) -> dal::Result<()> {
        self.0.encode(out)
    }
}
impl dal::Decode for Email {
    fn decode(v: dal::ValueRef<'_>) -> dal::Result<Self> {
        String::decode(v).map(Email)
    }
}
impl dal::SqlType for Email {
    fn column_type() -> dal::ColumnType {
        dal::ColumnType::String { length: 254 }
    }
}

/// A codec module for `#[dal(with = ...)]`: temperatures stored as tenths of a degree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Celsius(pub f64);

pub mod tenths {
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

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "e_all_types")]
pub struct AllTypes {
    pub id: i64,
    pub a: i8,
    pub b: i16,
    pub c: i32,
    pub d: i64,
    pub e: u8,
    pub f: u16,
    pub g: u32,
    pub h: f32,
    pub i: f64,
    pub j: bool,
    pub k: String,
    pub l: Vec<u8>,
    pub m: NaiveDate,
    pub n: NaiveDateTime,
    pub o: DateTime<Utc>,
    pub p: Uuid,
    #[dal(precision = 18, scale = 4)]
    pub q: Decimal,
    pub r: serde_json::Value,
    pub s: Option<i32>,
    pub t: Option<String>,
    pub u: NaiveTime,
    #[dal(rename = "renamed_col")]
    pub v: String,
    #[dal(with = tenths)]
    pub w: Celsius,
    pub x: Email,
    pub y: Option<Uuid>,
}

async fn users(db: &dal::Db) {
    let report = User::ensure_schema(db).await.unwrap();
    assert_eq!(report.created, vec!["e_users", "e_users_history"]);
}

/// The history table is keyed by (id, version), stored in key order on SQLite,
/// and a second `ensure_schema` finds nothing to change.
pub async fn ent_history_table_layout(t: &TestDb) {
    let db = &t.db;
    users(db).await;
    let h = db
        .introspect_table("e_users_history")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.primary_key, ["id", "history_version"]);
    assert_eq!(h.without_rowid, db.dialect() == dal::Dialect::Sqlite);
    // the names deployed databases hold (history table, its bookkeeping
    // columns, the hidden audit columns, the triggers): never change them
    // without a migration plan
    let columns: Vec<&str> = h.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        columns,
        [
            "history_version",
            "history_operation",
            "history_actor",
            "history_comment",
            "history_at",
            "id",
            "email",
            "name",
            "score",
            "active",
            "prefs",
            "created_at",
            "updated_at",
            "deleted_at"
        ]
    );
    let live = db.introspect_table("e_users").await.unwrap().unwrap();
    let audit: Vec<&str> = live
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|c| c.starts_with("dal_"))
        .collect();
    assert_eq!(
        audit,
        ["dal_change_stamp", "dal_changed_by", "dal_change_note"]
    );
    let triggers_sql = match db.dialect() {
        Dialect::Postgres => {
            "SELECT CAST(tgname AS TEXT) FROM pg_trigger \
             WHERE tgrelid = CAST(CAST(? AS TEXT) AS regclass) AND NOT tgisinternal ORDER BY 1"
        }
        Dialect::MySql => {
            "SELECT trigger_name FROM information_schema.triggers \
             WHERE event_object_schema = DATABASE() AND event_object_table = ? ORDER BY 1"
        }
        Dialect::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY 1"
        }
    };
    let triggers: Vec<(String,)> = db.fetch_all_as(triggers_sql, ("e_users",)).await.unwrap();
    let triggers: Vec<&str> = triggers.iter().map(|t| t.0.as_str()).collect();
    match db.dialect() {
        // one trigger (and its function) for inserts and updates
        Dialect::Postgres => assert_eq!(triggers, ["e_users_dal_history"]),
        _ => assert_eq!(
            triggers,
            ["e_users_dal_history_insert", "e_users_dal_history_update"]
        ),
    }
    assert!(!h.column("id").unwrap().nullable);
    assert!(h.column("email").unwrap().nullable);
    let again = User::ensure_schema(db).await.unwrap();
    assert!(again.is_unchanged(), "{again:?}");
    assert!(again.destructive.is_empty(), "{again:?}");
}

/// Insert fills the generated id and timestamps; saving again updates the row
/// (upsert by id), keeps created_at and moves updated_at.
pub async fn ent_save_insert_update_get(t: &TestDb) {
    let db = &t.db;
    users(db).await;
    let mut u = User::new("ada@example.com", 10);
    u.prefs.tags = vec!["math".into()];
    u.save(db).await.unwrap();
    assert!(u.id > 0);
    assert!(u.created_at.timestamp() > 1_600_000_000);
    assert_eq!(u.created_at, u.updated_at);
    let loaded = User::get(db, u.id).await.unwrap().expect("saved row");
    assert_eq!(loaded, u);

    let created = u.created_at;
    tokio::time::sleep(Duration::from_millis(5)).await;
    u.name = Some("Ada Lovelace".into());
    u.score += 5;
    u.save(db).await.unwrap();
    assert_eq!(u.created_at, created);
    assert!(u.updated_at > created);
    let loaded = User::get(db, u.id).await.unwrap().unwrap();
    assert_eq!(loaded, u);
    assert_eq!(User::find().count(db).await.unwrap(), 1);

    let mut second = User::new("grace@example.com", 3);
    second.save(db).await.unwrap();
    assert_ne!(second.id, u.id);
    assert!(User::get(db, 987_654).await.unwrap().is_none());
}

/// UUID keys are generated (time-ordered v7); `version` gives optimistic
/// locking: a stale save fails with `StaleVersion` and changes nothing.
pub async fn ent_uuid_keys_and_optimistic_locking(t: &TestDb) {
    let db = &t.db;
    Doc::ensure_schema(db).await.unwrap();
    let mut d = Doc {
        id: Uuid::nil(),
        title: "draft".into(),
        version: 0,
        body: "v1".into(),
    };
    d.save(db).await.unwrap();
    assert_eq!(d.id.get_version_num(), 7);
    assert_eq!(d.version, 1);

    let mut stale = Doc::get(db, d.id).await.unwrap().unwrap();
    d.body = "v2".into();
    d.save(db).await.unwrap();
    assert_eq!(d.version, 2);

    stale.body = "lost update".into();
    match stale.save(db).await {
        Err(Error::StaleVersion { expected, .. }) => assert_eq!(expected, 1),
        other => panic!("expected a stale version error, got {other:?}"),
    }
    let current = Doc::get(db, d.id).await.unwrap().unwrap();
    assert_eq!(current.body, "v2");
    assert_eq!(current.version, 2);
    let history = Doc::history(db, d.id).await.unwrap();
    assert_eq!(history.len(), 2, "the stale save recorded nothing");
    assert_eq!(
        history.iter().map(|h| h.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
}

/// Soft delete hides rows from `get` and `find`, `include_deleted` /
/// `only_deleted` show them, `restore` brings them back, `delete_permanently`
/// removes them; history records every step.
pub async fn ent_soft_delete_and_restore(t: &TestDb) {
    let db = &t.db;
    users(db).await;
    let mut u = User::new("x@example.com", 1);
    u.save(db).await.unwrap();
    let mut other = User::new("y@example.com", 2);
    other.save(db).await.unwrap();

    assert!(u.delete(db).await.unwrap());
    assert!(u.deleted_at.is_some());
    assert!(!u.delete(db).await.unwrap(), "already deleted");
    assert!(User::get(db, u.id).await.unwrap().is_none());
    let raw = User::get_with_deleted(db, u.id).await.unwrap().unwrap();
    assert_eq!(raw.deleted_at, u.deleted_at);
    assert_eq!(User::find().count(db).await.unwrap(), 1);
    assert_eq!(User::find().include_deleted().count(db).await.unwrap(), 2);
    let only = User::find().only_deleted().all(db).await.unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].id, u.id);

    assert!(u.restore(db).await.unwrap());
    assert!(u.deleted_at.is_none());
    assert!(User::get(db, u.id).await.unwrap().is_some());

    assert!(u.delete_permanently(db).await.unwrap());
    assert!(User::get_with_deleted(db, u.id).await.unwrap().is_none());
    let ops: Vec<Operation> = User::history(db, u.id)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.operation)
        .collect();
    assert_eq!(
        ops,
        vec![
            Operation::Insert,
            Operation::Delete,
            Operation::Restore,
            Operation::Delete
        ]
    );
}

/// History keeps every version with actor, comment and time; `at_version`
/// returns a row as it was.
pub async fn ent_history_versions(t: &TestDb) {
    let db = &t.db;
    users(db).await;
    let mut u = User::new("h@example.com", 1);
    u.save_with(db, &Audit::by("alice").comment("signup"))
        .await
        .unwrap();
    u.score = 2;
    u.save_with(db, &Audit::by("bob")).await.unwrap();
    u.name = Some("Hedy".into());
    u.save(db).await.unwrap();
    u.delete_with(db, &Audit::by("carol").comment("gdpr"))
        .await
        .unwrap();

    let h = User::history(db, u.id).await.unwrap();
    assert_eq!(h.len(), 4);
    assert_eq!(
        h.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        h.iter().map(|e| e.operation).collect::<Vec<_>>(),
        vec![
            Operation::Insert,
            Operation::Update,
            Operation::Update,
            Operation::Delete
        ]
    );
    assert_eq!(h[0].actor.as_deref(), Some("alice"));
    assert_eq!(h[0].comment.as_deref(), Some("signup"));
    assert_eq!(h[1].actor.as_deref(), Some("bob"));
    assert_eq!(h[1].comment, None);
    assert_eq!(h[2].actor, None);
    assert_eq!(h[3].comment.as_deref(), Some("gdpr"));
    assert!(h.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(h[0].entity.score, 1);
    assert_eq!(h[2].entity.name.as_deref(), Some("Hedy"));
    assert!(h[3].entity.deleted_at.is_some());
    // the stored values (deployed history tables hold them: never change them
    // without a migration plan)
    let stored: Vec<(i64, String)> = db
        .fetch_all_as(
            "SELECT [history_version], [history_operation] FROM [e_users_history] \
             WHERE [id] = ? ORDER BY [history_version]",
            (u.id,),
        )
        .await
        .unwrap();
    let stored: Vec<(i64, &str)> = stored.iter().map(|(v, o)| (*v, o.as_str())).collect();
    assert_eq!(
        stored,
        [(1, "insert"), (2, "update"), (3, "update"), (4, "delete")]
    );
    assert_eq!(
        [
            Operation::Insert,
            Operation::Update,
            Operation::Delete,
            Operation::Restore
        ]
        .map(Operation::as_str),
        ["insert", "update", "delete", "restore"]
    );

    let v2 = User::at_version(db, u.id, 2).await.unwrap().unwrap();
    assert_eq!(v2.entity.score, 2);
    assert_eq!(v2.entity.name, None);
    assert!(User::at_version(db, u.id, 99).await.unwrap().is_none());
}

/// History is kept by triggers: a change made with plain SQL is recorded too
/// (without the previous writer's name), and a save that changes nothing adds
/// no version.
pub async fn ent_history_covers_plain_sql_writes(t: &TestDb) {
    let db = &t.db;
    Doc::ensure_schema(db).await.unwrap();
    let mut d = Doc {
        id: Uuid::nil(),
        title: "t".into(),
        version: 0,
        body: "b".into(),
    };
    d.save_with(db, &Audit::by("alice")).await.unwrap();
    db.execute(
        "UPDATE [e_docs] SET [body] = ?, [version] = [version] + 1 WHERE [id] = ?",
        ("edited by hand", d.id),
    )
    .await
    .unwrap();
    let h = Doc::history(db, d.id).await.unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].actor.as_deref(), Some("alice"));
    assert_eq!(h[1].operation, Operation::Update);
    assert_eq!(h[1].actor, None, "not alice: she did not make this change");
    assert_eq!(h[1].entity.body, "edited by hand");

    // an update that changes nothing records nothing
    db.execute(
        "UPDATE [e_docs] SET [body] = [body] WHERE [id] = ?",
        (d.id,),
    )
    .await
    .unwrap();
    assert_eq!(Doc::history(db, d.id).await.unwrap().len(), 2);
    let current = Doc::get(db, d.id).await.unwrap().unwrap();
    let mut same = current.clone();
    same.save(db).await.unwrap();
    // the version moved on, so that save is a change (and recorded)
    assert_eq!(Doc::history(db, d.id).await.unwrap().len(), 3);
}

/// The row and its history entry are written together: when the history insert
/// fails, the row keeps its old state (on a pooled connection and inside an
/// outer transaction).
pub async fn ent_row_and_history_are_atomic(t: &TestDb) {
    let db = &t.db;
    use dal::schema::ddl::DdlStatement;
    users(db).await;
    let mut u = User::new("atomic@example.com", 1);
    u.save(db).await.unwrap();

    // the history table goes away: every write through the triggers now fails
    db.apply_ddl(&DdlStatement::DropTable {
        name: "e_users_history".into(),
        if_exists: false,
    })
    .await
    .unwrap();

    u.score = 99;
    let err = u.clone().save(db).await.unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    assert_eq!(User::get(db, u.id).await.unwrap().unwrap().score, 1);

    let mut fresh = User::new("never@example.com", 5);
    let err = fresh.save(db).await.unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    assert_eq!(User::find().include_deleted().count(db).await.unwrap(), 1);

    let mut tx = db.begin().await.unwrap();
    let mut other = u.clone();
    other.score = 77;
    let err = other.save(&mut tx).await.unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    if db.dialect() != Dialect::Postgres {
        // MySQL and SQLite let the transaction go on: the savepoint undid the row
        let inside: i64 = tx
            .fetch_scalar("SELECT [score] FROM [e_users] WHERE [id] = ?", (u.id,))
            .await
            .unwrap();
        assert_eq!(inside, 1);
        tx.commit().await.unwrap();
    } else {
        // PostgreSQL aborts the whole transaction after a failed statement
        let err = tx.execute("SELECT 1", ()).await.unwrap_err();
        assert_eq!(err.code(), Some("25P02"), "{err:?}");
        tx.rollback().await.unwrap();
    }
    assert_eq!(User::get(db, u.id).await.unwrap().unwrap().score, 1);

    // ensure_schema brings the history table (and its triggers) back
    User::ensure_schema(db).await.unwrap();
    u.save(db).await.unwrap();
    assert_eq!(User::get(db, u.id).await.unwrap().unwrap().score, 99);
    let h = User::history(db, u.id).await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].operation, Operation::Update);
}

async fn seed(db: &dal::Db, n: i32) -> Vec<User> {
    users(db).await;
    let mut all: Vec<User> = (0..n)
        .map(|i| {
            let mut u = User::new(&format!("user{i:03}@example.com"), i % 10);
            u.name = (i % 3 != 0).then(|| format!("Name {i}"));
            u.active = i % 2 == 0;
            u
        })
        .collect();
    User::save_all(&mut all, db).await.unwrap();
    all
}

/// Every comparison, combinator, order, limit/offset, count and exists.
pub async fn ent_typed_queries(t: &TestDb) {
    let db = &t.db;
    let all = seed(db, 30).await;
    let q = |c| User::find().filter(c);
    let count = |f: dal::Find<User>| async move { f.count(db).await.unwrap() };
    assert_eq!(count(q(User::SCORE.eq(3))).await, 3);
    assert_eq!(count(q(User::SCORE.ne(3))).await, 27);
    assert_eq!(count(q(User::SCORE.lt(3))).await, 9);
    assert_eq!(count(q(User::SCORE.le(3))).await, 12);
    assert_eq!(count(q(User::SCORE.gt(7))).await, 6);
    assert_eq!(count(q(User::SCORE.ge(7))).await, 9);
    assert_eq!(count(q(User::SCORE.between(2, 4))).await, 9);
    assert_eq!(count(q(User::SCORE.in_list([1, 2]))).await, 6);
    assert_eq!(count(q(User::SCORE.in_list(Vec::<i32>::new()))).await, 0);
    assert_eq!(count(q(User::EMAIL.like("user00%"))).await, 10);
    assert_eq!(count(q(User::NAME.is_null())).await, 10);
    assert_eq!(count(q(User::NAME.is_not_null())).await, 20);
    assert_eq!(count(q(User::ACTIVE.eq(true) & User::SCORE.ge(5))).await, 6);
    assert_eq!(count(q(User::SCORE.eq(0) | User::SCORE.eq(9))).await, 6);
    assert_eq!(count(q(!User::ACTIVE.eq(true))).await, 15);
    assert_eq!(
        count(
            User::find()
                .filter(User::ACTIVE.eq(true))
                .filter(User::SCORE.lt(2))
        )
        .await,
        3
    );

    let top = User::find()
        .order_by(User::SCORE.desc())
        .order_by(User::EMAIL.asc())
        .limit(3)
        .all(db)
        .await
        .unwrap();
    assert_eq!(
        top.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
        vec![
            "user009@example.com",
            "user019@example.com",
            "user029@example.com"
        ]
    );
    let page2 = User::find()
        .order_by(User::EMAIL.asc())
        .limit(5)
        .offset(5)
        .all(db)
        .await
        .unwrap();
    assert_eq!(page2[0].email, "user005@example.com");
    assert_eq!(page2.len(), 5);
    let one = User::find()
        .filter(User::EMAIL.eq("user012@example.com"))
        .one(db)
        .await
        .unwrap();
    assert_eq!(one.id, all[12].id);
    let none = User::find()
        .filter(User::EMAIL.eq("nobody@example.com"))
        .optional(db)
        .await
        .unwrap();
    assert!(none.is_none());
    let err = User::find()
        .filter(User::EMAIL.eq("nobody@example.com"))
        .one(db)
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert!(
        User::find()
            .filter(User::SCORE.eq(9))
            .exists(db)
            .await
            .unwrap()
    );
    assert_eq!(User::find().limit(4).count(db).await.unwrap(), 4);
    let raw = User::find()
        .filter(dal::Cond::sql(
            "LOWER([email]) = ?",
            vec![Value::from("user001@example.com")],
        ))
        .all(db)
        .await
        .unwrap();
    assert_eq!(raw.len(), 1);
}

/// A second `Db` on the test's database with a pool of one connection,
/// configured further by `tweak`.
async fn one_connection(
    url: &str,
    tweak: impl FnOnce(dal::DatabaseConfigBuilder) -> dal::DatabaseConfigBuilder,
) -> dal::Db {
    let config = tweak(dal::DatabaseConfig::builder(url).max_connections(1));
    dal::Db::connect(config.build().unwrap()).await.unwrap()
}

/// Keyset pagination (`after`) walks the same rows as offset pagination, and
/// `stream` yields every row in order, a batch at a time.
pub async fn ent_keyset_pagination_and_stream(t: &TestDb) {
    let db = &t.db;
    let all = seed(db, 47).await;
    let mut seen = Vec::new();
    let mut last: Option<User> = None;
    loop {
        let mut f = User::find()
            .order_by(User::SCORE.desc())
            .order_by(User::EMAIL.asc())
            .limit(10);
        if let Some(l) = &last {
            f = f.after(l);
        }
        let page = f.all(db).await.unwrap();
        if page.is_empty() {
            break;
        }
        seen.extend(page.iter().map(|u| u.id));
        last = page.last().cloned();
    }
    let by_offset: Vec<i64> = User::find()
        .order_by(User::SCORE.desc())
        .order_by(User::EMAIL.asc())
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(seen.len(), 47);
    assert_eq!(seen, by_offset);

    let streamed: Vec<i64> = User::find()
        .filter(User::SCORE.ge(0))
        .batch_size(7)
        .stream(db)
        .map(|r| r.unwrap().id)
        .collect()
        .await;
    let mut ids: Vec<i64> = all.iter().map(|u| u.id).collect();
    ids.sort();
    assert_eq!(streamed, ids);
    let limited: Vec<dal::Result<User>> = User::find()
        .order_by(User::SCORE.asc())
        .limit(12)
        .batch_size(5)
        .stream(db)
        .collect()
        .await;
    assert_eq!(limited.len(), 12);
    // the stream is Unpin: next() without pinning it first
    let mut stream = User::find().batch_size(3).stream(db);
    let mut n = 0;
    while let Some(row) = stream.next().await {
        row.unwrap();
        n += 1;
    }
    assert_eq!(n, 47);

    // the next batch is fetched by a task of its own: a caller that uses the
    // database between rows, on a pool of one connection, is not held up by it
    let one = one_connection(&t.url, |b| b.acquire_timeout(Duration::from_secs(5))).await;
    let mut stream = User::find().batch_size(4).stream(&one);
    let mut n = 0;
    while let Some(row) = stream.next().await {
        let u = row.unwrap();
        let again = User::get(&one, u.id).await.unwrap();
        assert_eq!(again.map(|a| a.id), Some(u.id));
        n += 1;
    }
    assert_eq!(n, 47);
    // a stream dropped with a batch in flight gives its connection back
    let mut stream = User::find().batch_size(4).stream(&one);
    stream.next().await.unwrap().unwrap();
    drop(stream);
    assert_eq!(User::find().count(&one).await.unwrap(), 47);
    one.close();
}

/// `cursor` reads one statement: every row in the query's order, limit and
/// offset as in `all`, a slow reader holding the fetch back without losing
/// rows, an early drop giving the connection back, and the query timeout
/// covering the whole stream.
pub async fn ent_cursor(t: &TestDb) {
    let db = &t.db;
    let all = seed(db, 1500).await;
    let ordered = || {
        User::find()
            .order_by(User::SCORE.asc())
            .order_by(User::EMAIL.asc())
    };
    let expected: Vec<i64> = ordered()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(expected.len(), all.len());
    let read: Vec<i64> = ordered().cursor(db).map(|r| r.unwrap().id).collect().await;
    assert_eq!(read, expected);
    // read again and again in one go: the stream must give way when the
    // task's cooperative budget runs out with a batch waiting (it once spun
    // there, which hangs this test rather than failing it)
    for _ in 0..4 {
        let n = ordered().cursor(db).fold(0usize, |n, r| async move {
            r.unwrap();
            n + 1
        });
        assert_eq!(
            tokio::time::timeout(Duration::from_secs(30), n)
                .await
                .unwrap(),
            1500
        );
    }
    // rows equal what `all` decodes, column for column
    let first = ordered().limit(3).cursor(db).next().await.unwrap().unwrap();
    assert_eq!(first, ordered().limit(1).all(db).await.unwrap().remove(0));
    let window: Vec<i64> = ordered()
        .offset(700)
        .limit(600)
        .cursor(db)
        .map(|r| r.unwrap().id)
        .collect()
        .await;
    assert_eq!(window, expected[700..1300]);
    let filtered = User::find()
        .filter(User::SCORE.eq(4))
        .cursor(db)
        .map(|r| r.unwrap().score)
        .collect::<Vec<_>>()
        .await;
    assert_eq!(filtered.len(), 150);
    assert!(filtered.iter().all(|s| *s == 4));

    // a reader slower than the fetch: the fetch waits, nothing is lost
    let mut slow = ordered().cursor(db);
    let mut n = 0usize;
    let mut ids = Vec::new();
    while let Some(r) = slow.next().await {
        ids.push(r.unwrap().id);
        n += 1;
        if n.is_multiple_of(500) {
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
    assert_eq!(ids, expected);

    // on a pool of one connection: a cursor dropped early gives it back
    let one = one_connection(&t.url, |b| b.acquire_timeout(Duration::from_secs(5))).await;
    let mut c = ordered().cursor(&one);
    assert_eq!(c.next().await.unwrap().unwrap().id, expected[0]);
    drop(c);
    assert_eq!(User::find().count(&one).await.unwrap(), 1500);
    // a cursor never polled starts nothing
    drop(ordered().cursor(&one));
    assert_eq!(User::find().count(&one).await.unwrap(), 1500);
    one.close();

    // the query timeout covers the fetch until its last rows are handed
    // over: a reader that is behind holds it back (at this pace the fetch
    // would need about a second)
    let timed = one_connection(&t.url, |b| b.query_timeout(Duration::from_millis(400))).await;
    let mut c = ordered().cursor(&timed);
    let (mut got, mut failed) = (0usize, None);
    while let Some(r) = c.next().await {
        match r {
            Ok(_) => {
                got += 1;
                if got.is_multiple_of(25) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    assert!(
        matches!(failed, Some(Error::Timeout { .. })),
        "after {got} rows: {failed:?}"
    );
    assert!(got < 1500, "{got}");
    assert!(c.next().await.is_none(), "the stream ends after its error");
    drop(c);
    // the connection came back usable
    assert_eq!(User::find().count(&timed).await.unwrap(), 1500);
    timed.close();
}

/// What a service shows about itself serializes: health, stats, a row's
/// history.
pub async fn ent_reports_serialize(t: &TestDb) {
    let db = &t.db;
    let all = seed(db, 2).await;
    let health = serde_json::to_value(db.health().await).unwrap();
    assert_eq!(health["healthy"], true);
    assert_eq!(health["breaker"], "closed");
    assert!(health["pool"]["max"].as_u64().unwrap() >= 1, "{health}");
    let stats = serde_json::to_value(db.stats()).unwrap();
    assert!(stats["calls"].as_u64().unwrap() > 0, "{stats}");
    assert_eq!(stats["advice"], "normal");
    let history = User::history(db, all[0].id).await.unwrap();
    let json = serde_json::to_value(&history).unwrap();
    assert_eq!(json[0]["operation"], "insert");
    assert_eq!(json[0]["version"], 1);
    assert_eq!(json[0]["entity"]["id"], all[0].id);
}

/// `update_many` and `delete_many` change every matching row, bump updated_at,
/// and record history for each.
pub async fn ent_update_and_delete_many(t: &TestDb) {
    let db = &t.db;
    let all = seed(db, 20).await;
    let changed = User::find()
        .filter(User::SCORE.lt(3))
        .update_many_with(
            db,
            vec![User::ACTIVE.set(false), User::NAME.set("bulk".to_string())],
            &Audit::by("batch"),
        )
        .await
        .unwrap();
    assert_eq!(changed, 6);
    let bulk = User::find()
        .filter(User::NAME.eq("bulk"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(bulk.len(), 6);
    assert!(
        bulk.iter()
            .all(|u| !u.active && u.updated_at > u.created_at)
    );
    let h = User::history(db, bulk[0].id).await.unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].operation, Operation::Update);
    assert_eq!(h[1].actor.as_deref(), Some("batch"));
    assert_eq!(h[1].entity.name.as_deref(), Some("bulk"));

    let deleted = User::find()
        .filter(User::SCORE.ge(8))
        .delete_many(db)
        .await
        .unwrap();
    assert_eq!(deleted, 4);
    assert_eq!(User::find().count(db).await.unwrap(), 16);
    assert_eq!(User::find().only_deleted().count(db).await.unwrap(), 4);
    let gone = User::find()
        .include_deleted()
        .filter(User::SCORE.ge(8))
        .delete_many_permanently(db)
        .await
        .unwrap();
    assert_eq!(gone, 4);
    assert_eq!(User::find().include_deleted().count(db).await.unwrap(), 16);
    let last_ops: Vec<Operation> = User::history(db, all[9].id)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.operation)
        .collect();
    assert_eq!(
        last_ops,
        vec![Operation::Insert, Operation::Delete, Operation::Delete]
    );
    let err = User::find().limit(3).delete_many(db).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }));
}

/// `save_all`: thousands of new rows in chunks get distinct ids matching the
/// database, existing rows are upserted, everything is one transaction.
pub async fn ent_save_all_bulk(t: &TestDb) {
    let db = &t.db;
    users(db).await;
    let n = 2500;
    let mut batch: Vec<User> = (0..n)
        .map(|i| User::new(&format!("bulk{i}@example.com"), i % 100))
        .collect();
    User::save_all(&mut batch, db).await.unwrap();
    let mut ids: Vec<i64> = batch.iter().map(|u| u.id).collect();
    assert!(ids.iter().all(|&id| id > 0));
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n as usize);
    for u in [&batch[0], &batch[1234], &batch[2499]] {
        let loaded = User::get(db, u.id).await.unwrap().unwrap();
        assert_eq!(&loaded.email, &u.email, "ids map to the right rows");
    }
    assert_eq!(User::find().count(db).await.unwrap(), n as i64);
    let h = User::history(db, batch[77].id).await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].operation, Operation::Insert);

    // existing rows are updated, new ones inserted, in one call
    for u in batch.iter_mut().take(10) {
        u.score = 1000;
    }
    let mut mixed: Vec<User> = batch[..10].to_vec();
    mixed.push(User::new("late@example.com", 1));
    User::save_all(&mut mixed, db).await.unwrap();
    assert_eq!(
        User::find()
            .filter(User::SCORE.eq(1000))
            .count(db)
            .await
            .unwrap(),
        10
    );
    assert_eq!(User::find().count(db).await.unwrap(), n as i64 + 1);
    let h = User::history(db, batch[3].id).await.unwrap();
    assert_eq!(
        h.iter().map(|e| e.operation).collect::<Vec<_>>(),
        vec![Operation::Insert, Operation::Update]
    );

    // all or nothing: a duplicate email fails the whole batch
    let mut bad = vec![
        User::new("ok1@example.com", 1),
        User::new("bulk5@example.com", 1),
    ];
    let err = User::save_all(&mut bad, db).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    assert_eq!(User::find().count(db).await.unwrap(), n as i64 + 1);
}

/// `bulk_rows_per_statement`: a bulk save of new rows sends one multi-row
/// INSERT per that many rows; the rows and their ids are the same either
/// way; zero is refused.
pub async fn ent_save_all_rows_per_statement(t: &TestDb) {
    users(&t.db).await;
    let small = dal::Db::connect(
        dal::DatabaseConfig::builder(&t.url)
            .bulk_rows_per_statement(3)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(small.config().bulk_rows_per_statement(), 3);
    let statements_of = |db: &dal::Db, prefix: &'static str| {
        let db = db.clone();
        async move {
            let mut batch: Vec<User> = (0..10)
                .map(|i| User::new(&format!("{prefix}{i}@example.com"), i))
                .collect();
            let before = db.stats().statements;
            User::save_all(&mut batch, &db).await.unwrap();
            let sent = db.stats().statements - before;
            assert!(batch.iter().all(|u| u.id > 0));
            for u in &batch {
                let loaded = User::get(&db, u.id).await.unwrap().unwrap();
                assert_eq!(loaded.email, u.email);
            }
            sent
        }
    };
    let chunked = statements_of(&small, "small").await;
    let whole = statements_of(&t.db, "whole").await;
    // ten rows in chunks of 3: four INSERTs instead of one (ten rows are
    // below PostgreSQL's COPY threshold too)
    assert_eq!(chunked, whole + 3, "{chunked} vs {whole}");
    assert_eq!(User::find().count(&t.db).await.unwrap(), 20);
    small.close();
    let err = dal::DatabaseConfig::builder(&t.url)
        .bulk_rows_per_statement(0)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("bulk_rows_per_statement"), "{err}");
}

/// Declares [`Wide`]: an id and one `i64` data column per name.
macro_rules! wide_entity {
    ($($c:ident),* $(,)?) => {
        #[derive(Entity, Debug, Clone, PartialEq)]
        #[dal(table = "e_wide")]
        pub struct Wide {
            #[dal(id)]
            pub id: i64,
            $(pub $c: i64,)*
        }

        impl Wide {
            /// Data columns.
            const COLUMNS: usize = [$(stringify!($c)),*].len();

            /// A row whose k-th column holds `seed * 1000 + k`.
            fn row(id: i64, seed: i64) -> Wide {
                let mut k = 0;
                Wide {
                    id,
                    $($c: {
                        k += 1;
                        seed * 1000 + k
                    },)*
                }
            }
        }
    };
}

wide_entity!(
    c00, c01, c02, c03, c04, c05, c06, c07, c08, c09, c10, c11, c12, c13, c14, c15, c16, c17, c18,
    c19, c20, c21, c22, c23, c24, c25, c26, c27, c28, c29, c30, c31, c32, c33, c34, c35, c36, c37,
    c38, c39, c40, c41, c42, c43, c44, c45, c46, c47, c48, c49, c50, c51, c52, c53, c54, c55, c56,
    c57, c58, c59, c60, c61, c62, c63, c64, c65, c66, c67, c68, c69
);

/// The writes of one table a hook saw: (operation, bound parameters) of each
/// successful statement naming the table.
#[derive(Default)]
pub struct TableWrites {
    table: &'static str,
    seen: std::sync::Mutex<Vec<(&'static str, usize)>>,
}

impl TableWrites {
    pub fn new(table: &'static str) -> std::sync::Arc<TableWrites> {
        std::sync::Arc::new(TableWrites {
            table,
            seen: Default::default(),
        })
    }

    /// What was seen since the last call.
    pub fn take(&self) -> Vec<(&'static str, usize)> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl dal::hooks::Hook for TableWrites {
    fn after(&self, q: &dal::hooks::QueryInfo<'_>, o: &dal::hooks::QueryOutcome<'_>) {
        let text = q.statement.trim_start().to_ascii_uppercase();
        let names_table = q.statement.contains(&format!("\"{}\"", self.table))
            || q.statement.contains(&format!("`{}`", self.table));
        if o.error.is_none()
            && names_table
            && (text.starts_with("INSERT") || text.starts_with("COPY"))
        {
            self.seen.lock().unwrap().push((q.operation, q.params));
        }
    }
}

/// Assert `statements` are the multi-row writes of `rows` rows of `per_row`
/// parameters split at the bind limit: as few statements as the limit allows,
/// each within it, together binding every row exactly once.
#[track_caller]
fn assert_split(statements: &[(&str, usize)], rows: usize, per_row: usize, limit: usize) {
    let params: Vec<usize> = statements.iter().map(|s| s.1).collect();
    assert!(
        rows * per_row > limit,
        "the batch must not fit one statement ({rows} x {per_row} <= {limit})"
    );
    assert_eq!(
        params.len(),
        rows.div_ceil(limit / per_row),
        "statements of {per_row}-parameter rows under a limit of {limit}: {params:?}"
    );
    assert!(params.len() >= 2, "{params:?}");
    for p in &params {
        assert!(
            *p <= limit,
            "{p} parameters exceed the limit {limit}: {params:?}"
        );
        assert_eq!(p % per_row, 0, "{params:?}");
    }
    assert_eq!(params.iter().sum::<usize>(), rows * per_row, "{params:?}");
}

/// `save_all` of more parameters than the dialect binds in one statement
/// (70 data columns, 950 rows: under the 1000-row cap, over every dialect's
/// bind limit) splits the batch into statements within the limit; every row
/// arrives exactly once with its own values. Checked for rows with ids
/// (multi-row upserts, every backend), updates of them, and new rows with
/// generated ids (multi-row inserts; PostgreSQL copies those, unbound).
pub async fn ent_save_all_splits_at_the_bind_limit(t: &TestDb) {
    const ROWS: usize = 950;
    let db = &t.db;
    let dialect = db.dialect();
    let limit = dialect.capabilities().max_bind_params;
    Wide::ensure_schema(db).await.unwrap();
    let writes = TableWrites::new("e_wide");
    db.add_hook(writes.clone());
    let all = || async { Wide::find().order_by(Wide::ID.asc()).all(db).await.unwrap() };

    // rows with their ids: upserts of 1 + 70 parameters each (ids far from
    // the ones the server generates below: PostgreSQL's identity sequence
    // does not move for explicit ids)
    const FIRST: i64 = 1_000_001;
    let ids = FIRST..FIRST + ROWS as i64;
    let mut keyed: Vec<Wide> = ids.clone().map(|i| Wide::row(i, i)).collect();
    Wide::save_all(&mut keyed, db).await.unwrap();
    assert_split(&writes.take(), ROWS, 1 + Wide::COLUMNS, limit);
    assert_eq!(all().await, keyed);

    // the same ids again with other values: every row updated, none added
    let mut changed: Vec<Wide> = ids.map(|i| Wide::row(i, i + 5000)).collect();
    Wide::save_all(&mut changed, db).await.unwrap();
    assert_split(&writes.take(), ROWS, 1 + Wide::COLUMNS, limit);
    assert_eq!(all().await, changed);

    // new rows, ids generated by the server: inserts of 70 parameters each
    let mut fresh: Vec<Wide> = (0..ROWS as i64).map(|i| Wide::row(0, 9000 + i)).collect();
    Wide::save_all(&mut fresh, db).await.unwrap();
    let seen = writes.take();
    if dialect == Dialect::Postgres {
        assert_eq!(seen, [("copy", 0)], "PostgreSQL copies new rows");
    } else {
        assert_split(&seen, ROWS, Wide::COLUMNS, limit);
    }
    let mut ids: Vec<i64> = fresh.iter().map(|w| w.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), ROWS, "every new row got its own id");
    let mut expected = changed.clone();
    expected.extend(fresh.iter().cloned());
    expected.sort_by_key(|w| w.id);
    // each generated id maps to the row with that entity's values
    assert_eq!(all().await, expected);
}

/// Entity writes inside a transaction join it: rollback undoes them, commit keeps them.
pub async fn ent_operations_in_transactions(t: &TestDb) {
    let db = &t.db;
    users(db).await;
    let mut tx = db.begin().await.unwrap();
    let mut a = User::new("tx1@example.com", 1);
    a.save(&mut tx).await.unwrap();
    let seen = User::get(&mut tx, a.id).await.unwrap();
    assert!(seen.is_some());
    let n = User::find().count(&mut tx).await.unwrap();
    assert_eq!(n, 1);
    tx.rollback().await.unwrap();
    assert!(User::get(db, a.id).await.unwrap().is_none());
    assert!(User::history(db, a.id).await.unwrap().is_empty());

    let mut tx = db.begin().await.unwrap();
    let mut b = User::new("tx2@example.com", 2);
    b.save(&mut tx).await.unwrap();
    b.score = 3;
    b.save(&mut tx).await.unwrap();
    let mut many = vec![
        User::new("tx3@example.com", 3),
        User::new("tx4@example.com", 4),
    ];
    User::save_all(&mut many, &mut tx).await.unwrap();
    let locked = User::find()
        .filter(User::ID.eq(b.id))
        .for_update()
        .one(&mut tx)
        .await
        .unwrap();
    assert_eq!(locked.score, 3);
    tx.commit().await.unwrap();
    assert_eq!(User::find().count(db).await.unwrap(), 3);
    assert_eq!(User::history(db, b.id).await.unwrap().len(), 2);
}

/// `skip_locked` passes over rows another transaction holds (job-queue
/// pattern): no row goes to two workers. SQLite has no row locks; there a
/// transaction holds the database's write lock (`BEGIN IMMEDIATE`), so the
/// second worker waits for the first and then sees what it did.
pub async fn ent_skip_locked(t: &TestDb) {
    let db = &t.db;
    seed(db, 5).await;
    let mut first = db.begin().await.unwrap();
    let taken = User::find()
        .order_by(User::ID.asc())
        .limit(2)
        .skip_locked()
        .all(&mut first)
        .await
        .unwrap();
    assert_eq!(taken.len(), 2);
    let rest = if db.dialect() == Dialect::Sqlite {
        // the first worker finishes its jobs (deletes them) before committing
        for u in &taken {
            assert!(u.clone().delete(&mut first).await.unwrap());
        }
        let other = db.clone();
        let second = tokio::spawn(async move {
            let mut tx = other.begin().await?;
            let rest = User::find()
                .order_by(User::ID.asc())
                .skip_locked()
                .all(&mut tx)
                .await?;
            tx.commit().await?;
            Ok::<_, Error>(rest)
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !second.is_finished(),
            "the second worker did not wait for the first: {:?}",
            second.await
        );
        first.commit().await.unwrap();
        second.await.unwrap().unwrap()
    } else {
        let mut second = db.begin().await.unwrap();
        let rest = User::find()
            .order_by(User::ID.asc())
            .skip_locked()
            .all(&mut second)
            .await
            .unwrap();
        second.commit().await.unwrap();
        first.commit().await.unwrap();
        rest
    };
    assert_eq!(rest.len(), 3);
    assert!(rest.iter().all(|u| !taken.iter().any(|t| t.id == u.id)));
}

/// `ensure_schema` creates tables, is idempotent, adds columns a struct gained
/// and reports (without applying) what would lose data.
pub async fn ent_ensure_schema_evolves(t: &TestDb) {
    let db = &t.db;
    #[derive(Entity, Debug, Clone)]
    #[dal(table = "e_evolve", history)]
    struct V1 {
        id: i64,
        #[dal(length = 20)]
        name: String,
        legacy: Option<String>,
    }
    #[derive(Entity, Debug, Clone)]
    #[dal(table = "e_evolve", history)]
    struct V2 {
        id: i64,
        #[dal(length = 20)]
        name: String,
        #[dal(default = 7)]
        level: i32,
        nickname: Option<String>,
    }
    let r = V1::ensure_schema(db).await.unwrap();
    assert_eq!(r.created.len(), 2);
    let again = V1::ensure_schema(db).await.unwrap();
    assert!(again.is_unchanged(), "{again:?}");
    assert!(again.destructive.is_empty(), "{again:?}");
    let mut old = V1 {
        id: 0,
        name: "first".into(),
        legacy: Some("x".into()),
    };
    old.save(db).await.unwrap();

    let r = V2::ensure_schema(db).await.unwrap();
    assert!(r.created.is_empty());
    let added: Vec<String> = r
        .applied
        .iter()
        .filter_map(|c| match c {
            dal::schema::Change::AddColumn { table, column } if table == "e_evolve" => {
                Some(column.name.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(added, vec!["level", "nickname"]);
    assert!(
        r.destructive
            .iter()
            .any(|c| c.to_string() == "drop column e_evolve.legacy"),
        "{:?}",
        r.destructive
    );
    let loaded = V2::get(db, old.id).await.unwrap().unwrap();
    assert_eq!(
        loaded.level, 7,
        "existing rows take the new column's default"
    );
    assert_eq!(loaded.nickname, None);
    let mut v2 = loaded.clone();
    v2.nickname = Some("nick".into());
    v2.save(db).await.unwrap();
    let h = V2::history(db, v2.id).await.unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].entity.nickname.as_deref(), Some("nick"));
    let live = db.introspect_table("e_evolve").await.unwrap().unwrap();
    assert!(
        live.column("legacy").is_some(),
        "destructive changes are not applied"
    );
}

/// Every supported field type round-trips through an entity, including a user
/// type (`SqlType`), a codec module (`with`), renames and skipped fields.
pub async fn ent_all_field_types(t: &TestDb) {
    let db = &t.db;
    AllTypes::ensure_schema(db).await.unwrap();
    let mut v = AllTypes {
        id: 0,
        a: -8,
        b: -16_000,
        c: 2_000_000_000,
        d: -9_000_000_000_000,
        e: 255,
        f: 65_535,
        g: 4_000_000_000,
        h: 1.25,
        i: -3.5e-8,
        j: true,
        k: "text ünïcödé".into(),
        l: vec![0, 255, 7],
        m: NaiveDate::from_ymd_opt(1999, 12, 31).unwrap(),
        n: NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_micro_opt(12, 30, 45, 123_456)
            .unwrap(),
        o: DateTime::from_timestamp(1_700_000_000, 654_321_000).unwrap(),
        p: Uuid::new_v4(),
        q: "12345678901234.5678".parse().unwrap(),
        r: serde_json::json!({"k": [1, "two", null]}),
        s: None,
        t: Some("opt".into()),
        u: NaiveTime::from_hms_micro_opt(1, 2, 3, 4).unwrap(),
        v: "renamed".into(),
        w: Celsius(21.5),
        x: Email("a@b.c".into()),
        y: Some(Uuid::nil()),
    };
    if db.dialect() == Dialect::Sqlite {
        // SQLite keeps 15 significant digits in a DECIMAL column
        v.q = "1234567890.1234".parse().unwrap();
    }
    v.save(db).await.unwrap();
    let back = AllTypes::get(db, v.id).await.unwrap().unwrap();
    assert_eq!(back, v);
    // a borrowed row decodes the same as an owned one (whose text is moved
    // out, not copied, on MySQL), and so does a result whose columns come in
    // another order (read by name); NULL optional text is read back below
    let row = db
        .fetch_one("SELECT * FROM [e_all_types] WHERE [id] = ?", (v.id,))
        .await
        .unwrap();
    assert_eq!(<AllTypes as dal::FromRow>::from_row(&row).unwrap(), v);
    let reversed = "[y], [x], [w], [renamed_col], [u], [t], [s], [r], [q], [p], [o], [n], [m], \
                    [l], [k], [j], [i], [h], [g], [f], [e], [d], [c], [b], [a], [id]";
    let by_name: Vec<AllTypes> = db
        .fetch_all_as(
            &format!("SELECT {reversed} FROM [e_all_types] WHERE [id] = ?"),
            (v.id,),
        )
        .await
        .unwrap();
    assert_eq!(by_name, vec![v.clone()]);
    let live = db.introspect_table("e_all_types").await.unwrap().unwrap();
    assert!(live.column("renamed_col").is_some());
    assert_eq!(
        live.column("x").unwrap().ty,
        dal::ColumnType::String { length: 254 }
    );
    assert_eq!(live.column("w").unwrap().ty, dal::ColumnType::Integer);
    let by_user_type = AllTypes::find()
        .filter(AllTypes::X.eq(Email("a@b.c".into())))
        .count(db)
        .await
        .unwrap();
    assert_eq!(by_user_type, 1);

    // the bulk path (binary COPY on PostgreSQL) writes every type the same way
    let mut many: Vec<AllTypes> = (0..150)
        .map(|i| {
            let mut x = v.clone();
            x.id = 0;
            x.c = i;
            x.s = (i % 2 == 0).then_some(i);
            x.t = None;
            x.y = None;
            x
        })
        .collect();
    AllTypes::save_all(&mut many, db).await.unwrap();
    for x in [&many[0], &many[77], &many[149]] {
        let back = AllTypes::get(db, x.id).await.unwrap().unwrap();
        assert_eq!(&back, x);
    }
}

/// Foreign keys from `references`: violations are constraint errors, and
/// `on_delete = "cascade"` removes the children.
pub async fn ent_foreign_keys_and_manual_keys(t: &TestDb) {
    let db = &t.db;
    Team::ensure_schema(db).await.unwrap();
    Member::ensure_schema(db).await.unwrap();
    let mut red = Team {
        id: 0,
        name: "red".into(),
    };
    red.save(db).await.unwrap();
    let mut m = Member {
        id: 0,
        team_id: red.id,
        name: "m".into(),
        cached: Some("not stored".into()),
    };
    m.save(db).await.unwrap();
    let loaded = Member::get(db, m.id).await.unwrap().unwrap();
    assert_eq!(loaded.cached, None, "skipped fields are not stored");
    let mut orphan = Member {
        id: 0,
        team_id: 424_242,
        name: "o".into(),
        cached: None,
    };
    let err = orphan.save(db).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConstraintViolation {
                kind: ConstraintKind::ForeignKey,
                ..
            }
        ),
        "{err:?}"
    );
    // a new team with an explicit id whose name collides: an error, never an overwrite
    let mut clash = Team {
        id: red.id + 100,
        name: "red".into(),
    };
    assert!(clash.save(db).await.unwrap_err().is_unique_violation());
    assert_eq!(Team::get(db, red.id).await.unwrap().unwrap().name, "red");
    assert!(red.delete(db).await.unwrap());
    assert!(Member::get(db, m.id).await.unwrap().is_none(), "cascaded");

    Setting::ensure_schema(db).await.unwrap();
    let mut s = Setting {
        key: "theme".into(),
        value: "dark".into(),
    };
    s.save(db).await.unwrap();
    s.value = "light".into();
    s.save(db).await.unwrap();
    assert_eq!(
        Setting::get(db, "theme".to_string())
            .await
            .unwrap()
            .unwrap()
            .value,
        "light"
    );
    let mut empty = Setting {
        key: String::new(),
        value: "x".into(),
    };
    assert!(matches!(
        empty.save(db).await,
        Err(Error::InvalidInput { .. })
    ));
}

macro_rules! entity_tests {
    ($setup:path) => {
        backend_tests!($setup;
            entity::ent_save_insert_update_get,
            entity::ent_reports_serialize,
            entity::ent_history_table_layout,
            entity::ent_uuid_keys_and_optimistic_locking,
            entity::ent_soft_delete_and_restore,
            entity::ent_history_versions,
            entity::ent_history_covers_plain_sql_writes,
            entity::ent_row_and_history_are_atomic,
            entity::ent_typed_queries,
            entity::ent_keyset_pagination_and_stream,
            entity::ent_cursor,
            entity::ent_update_and_delete_many,
            entity::ent_save_all_bulk,
            entity::ent_save_all_rows_per_statement,
            entity::ent_save_all_splits_at_the_bind_limit,
            entity::ent_operations_in_transactions,
            entity::ent_skip_locked,
            entity::ent_ensure_schema_evolves,
            entity::ent_all_field_types,
            entity::ent_foreign_keys_and_manual_keys,
        );
    };
}
