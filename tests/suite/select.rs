//! The query language beyond whole rows, on every backend: projections into
//! tuples and FromRow structs, aggregates and their result types, grouping,
//! HAVING and DISTINCT, joins along relations (inner, left, many-to-many)
//! and on typed columns, relation aggregates, subqueries (IN, EXISTS,
//! scalar), in transactions and as of an instant.

use dal::{Entity, Error, FromRow};
use rust_decimal::Decimal;

use crate::support::TestDb;

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(
    table = "q_users",
    soft_delete,
    has_many(tasks = Task::OWNER),
    many_to_many(badges = Badge, through = UserBadge::BADGE, from = UserBadge::USER)
)]
pub struct User {
    #[dal(id)]
    pub id: i64,
    pub name: String,
    pub city: Option<String>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "q_tasks", soft_delete, history)]
pub struct Task {
    #[dal(id)]
    pub id: i64,
    #[dal(belongs_to = User, on_delete = "cascade")]
    pub owner_id: i64,
    pub title: String,
    pub hours: i32,
    pub points: i64,
    pub score: f64,
    #[dal(precision = 12, scale = 2)]
    pub cost: Decimal,
    pub done: bool,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "q_badges")]
pub struct Badge {
    #[dal(id)]
    pub id: i64,
    pub label: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "q_user_badges", soft_delete)]
pub struct UserBadge {
    #[dal(id)]
    pub id: i64,
    #[dal(belongs_to = User, on_delete = "cascade")]
    pub user_id: i64,
    #[dal(belongs_to = Badge, on_delete = "cascade")]
    pub badge_id: i64,
}

/// A tree, for filters through a relation of an entity to itself.
#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "q_nodes", has_many(children = Node::PARENT))]
pub struct Node {
    #[dal(id)]
    pub id: i64,
    #[dal(belongs_to = Node, on_delete = "cascade")]
    pub parent_id: Option<i64>,
    pub name: String,
}

async fn schema(db: &dal::Db) {
    User::ensure_schema(db).await.unwrap();
    Task::ensure_schema(db).await.unwrap();
    Badge::ensure_schema(db).await.unwrap();
    UserBadge::ensure_schema(db).await.unwrap();
}

fn task(owner: i64, title: &str, hours: i32, points: i64, cost: &str, done: bool) -> Task {
    Task {
        id: 0,
        owner_id: owner,
        title: title.into(),
        hours,
        points,
        score: hours as f64 / 2.0,
        cost: cost.parse().unwrap(),
        done,
    }
}

/// Ada (Paris) has three tasks, Bob (no city) one, Cy none; Dee is
/// soft-deleted with one task. Returns their ids.
async fn seed(db: &dal::Db) -> [i64; 4] {
    schema(db).await;
    let mut ids = [0; 4];
    for (i, (name, city)) in [
        ("Ada", Some("Paris")),
        ("Bob", None),
        ("Cy", Some("Oslo")),
        ("Dee", Some("Paris")),
    ]
    .into_iter()
    .enumerate()
    {
        let mut u = User {
            id: 0,
            name: name.into(),
            city: city.map(Into::into),
        };
        u.save(db).await.unwrap();
        ids[i] = u.id;
    }
    let [ada, bob, _cy, dee] = ids;
    for mut t in [
        task(ada, "write", 3, 10, "1.50", false),
        task(ada, "read", 5, 20, "2.25", true),
        task(ada, "review", 2, 30, "0.25", false),
        task(bob, "fix", 7, 40, "10.00", false),
        task(dee, "gone", 11, 50, "1.00", false),
    ] {
        t.save(db).await.unwrap();
    }
    let mut dee_user = User::get(db, dee).await.unwrap().unwrap();
    dee_user.delete(db).await.unwrap();
    ids
}

/// Columns into tuples with the fields' types (an `Option` field reads as
/// one), a single column, ordering, limit and offset, DISTINCT, and a
/// soft-deleted row staying hidden.
pub async fn sel_projections(t: &TestDb) {
    let db = &t.db;
    let [ada, ..] = seed(db).await;
    let rows: Vec<(i64, String, Option<String>)> = User::find()
        .order_by(User::NAME.asc())
        .select((User::ID, User::NAME, User::CITY))
        .all(db)
        .await
        .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
        ["Ada", "Bob", "Cy"],
        "soft-deleted Dee hidden"
    );
    assert_eq!(rows[0], (ada, "Ada".into(), Some("Paris".into())));
    assert_eq!(rows[1].2, None);

    let titles: Vec<String> = Task::find()
        .filter(Task::OWNER_ID.eq(ada))
        .order_by(Task::HOURS.desc())
        .select(Task::TITLE)
        .limit(2)
        .offset(1)
        .all(db)
        .await
        .unwrap();
    assert_eq!(titles, ["write", "review"]);

    let one: String = User::find()
        .filter(User::ID.eq(ada))
        .select(User::NAME)
        .one(db)
        .await
        .unwrap();
    assert_eq!(one, "Ada");
    let none = User::find()
        .filter(User::ID.eq(-1))
        .select(User::NAME)
        .optional(db)
        .await
        .unwrap();
    assert_eq!(none, None);
    let missing = User::find()
        .filter(User::ID.eq(-1))
        .select(User::NAME)
        .one(db)
        .await;
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");

    let mut cities: Vec<Option<String>> = User::find()
        .include_deleted()
        .select(User::CITY)
        .distinct()
        .all(db)
        .await
        .unwrap();
    cities.sort();
    assert_eq!(cities, [None, Some("Oslo".into()), Some("Paris".into())]);
}

#[derive(FromRow, Debug, PartialEq)]
struct Workload {
    name: String,
    tasks: i64,
    hours: Option<i64>,
    avg_hours: Option<f64>,
}

/// Aggregates with their widened types, over groups and over no rows;
/// HAVING, ordering by an aggregate, FromRow rows read by the values' names.
pub async fn sel_aggregates(t: &TestDb) {
    let db = &t.db;
    let [ada, bob, ..] = seed(db).await;

    // over every (not soft-deleted) task: Dee's task is not soft-deleted itself
    #[allow(clippy::type_complexity)]
    let (count, hours, points, score, cost, lo, hi): (
        i64,
        Option<i64>,
        Option<Decimal>,
        Option<f64>,
        Option<Decimal>,
        Option<i32>,
        Option<String>,
    ) = Task::find()
        .select((
            Task::ID.count(),
            Task::HOURS.sum(),
            Task::POINTS.sum(),
            Task::SCORE.sum(),
            Task::COST.sum(),
            Task::HOURS.min(),
            Task::TITLE.max(),
        ))
        .one(db)
        .await
        .unwrap();
    assert_eq!(count, 5);
    assert_eq!(hours, Some(28));
    assert_eq!(points, Some(Decimal::from(150)));
    assert_eq!(score, Some(14.0));
    assert_eq!(cost, Some("15.00".parse::<Decimal>().unwrap()));
    assert_eq!((lo, hi.as_deref()), (Some(2), Some("write")));

    // averages: f64 for integers, Decimal for decimals
    let (avg_h, avg_cost): (Option<f64>, Option<Decimal>) = Task::find()
        .filter(Task::OWNER_ID.eq(ada))
        .select((Task::HOURS.avg(), Task::COST.avg()))
        .one(db)
        .await
        .unwrap();
    assert!((avg_h.unwrap() - 10.0 / 3.0).abs() < 1e-9, "{avg_h:?}");
    assert_eq!(avg_cost.unwrap().round_dp(2), "1.33".parse().unwrap());

    // no rows: count 0, every other aggregate None
    let empty: (i64, i64, Option<i64>, Option<f64>, Option<i32>) = Task::find()
        .filter(Task::HOURS.gt(1000))
        .select((
            Task::ID.count(),
            Task::OWNER_ID.count_distinct(),
            Task::HOURS.sum(),
            Task::HOURS.avg(),
            Task::HOURS.max(),
        ))
        .one(db)
        .await
        .unwrap();
    assert_eq!(empty, (0, 0, None, None, None));

    // groups, HAVING, order by an aggregate
    let per_owner: Vec<(i64, i64, Option<i64>)> = Task::find()
        .select((Task::OWNER_ID, Task::ID.count(), Task::HOURS.sum()))
        .group_by(Task::OWNER_ID)
        .having(Task::ID.count().ge(1))
        .order_by(Task::HOURS.sum().desc())
        .all(db)
        .await
        .unwrap();
    assert_eq!(per_owner.len(), 3);
    assert_eq!(per_owner[0].2, Some(11), "Dee's 11 hours first");
    assert_eq!(per_owner[1], (ada, 3, Some(10)));
    assert_eq!(per_owner[2], (bob, 1, Some(7)));
    let busy: Vec<i64> = Task::find()
        .select(Task::OWNER_ID)
        .group_by(Task::OWNER_ID)
        .having(Task::ID.count().gt(1))
        .all(db)
        .await
        .unwrap();
    assert_eq!(busy, [ada]);
    assert_eq!(
        Task::find()
            .select(Task::OWNER_ID.count_distinct())
            .one(db)
            .await
            .unwrap(),
        3
    );

    // a sum past the column's own range: widened, not wrapped
    let mut big = task(bob, "big", i32::MAX, i64::MAX, "0", false);
    big.save(db).await.unwrap();
    let mut big2 = task(bob, "big2", i32::MAX, 1, "0", false);
    big2.save(db).await.unwrap();
    let wide: Option<i64> = Task::find()
        .filter(Task::TITLE.like("big%"))
        .select(Task::HOURS.sum())
        .one(db)
        .await
        .unwrap();
    assert_eq!(wide, Some(2 * i64::from(i32::MAX)));
    let points: Result<Option<Decimal>, _> = Task::find()
        .filter(Task::TITLE.like("big%"))
        .select(Task::POINTS.sum())
        .one(db)
        .await;
    if db.dialect() == dal::Dialect::Sqlite {
        // SQLite sums integers in 64 bits and says so rather than wrap
        assert!(points.is_err(), "{points:?}");
    } else {
        assert_eq!(
            points.unwrap(),
            Some(Decimal::from(i64::MAX) + Decimal::ONE)
        );
    }
    Task::find()
        .filter(Task::TITLE.like("big%"))
        .delete_many_permanently(db)
        .await
        .unwrap();

    // FromRow structs by name, through a left join
    let rows: Vec<Workload> = User::find()
        .left_join(User::TASKS)
        .select((
            User::NAME,
            Task::ID.count().alias("tasks"),
            Task::HOURS.sum().alias("hours"),
            Task::HOURS.avg().alias("avg_hours"),
        ))
        .group_by((User::ID, User::NAME))
        .order_by(User::NAME.asc())
        .all_as(db)
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            Workload {
                name: "Ada".into(),
                tasks: 3,
                hours: Some(10),
                avg_hours: Some(10.0 / 3.0)
            },
            Workload {
                name: "Bob".into(),
                tasks: 1,
                hours: Some(7),
                avg_hours: Some(7.0)
            },
            Workload {
                name: "Cy".into(),
                tasks: 0,
                hours: None,
                avg_hours: None
            },
        ]
    );
    // a struct field without a matching value: a decode error naming it
    #[derive(FromRow, Debug)]
    #[allow(dead_code)]
    struct Wrong {
        nope: i64,
    }
    let wrong = User::find().select(User::ID).all_as::<Wrong>(db).await;
    assert!(
        matches!(&wrong, Err(e) if e.to_string().contains("nope")),
        "{wrong:?}"
    );
}

/// Joins along each kind of relation: inner (only matches), left (every
/// row, the joined columns `None`), soft-deleted rows of the joined entity
/// left out, many-to-many through the join entity, filters and order on
/// joined columns, explicit typed join conditions, and a table joined twice
/// refused with an error.
pub async fn sel_joins(t: &TestDb) {
    let db = &t.db;
    let [ada, bob, cy, _dee] = seed(db).await;

    // belongs-to: each task with its owner; Dee is soft-deleted, so her task
    // has no (live) owner to join
    let rows: Vec<(String, String)> = Task::find()
        .join(Task::OWNER)
        .filter(User::CITY.eq("Paris"))
        .order_by(Task::TITLE.asc())
        .select((Task::TITLE, User::NAME))
        .all(db)
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            ("read".to_string(), "Ada".to_string()),
            ("review".into(), "Ada".into()),
            ("write".into(), "Ada".into())
        ]
    );

    // has-many, left: Cy has no task and still appears, with None
    let rows: Vec<(String, Option<String>)> = User::find()
        .left_join(User::TASKS)
        .order_by(User::NAME.asc())
        .order_by(Task::TITLE.asc())
        .select((User::NAME, Task::TITLE))
        .all(db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[4], ("Cy".into(), None));
    assert_eq!(
        User::find().left_join(User::TASKS).count(db).await.unwrap(),
        5
    );
    assert_eq!(
        User::find()
            .left_join(User::TASKS)
            .limit(2)
            .offset(4)
            .count(db)
            .await
            .unwrap(),
        1
    );
    // inner: Cy is gone
    let inner: Vec<(String, String)> = User::find()
        .join(User::TASKS)
        .select((User::NAME, Task::TITLE))
        .all(db)
        .await
        .unwrap();
    assert_eq!(inner.len(), 4);
    assert!(inner.iter().all(|(n, _)| n != "Cy"));

    // a soft-deleted child does not join
    let mut gone = Task::find()
        .filter(Task::TITLE.eq("fix"))
        .one(db)
        .await
        .unwrap();
    gone.delete(db).await.unwrap();
    let bobs: Vec<Option<String>> = User::find()
        .filter(User::ID.eq(bob))
        .left_join(User::TASKS)
        .select(Task::TITLE)
        .all(db)
        .await
        .unwrap();
    assert_eq!(bobs, [None]);

    // many-to-many through the join entity (a soft-deleted link links nothing)
    let mut gold = Badge {
        id: 0,
        label: "gold".into(),
    };
    gold.save(db).await.unwrap();
    let mut new = Badge {
        id: 0,
        label: "new".into(),
    };
    new.save(db).await.unwrap();
    for (user, badge) in [(ada, gold.id), (ada, new.id), (cy, new.id), (bob, gold.id)] {
        UserBadge {
            id: 0,
            user_id: user,
            badge_id: badge,
        }
        .save(db)
        .await
        .unwrap();
    }
    let mut unlinked = UserBadge::find()
        .filter(UserBadge::USER_ID.eq(bob))
        .one(db)
        .await
        .unwrap();
    unlinked.delete(db).await.unwrap();
    let rows: Vec<(String, String)> = User::find()
        .join(User::BADGES)
        .order_by(User::NAME.asc())
        .order_by(Badge::LABEL.asc())
        .select((User::NAME, Badge::LABEL))
        .all(db)
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            ("Ada".to_string(), "gold".to_string()),
            ("Ada".into(), "new".into()),
            ("Cy".into(), "new".into())
        ]
    );
    let per_badge: Vec<(String, i64)> = Badge::find()
        .left_join_on(UserBadge::BADGE_ID.eq_col(Badge::ID))
        .select((Badge::LABEL, UserBadge::ID.count()))
        .group_by(Badge::LABEL)
        .order_by(Badge::LABEL.asc())
        .all(db)
        .await
        .unwrap();
    assert_eq!(per_badge, [("gold".to_string(), 1), ("new".into(), 2)]);

    // explicit join on typed columns, with a condition on the joined entity
    let rows: Vec<(String, String)> = User::find()
        .join_on(Task::OWNER_ID.eq_col(User::ID).and(Task::DONE.eq(false)))
        .order_by(Task::TITLE.asc())
        .select((User::NAME, Task::TITLE))
        .all(db)
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            ("Ada".to_string(), "review".to_string()),
            ("Ada".into(), "write".into())
        ]
    );

    // two joins: tasks -> owner -> badges
    let rows: Vec<(String, String)> = Task::find()
        .join(Task::OWNER)
        .join(User::BADGES)
        .filter(Badge::LABEL.eq("gold"))
        .order_by(Task::TITLE.asc())
        .select((Task::TITLE, Badge::LABEL))
        .all(db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");

    // a table joined twice: a clear error, nothing run (an entity joined
    // to itself does not even compile: its columns would be ambiguous)
    let twice = Task::find()
        .join(Task::OWNER)
        .join(Task::OWNER)
        .select(Task::TITLE)
        .all(db)
        .await;
    assert!(
        matches!(&twice, Err(Error::InvalidInput { .. }) if twice.as_ref().unwrap_err().to_string().contains("twice")),
        "{twice:?}"
    );
}

/// Relation aggregates (correlated subqueries) to select and to filter
/// on; IN and NOT IN a subquery; EXISTS; a scalar subquery beside columns.
pub async fn sel_subqueries(t: &TestDb) {
    let db = &t.db;
    let [ada, bob, cy, _dee] = seed(db).await;

    let counts: Vec<(String, i64, Option<i64>)> = User::find()
        .order_by(User::NAME.asc())
        .select((
            User::NAME,
            User::TASKS.count(),
            User::TASKS.aggregate(Task::HOURS.sum()),
        ))
        .all(db)
        .await
        .unwrap();
    assert_eq!(
        counts,
        [
            ("Ada".to_string(), 3, Some(10)),
            ("Bob".into(), 1, Some(7)),
            ("Cy".into(), 0, None)
        ]
    );
    // as a filter
    let busy: Vec<i64> = User::find()
        .filter(User::TASKS.count().ge(2))
        .select(User::ID)
        .all(db)
        .await
        .unwrap();
    assert_eq!(busy, [ada]);

    // IN / NOT IN a subquery
    let with_open: Vec<String> = User::find()
        .filter(
            User::ID.in_subquery(
                Task::find()
                    .filter(Task::DONE.eq(false))
                    .select(Task::OWNER_ID),
            ),
        )
        .order_by(User::NAME.asc())
        .select(User::NAME)
        .all(db)
        .await
        .unwrap();
    assert_eq!(with_open, ["Ada", "Bob"]);
    let idle: Vec<i64> = User::find()
        .filter(User::ID.not_in_subquery(Task::find().select(Task::OWNER_ID)))
        .select(User::ID)
        .all(db)
        .await
        .unwrap();
    assert_eq!(idle, [cy]);
    // an empty subquery matches nothing
    let none: Vec<i64> = User::find()
        .filter(
            User::ID.in_subquery(
                Task::find()
                    .filter(Task::HOURS.gt(999))
                    .select(Task::OWNER_ID),
            ),
        )
        .select(User::ID)
        .all(db)
        .await
        .unwrap();
    assert!(none.is_empty());

    // EXISTS (uncorrelated)
    let all = User::find()
        .filter(
            Task::find()
                .filter(Task::HOURS.gt(6))
                .select(Task::ID)
                .exists(),
        )
        .count(db)
        .await
        .unwrap();
    assert_eq!(all, 3);
    let nobody = User::find()
        .filter(
            Task::find()
                .filter(Task::HOURS.gt(600))
                .select(Task::ID)
                .exists(),
        )
        .count(db)
        .await
        .unwrap();
    assert_eq!(nobody, 0);

    // a scalar subquery beside columns
    let rows: Vec<(String, Option<i32>)> = User::find()
        .filter(User::ID.in_list([ada, bob]))
        .order_by(User::NAME.asc())
        .select((User::NAME, Task::find().select(Task::HOURS.max()).scalar()))
        .all(db)
        .await
        .unwrap();
    assert_eq!(
        rows,
        [("Ada".to_string(), Some(11)), ("Bob".into(), Some(11))]
    );

    // a relation of an entity to itself, nested in itself
    Node::ensure_schema(db).await.unwrap();
    let mut root = Node {
        id: 0,
        parent_id: None,
        name: "root".into(),
    };
    root.save(db).await.unwrap();
    let mut mid = Node {
        id: 0,
        parent_id: Some(root.id),
        name: "mid".into(),
    };
    mid.save(db).await.unwrap();
    let mut leaf = Node {
        id: 0,
        parent_id: Some(mid.id),
        name: "leaf".into(),
    };
    leaf.save(db).await.unwrap();
    let grandparents: Vec<String> = Node::find()
        .filter(Node::CHILDREN.any(Node::CHILDREN.any(Node::NAME.eq("leaf"))))
        .select(Node::NAME)
        .all(db)
        .await
        .unwrap();
    assert_eq!(grandparents, ["root"]);
    let parents: Vec<String> = Node::find()
        .filter(Node::CHILDREN.any(Node::NAME.eq("leaf")))
        .select(Node::NAME)
        .all(db)
        .await
        .unwrap();
    assert_eq!(parents, ["mid"]);
    let kids: Vec<(String, i64)> = Node::find()
        .order_by(Node::NAME.asc())
        .select((Node::NAME, Node::CHILDREN.count()))
        .all(db)
        .await
        .unwrap();
    assert_eq!(
        kids,
        [
            ("leaf".to_string(), 0),
            ("mid".into(), 1),
            ("root".into(), 1)
        ]
    );
}

/// Projections in a transaction see its writes; as of an instant they read
/// the history; a query as of an instant on an entity without history, and
/// update_many with a subquery condition, behave.
pub async fn sel_transactions_and_time_travel(t: &TestDb) {
    let db = &t.db;
    let [ada, ..] = seed(db).await;
    let mut tx = db.begin().await.unwrap();
    let mut extra = task(ada, "extra", 1, 1, "0", false);
    extra.save(&mut tx).await.unwrap();
    let n: i64 = Task::find()
        .filter(Task::OWNER_ID.eq(ada))
        .select(Task::ID.count())
        .one(&mut tx)
        .await
        .unwrap();
    assert_eq!(n, 4);
    tx.rollback().await.unwrap();
    let n: i64 = Task::find()
        .filter(Task::OWNER_ID.eq(ada))
        .select(Task::ID.count())
        .one(db)
        .await
        .unwrap();
    assert_eq!(n, 3);

    // as of an instant (history tables; SQLite stamps milliseconds)
    let write = Task::find()
        .filter(Task::TITLE.eq("write"))
        .one(db)
        .await
        .unwrap();
    let then = Task::history(db, write.id).await.unwrap()[0].at;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    Task::find()
        .filter(Task::OWNER_ID.eq(ada))
        .update_many(db, vec![Task::HOURS.set(100)])
        .await
        .unwrap();
    let now: Option<i64> = Task::find()
        .filter(Task::OWNER_ID.eq(ada))
        .select(Task::HOURS.sum())
        .one(db)
        .await
        .unwrap();
    assert_eq!(now, Some(300));
    let past: Option<i64> = Task::find()
        .filter(Task::OWNER_ID.eq(ada))
        .as_of(then)
        .select(Task::HOURS.sum())
        .one(db)
        .await
        .unwrap();
    assert!(past.unwrap() < 300, "{past:?}");
    let no_history = User::find().as_of(then).select(User::NAME).all(db).await;
    assert!(
        matches!(no_history, Err(Error::InvalidInput { .. })),
        "{no_history:?}"
    );

    // update_many through a subquery on another table
    let changed = Task::find()
        .filter(
            Task::OWNER_ID.in_subquery(User::find().filter(User::NAME.eq("Bob")).select(User::ID)),
        )
        .update_many(db, vec![Task::DONE.set(true)])
        .await
        .unwrap();
    assert_eq!(changed, 1);
}

macro_rules! select_tests {
    ($setup:path) => {
        backend_tests!($setup;
            select::sel_projections,
            select::sel_aggregates,
            select::sel_joins,
            select::sel_subqueries,
            select::sel_transactions_and_time_travel,
        );
    };
}
