//! Relations on every backend: the foreign keys and indexes they put in the
//! schema, eager loading (one query per level, filtered, ordered, nested,
//! soft deletes), lazy and batch loading, the N+1 detector, saving a parent
//! with its children in one transaction, transactions, uuid and string keys,
//! a self-referencing tree, and IN-lists crossing the dialect's bind limit.

use std::io::Write;
use std::sync::{Arc, Mutex};

use dal::{ConstraintKind, DatabaseConfig, Db, Entity, Error, ReferentialAction};
use uuid::Uuid;

use crate::support::TestDb;

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(
    table = "r_users",
    soft_delete,
    has_many(tasks = Task::OWNER),
    has_many(reviews = Task::REVIEWER),
    has_one(profile = Profile::USER)
)]
pub struct User {
    #[dal(id)]
    pub id: i64,
    pub name: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(
    table = "r_tasks",
    soft_delete,
    many_to_many(tags = Tag, through = TaskTag::TAG, from = TaskTag::TASK)
)]
pub struct Task {
    #[dal(id)]
    pub id: i64,
    #[dal(belongs_to = User, on_delete = "cascade")]
    pub owner_id: i64,
    #[dal(belongs_to = User, relation = "reviewer", on_delete = "set_null")]
    pub reviewer_id: Option<i64>,
    #[dal(unique, length = 40)]
    pub code: String,
    pub title: String,
    pub done: bool,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "r_profiles")]
pub struct Profile {
    #[dal(id)]
    pub id: i64,
    #[dal(belongs_to = User, on_delete = "cascade")]
    pub user_id: i64,
    pub bio: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "r_tags", many_to_many(tasks = Task, through = TaskTag::TASK, from = TaskTag::TAG))]
pub struct Tag {
    #[dal(id)]
    pub id: i64,
    pub label: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "r_task_tags", soft_delete)]
pub struct TaskTag {
    #[dal(id)]
    pub id: i64,
    #[dal(belongs_to = Task, on_delete = "cascade")]
    pub task_id: i64,
    #[dal(belongs_to = Tag, on_delete = "cascade")]
    pub tag_id: i64,
}

/// uuid keys, an optional foreign key.
#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "r_teams", has_many(members = Member::TEAM))]
pub struct Team {
    #[dal(id)]
    pub id: Uuid,
    pub name: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "r_members")]
pub struct Member {
    #[dal(id)]
    pub id: Uuid,
    #[dal(belongs_to = Team, on_delete = "set_null")]
    pub team_id: Option<Uuid>,
    pub name: String,
}

/// String keys.
#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "r_countries", has_many(cities = City::COUNTRY))]
pub struct Country {
    #[dal(id, length = 2)]
    pub code: String,
    pub name: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "r_cities")]
pub struct City {
    #[dal(id)]
    pub id: i64,
    #[dal(belongs_to = Country, length = 2)]
    pub country_id: String,
    pub name: String,
}

/// A tree: a belongs-to on its own entity.
#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "r_categories", has_many(children = Category::PARENT))]
pub struct Category {
    #[dal(id)]
    pub id: i64,
    #[dal(belongs_to = Category, on_delete = "cascade")]
    pub parent_id: Option<i64>,
    pub name: String,
}

fn user(name: &str) -> User {
    User {
        id: 0,
        name: name.into(),
    }
}

fn task(code: &str, title: &str, done: bool) -> Task {
    Task {
        id: 0,
        owner_id: 0,
        reviewer_id: None,
        code: code.into(),
        title: title.into(),
        done,
    }
}

fn tag(label: &str) -> Tag {
    Tag {
        id: 0,
        label: label.into(),
    }
}

fn link() -> TaskTag {
    TaskTag {
        id: 0,
        task_id: 0,
        tag_id: 0,
    }
}

async fn schema(db: &Db) {
    User::ensure_schema(db).await.unwrap();
    Task::ensure_schema(db).await.unwrap();
    Profile::ensure_schema(db).await.unwrap();
    Tag::ensure_schema(db).await.unwrap();
    TaskTag::ensure_schema(db).await.unwrap();
}

/// Statements sent so far (what "one query per level" is measured with).
fn statements(db: &Db) -> u64 {
    db.stats().statements
}

/// Three users: ada (tasks a1..a3, a2 done), bob (b1), cy (none); tags on a1
/// and b1.
struct World {
    ada: User,
    bob: User,
    cy: User,
    ada_tasks: Vec<Task>,
    bob_tasks: Vec<Task>,
    urgent: Tag,
    home: Tag,
}

async fn world(db: &Db) -> World {
    schema(db).await;
    let mut ada = user("ada");
    let mut ada_tasks = vec![
        task("a1", "write", false),
        task("a2", "review", true),
        task("a3", "ship", false),
    ];
    User::TASKS
        .save(&mut ada, &mut ada_tasks, db)
        .await
        .unwrap();
    let mut bob = user("bob");
    let mut bob_tasks = vec![task("b1", "cook", false)];
    User::TASKS
        .save(&mut bob, &mut bob_tasks, db)
        .await
        .unwrap();
    let mut cy = user("cy");
    cy.save(db).await.unwrap();
    let mut urgent = tag("urgent");
    let mut home = tag("home");
    urgent.save(db).await.unwrap();
    home.save(db).await.unwrap();
    for (t, g) in [
        (&ada_tasks[0], &urgent),
        (&ada_tasks[0], &home),
        (&bob_tasks[0], &home),
    ] {
        Task::TAGS.link(t, g, &mut link(), db).await.unwrap();
    }
    World {
        ada,
        bob,
        cy,
        ada_tasks,
        bob_tasks,
        urgent,
        home,
    }
}

fn titles<'a>(rows: impl IntoIterator<Item = &'a Task>) -> Vec<&'a str> {
    rows.into_iter().map(|t| t.title.as_str()).collect()
}

// ------------------------------------------------------------------ schema

/// Each belongs-to puts a foreign key (with its on-delete action) and an index
/// on its column into the blueprint; `ensure_schema` creates both, a second
/// run finds nothing to change, and the live table matches the blueprint.
/// The database enforces the key: a task pointing at no user is refused, and
/// deleting a user (with plain SQL) cascades to its tasks and sets its
/// reviews' reviewer to NULL.
pub async fn rel_foreign_keys_and_indexes_in_the_schema(t: &TestDb) {
    let db = &t.db;
    // autogenerate writes the keys and indexes into a migration
    let blueprints = dal::autogen::Blueprints::new()
        .entity::<User>()
        .entity::<Task>()
        .entity::<Tag>()
        .entity::<TaskTag>();
    let g = dal::autogen::generate(
        db,
        blueprints.clone(),
        "m20260101_000000_relations",
        dal::autogen::GenerateOptions::default(),
    )
    .await
    .unwrap();
    let tasks = g
        .source
        .split("create r_tasks")
        .nth(1)
        .expect("creates r_tasks");
    let tasks = &tasks[..tasks.find('}').unwrap()];
    assert!(
        tasks.contains(".references(r_users") && tasks.contains(".on_delete(cascade)"),
        "{}",
        g.source
    );
    assert!(tasks.contains(".on_delete(set_null)"), "{}", g.source);
    assert!(tasks.contains("index(owner_id);"), "{}", g.source);
    assert!(g.source.contains("owner_id"), "{}", g.source);
    schema(db).await;
    let g = dal::autogen::generate(
        db,
        blueprints,
        "m20260101_000001_nothing",
        dal::autogen::GenerateOptions::default(),
    )
    .await
    .unwrap();
    assert!(g.is_empty(), "{}", g.source);
    Category::ensure_schema(db).await.unwrap();
    for report in [
        Task::ensure_schema(db).await.unwrap(),
        TaskTag::ensure_schema(db).await.unwrap(),
        Category::ensure_schema(db).await.unwrap(),
    ] {
        assert!(report.is_unchanged(), "{report:?}");
    }

    let blueprint = Task::blueprint();
    let fk = |table: &dal::Table, col: &str| {
        table
            .foreign_keys
            .iter()
            .find(|f| f.columns == [col])
            .unwrap_or_else(|| panic!("no foreign key on {col}: {:?}", table.foreign_keys))
            .clone()
    };
    let owner = fk(&blueprint, "owner_id");
    assert_eq!(owner.references_table, "r_users");
    assert_eq!(owner.references_columns, ["id"]);
    assert_eq!(owner.on_delete, ReferentialAction::Cascade);
    assert_eq!(
        fk(&blueprint, "reviewer_id").on_delete,
        ReferentialAction::SetNull
    );

    for (entity, table, columns) in [
        (
            Task::blueprint(),
            "r_tasks",
            vec!["owner_id", "reviewer_id"],
        ),
        (
            TaskTag::blueprint(),
            "r_task_tags",
            vec!["task_id", "tag_id"],
        ),
        (Category::blueprint(), "r_categories", vec!["parent_id"]),
    ] {
        let live = db.introspect_table(table).await.unwrap().unwrap();
        for c in &columns {
            let live_fk = fk(&live, c);
            assert_eq!(live_fk.references_columns, ["id"], "{table}.{c}");
            assert_eq!(live_fk.on_delete, fk(&entity, c).on_delete, "{table}.{c}");
            assert!(
                live.indexes
                    .iter()
                    .any(|i| i.columns.first().map(String::as_str) == Some(*c)),
                "{table}.{c} has no index: {:?}",
                live.indexes
            );
        }
        let diff = dal::schema::diff_tables(&entity, &live, db.dialect());
        assert!(diff.is_empty(), "{table}: {diff:?}");
    }

    // the database holds the key
    let mut orphan = task("o1", "orphan", false);
    orphan.owner_id = 424_242;
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
    assert_eq!(orphan.id, 0, "a refused insert keeps no id");

    let mut ada = user("ada");
    let mut tasks = vec![task("a1", "write", false)];
    User::TASKS.save(&mut ada, &mut tasks, db).await.unwrap();
    let mut bob = user("bob");
    bob.save(db).await.unwrap();
    let mut reviewed = task("b1", "cook", false);
    reviewed.owner_id = ada.id;
    reviewed.reviewer_id = Some(bob.id);
    reviewed.save(db).await.unwrap();
    db.execute("DELETE FROM [r_users] WHERE [id] = ?", (bob.id,))
        .await
        .unwrap();
    let again = Task::get(db, reviewed.id).await.unwrap().unwrap();
    assert_eq!(again.reviewer_id, None, "set_null");
    db.execute("DELETE FROM [r_users] WHERE [id] = ?", (ada.id,))
        .await
        .unwrap();
    assert_eq!(
        Task::find().include_deleted().count(db).await.unwrap(),
        0,
        "cascade"
    );
}

// ------------------------------------------------------------------ eager

/// `find().with(..)` runs the query, then one query per relation and level,
/// whatever the number of parents: users with their tasks and each task's
/// tags in three statements. Rows come back in the query's order with their
/// children in id order; a parent without children has an empty slice; a
/// relation the query did not load is a clear error.
pub async fn rel_eager_one_query_per_level(t: &TestDb) {
    let db = &t.db;
    let w = world(db).await;

    let before = statements(db);
    let users = User::find()
        .order_by(User::NAME.asc())
        .with(User::TASKS.with(Task::TAGS))
        .all(db)
        .await
        .unwrap();
    // the users, their tasks, the join rows of the tasks' tags, the tags
    assert_eq!(statements(db) - before, 4);
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["ada", "bob", "cy"]);
    let ada = &users[0];
    assert_eq!(ada.id, w.ada.id);
    let tasks = ada.related(User::TASKS).unwrap();
    assert_eq!(
        titles(tasks.iter().map(|t| &**t)),
        ["write", "review", "ship"]
    );
    let labels: Vec<&str> = tasks[0]
        .related(Task::TAGS)
        .unwrap()
        .iter()
        .map(|g| g.label.as_str())
        .collect();
    assert_eq!(labels, ["urgent", "home"]);
    assert!(tasks[1].related(Task::TAGS).unwrap().is_empty());
    assert_eq!(
        titles(users[1].related(User::TASKS).unwrap().iter().map(|t| &**t)),
        ["cook"]
    );
    assert!(users[2].related(User::TASKS).unwrap().is_empty());

    // not loaded: an error naming the relation, not a panic or an empty list
    let err = ada.related(User::PROFILE).unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(err.to_string().contains("profile"), "{err}");
    assert!(ada.is_loaded(User::TASKS));
    assert!(!ada.is_loaded(User::PROFILE));

    // belongs-to, has-one and several relations side by side
    let mut profile = Profile {
        id: 0,
        user_id: 0,
        bio: "mathematician".into(),
    };
    let mut ada_row = w.ada.clone();
    User::PROFILE
        .save(&mut ada_row, &mut profile, db)
        .await
        .unwrap();
    let before = statements(db);
    let rows = Task::find()
        .with(Task::OWNER.with(User::PROFILE))
        .with(Task::REVIEWER)
        .all(db)
        .await
        .unwrap();
    // tasks, owners, owners' profiles; no task has a reviewer: no query
    assert_eq!(statements(db) - before, 3);
    assert_eq!(rows.len(), 4);
    for r in &rows {
        let owner = r
            .related(Task::OWNER)
            .unwrap()
            .expect("every task has an owner");
        assert_eq!(owner.id, r.owner_id);
        assert_eq!(r.related(Task::REVIEWER).unwrap().map(|u| u.id), None);
        let p = owner.related(User::PROFILE).unwrap();
        if owner.id == w.ada.id {
            assert_eq!(p.unwrap().bio, "mathematician");
        } else {
            assert!(p.is_none());
        }
    }

    // one and optional
    let one = User::find()
        .filter(User::ID.eq(w.bob.id))
        .with(User::TASKS)
        .one(db)
        .await
        .unwrap();
    assert_eq!(one.related(User::TASKS).unwrap().len(), 1);
    let none = User::find()
        .filter(User::ID.eq(-1))
        .with(User::TASKS)
        .optional(db)
        .await
        .unwrap();
    assert!(none.is_none());
    let err = User::find()
        .filter(User::ID.eq(-1))
        .with(User::TASKS)
        .one(db)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let _ = (&w.cy, &w.bob_tasks, &w.urgent, &w.home, &w.ada_tasks);
}

/// Children are filtered and ordered per parent; soft-deleted children (and
/// soft-deleted join rows of a many-to-many) are left out unless the
/// relation says `include_deleted`; a soft-deleted parent of a belongs-to is
/// `None` unless asked for.
pub async fn rel_eager_filter_order_and_soft_deletes(t: &TestDb) {
    let db = &t.db;
    let w = world(db).await;

    let users = User::find()
        .filter(User::ID.eq(w.ada.id))
        .with(
            User::TASKS
                .filter(Task::DONE.eq(false))
                .order_by(Task::TITLE.desc()),
        )
        .all(db)
        .await
        .unwrap();
    assert_eq!(
        titles(users[0].related(User::TASKS).unwrap().iter().map(|t| &**t)),
        ["write", "ship"]
    );

    // soft-delete "ship": gone from eager, lazy and batch loads unless asked for
    let mut ship = w.ada_tasks[2].clone();
    ship.delete(db).await.unwrap();
    let load = |include: bool| {
        let rel = if include {
            User::TASKS.include_deleted()
        } else {
            User::TASKS.order_by(Task::ID.asc())
        };
        User::find().filter(User::ID.eq(w.ada.id)).with(rel).one(db)
    };
    let alive = load(false).await.unwrap();
    assert_eq!(
        titles(alive.related(User::TASKS).unwrap().iter().map(|t| &**t)),
        ["write", "review"]
    );
    let all = load(true).await.unwrap();
    assert_eq!(
        titles(all.related(User::TASKS).unwrap().iter().map(|t| &**t)),
        ["write", "review", "ship"]
    );
    assert_eq!(w.ada.tasks().count(db).await.unwrap(), 2);
    assert_eq!(
        User::TASKS
            .load_for(std::slice::from_ref(&w.ada), db)
            .await
            .unwrap()[0]
            .len(),
        2
    );

    // a soft-deleted join row no longer links
    let mut links = TaskTag::find()
        .filter(TaskTag::TASK_ID.eq(w.ada_tasks[0].id))
        .filter(TaskTag::TAG_ID.eq(w.urgent.id))
        .all(db)
        .await
        .unwrap();
    links[0].delete(db).await.unwrap();
    let labels = |rows: &[dal::Loaded<Tag>]| -> Vec<String> {
        rows.iter().map(|g| g.label.clone()).collect()
    };
    let a1 = Task::find()
        .filter(Task::ID.eq(w.ada_tasks[0].id))
        .with(Task::TAGS)
        .one(db)
        .await
        .unwrap();
    assert_eq!(labels(a1.related(Task::TAGS).unwrap()), ["home"]);
    let lazy: Vec<String> = w.ada_tasks[0]
        .tags()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.label)
        .collect();
    assert_eq!(lazy, ["home"]);

    // a soft-deleted parent
    let mut bob = w.bob.clone();
    bob.delete(db).await.unwrap();
    let b1 = Task::find()
        .filter(Task::ID.eq(w.bob_tasks[0].id))
        .with(Task::OWNER)
        .one(db)
        .await
        .unwrap();
    assert!(b1.related(Task::OWNER).unwrap().is_none());
    assert_eq!(w.bob_tasks[0].owner(db).await.unwrap(), None);
    let b1 = Task::find()
        .filter(Task::ID.eq(w.bob_tasks[0].id))
        .with(Task::OWNER.include_deleted())
        .one(db)
        .await
        .unwrap();
    assert_eq!(b1.related(Task::OWNER).unwrap().unwrap().name, "bob");
}

/// A many-to-many from both sides: eager (with filter and order), lazy and
/// batch agree, each linked row appears once per row even when linked twice,
/// and rows linked to several parents are shared, not loaded twice.
pub async fn rel_many_to_many_both_ways(t: &TestDb) {
    let db = &t.db;
    let w = world(db).await;
    // a duplicate link
    Task::TAGS
        .link(&w.ada_tasks[0], &w.urgent, &mut link(), db)
        .await
        .unwrap();

    let tags = Tag::find()
        .order_by(Tag::LABEL.asc())
        .with(Tag::TASKS.order_by(Task::TITLE.asc()))
        .all(db)
        .await
        .unwrap();
    let got: Vec<(String, Vec<&str>)> = tags
        .iter()
        .map(|g| {
            (
                g.label.clone(),
                titles(g.related(Tag::TASKS).unwrap().iter().map(|t| &**t)),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("home".to_string(), vec!["cook", "write"]),
            ("urgent".to_string(), vec!["write"])
        ]
    );

    let urgent_only = Task::find()
        .order_by(Task::ID.asc())
        .with(Task::TAGS.filter(Tag::LABEL.eq("urgent")))
        .all(db)
        .await
        .unwrap();
    let counts: Vec<usize> = urgent_only
        .iter()
        .map(|t| t.related(Task::TAGS).unwrap().len())
        .collect();
    assert_eq!(counts, [1, 0, 0, 0]);

    let lazy = w.ada_tasks[0].tags().all(db).await.unwrap();
    assert_eq!(
        lazy,
        vec![w.urgent.clone(), w.home.clone()],
        "once each, id order"
    );
    assert_eq!(w.ada_tasks[0].tags().count(db).await.unwrap(), 2);
    let batch = Task::TAGS
        .load_for(
            &[
                w.bob_tasks[0].clone(),
                w.ada_tasks[0].clone(),
                w.ada_tasks[1].clone(),
                w.bob_tasks[0].clone(),
            ],
            db,
        )
        .await
        .unwrap();
    assert_eq!(batch[0], vec![w.home.clone()]);
    assert_eq!(batch[1], vec![w.urgent.clone(), w.home.clone()]);
    assert!(batch[2].is_empty());
    assert_eq!(batch[3], vec![w.home.clone()]);
}

// ------------------------------------------------------------------ lazy

/// Lazy loads: `task.owner(&db)`, `user.tasks().filter(..)` refined like any
/// query, `profile()`, an unset optional key loads nothing (and runs no
/// query); the batch forms load one relation for a whole `Vec` in one query,
/// aligned with the input (duplicates and parents without rows included).
pub async fn rel_lazy_and_batch_loads(t: &TestDb) {
    let db = &t.db;
    let w = world(db).await;

    let owner = w.ada_tasks[1].owner(db).await.unwrap().unwrap();
    assert_eq!(owner, w.ada);
    let before = statements(db);
    assert_eq!(w.ada_tasks[1].reviewer(db).await.unwrap(), None);
    assert_eq!(statements(db), before, "no key, no query");

    let open = w
        .ada
        .tasks()
        .filter(Task::DONE.eq(false))
        .all(db)
        .await
        .unwrap();
    assert_eq!(titles(&open), ["write", "ship"], "id order by default");
    let last = w
        .ada
        .tasks()
        .order_by(Task::TITLE.desc())
        .limit(1)
        .one(db)
        .await
        .unwrap();
    assert_eq!(last.title, "write");
    assert_eq!(w.ada.tasks().count(db).await.unwrap(), 3);
    assert_eq!(w.cy.tasks().all(db).await.unwrap(), vec![]);
    assert_eq!(w.ada.profile(db).await.unwrap(), None);

    let before = statements(db);
    let per_user = User::TASKS
        .load_for(
            &[w.bob.clone(), w.cy.clone(), w.ada.clone(), w.bob.clone()],
            db,
        )
        .await
        .unwrap();
    assert_eq!(statements(db) - before, 1);
    assert_eq!(per_user[0], w.bob_tasks);
    assert!(per_user[1].is_empty());
    assert_eq!(per_user[2], w.ada_tasks);
    assert_eq!(
        per_user[3], w.bob_tasks,
        "a parent listed twice gets its rows twice"
    );

    let mut reviewed = w.bob_tasks[0].clone();
    reviewed.reviewer_id = Some(w.cy.id);
    reviewed.save(db).await.unwrap();
    let all: Vec<Task> = [w.ada_tasks.clone(), vec![reviewed.clone()]].concat();
    let before = statements(db);
    let owners = Task::OWNER.load_for(&all, db).await.unwrap();
    let reviewers = Task::REVIEWER.load_for(&all, db).await.unwrap();
    assert_eq!(statements(db) - before, 2);
    let names: Vec<&str> = owners
        .iter()
        .map(|o| o.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(names, ["ada", "ada", "ada", "bob"]);
    assert_eq!(reviewers[..3], [None, None, None]);
    assert_eq!(reviewers[3].as_ref().unwrap().name, "cy");

    let profiles = User::PROFILE
        .load_for(std::slice::from_ref(&w.ada), db)
        .await
        .unwrap();
    assert_eq!(profiles, vec![None]);

    // the handles know their relations
    assert_eq!(Task::OWNER.name(), "owner");
    assert_eq!(Task::OWNER.column(), "owner_id");
    assert_eq!(Task::REVIEWER.name(), "reviewer");
    assert_eq!(User::TASKS.inverse().column(), "owner_id");
    assert_eq!(Task::OWNER.key_of(&w.ada_tasks[0]), Some(w.ada.id));
    assert_eq!(Task::REVIEWER.key_of(&w.ada_tasks[0]), None);
}

// ------------------------------------------------------------------ N+1

/// A `Write` that keeps what the log formatter writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

async fn reopen(t: &TestDb, threshold: Option<usize>) -> Db {
    let mut b = DatabaseConfig::builder(&t.url).max_connections(2);
    if let Some(n) = threshold {
        b = b.n_plus_one_threshold(n);
    }
    Db::connect(b.build().unwrap()).await.unwrap()
}

/// The N+1 detector: the same relation loaded lazily from one call site for
/// three different parents within a second logs one `dal::n_plus_one`
/// warning naming the relation, the count and the call site, and counts it
/// once per burst. No false positives: the same parent loaded again and
/// again, two parents, eager and batch loads, or loads from different call
/// sites stay quiet; threshold 0 turns it off.
pub async fn rel_n_plus_one_detector(t: &TestDb) {
    let setup = &t.db;
    let w = world(setup).await;
    let db = reopen(t, Some(3)).await;
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // quiet: the same parent many times, eager, batch
    for _ in 0..5 {
        w.ada_tasks[0].owner(&db).await.unwrap();
    }
    for _ in 0..3 {
        User::find().with(User::TASKS).all(&db).await.unwrap();
        User::TASKS
            .load_for(&[w.ada.clone(), w.bob.clone(), w.cy.clone()], &db)
            .await
            .unwrap();
    }
    // two parents from one site, two more from another: below the threshold
    for u in [&w.ada, &w.bob] {
        u.tasks().all(&db).await.unwrap();
    }
    for u in [&w.bob, &w.cy] {
        u.tasks().count(&db).await.unwrap();
    }
    assert_eq!(db.stats().n_plus_one, 0, "{}", log.text());
    assert!(!log.text().contains("N+1"), "{}", log.text());

    // an N+1: every user's tasks, one query each, from one line
    let users = User::find().all(&db).await.unwrap();
    let line = line!() + 2;
    for u in &users {
        u.tasks().all(&db).await.unwrap();
    }
    assert_eq!(db.stats().n_plus_one, 1);
    let text = log.text();
    assert!(text.contains("dal::n_plus_one"), "{text}");
    assert!(text.contains("r_users.tasks"), "{text}");
    assert!(text.contains("parents=3"), "{text}");
    assert!(text.contains(&format!("relations.rs:{line}")), "{text}");

    // the same for a belongs-to, reported under the child's relation
    let all: Vec<Task> = [w.ada_tasks.clone(), w.bob_tasks.clone()].concat();
    for t in &all {
        t.owner(&db).await.unwrap();
    }
    // ada's three tasks share one owner: 2 different parents, quiet
    assert_eq!(db.stats().n_plus_one, 1);
    for t in &all {
        t.tags().all(&db).await.unwrap();
    }
    assert_eq!(db.stats().n_plus_one, 2, "{}", log.text());
    assert!(log.text().contains("r_tasks.tags"), "{}", log.text());
    db.close();

    // off
    let quiet = reopen(t, Some(0)).await;
    for u in &users {
        u.tasks().all(&quiet).await.unwrap();
    }
    assert_eq!(quiet.stats().n_plus_one, 0);
    quiet.close();
}

// ------------------------------------------------------------------ saving

/// A parent and its new children saved in one call: the parent gets its id,
/// each child points at it and gets its own; changed children are updated.
/// All or nothing: when a child is refused, neither the parent nor any
/// child is written and their ids are put back, so a corrected retry
/// inserts them all.
pub async fn rel_save_parent_with_children(t: &TestDb) {
    let db = &t.db;
    schema(db).await;

    let mut ada = user("ada");
    let mut tasks = vec![task("a1", "write", false), task("a2", "ship", false)];
    User::TASKS.save(&mut ada, &mut tasks, db).await.unwrap();
    assert!(ada.id > 0);
    assert!(tasks.iter().all(|t| t.id > 0 && t.owner_id == ada.id));
    assert_eq!(ada.tasks().all(db).await.unwrap(), tasks);

    // changed and new children of a saved parent
    tasks[0].done = true;
    tasks.push(task("a3", "rest", false));
    ada.name = "Ada L.".into();
    User::TASKS.save(&mut ada, &mut tasks, db).await.unwrap();
    assert_eq!(ada.tasks().all(db).await.unwrap(), tasks);
    assert_eq!(User::get(db, ada.id).await.unwrap().unwrap().name, "Ada L.");

    // a child refused (duplicate code): nothing written, ids put back
    let mut bob = user("bob");
    let mut bad = vec![task("b1", "cook", false), task("a1", "clash", false)];
    let err = User::TASKS.save(&mut bob, &mut bad, db).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConstraintViolation {
                kind: ConstraintKind::Unique,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(bob.id, 0, "the parent's id is put back");
    assert!(bad.iter().all(|t| t.id == 0), "{bad:?}");
    assert_eq!(User::find().count(db).await.unwrap(), 1);
    assert_eq!(Task::find().count(db).await.unwrap(), 3);
    bad[1].code = "b2".into();
    User::TASKS.save(&mut bob, &mut bad, db).await.unwrap();
    assert_eq!(bob.tasks().count(db).await.unwrap(), 2);
    assert!(bad.iter().all(|t| t.owner_id == bob.id));

    // has-one
    let mut cy = user("cy");
    let mut p = Profile {
        id: 0,
        user_id: 0,
        bio: "poet".into(),
    };
    User::PROFILE.save(&mut cy, &mut p, db).await.unwrap();
    assert_eq!(cy.profile(db).await.unwrap(), Some(p.clone()));
    assert_eq!(p.user_id, cy.id);

    // the tree: a parent with children, then grandchildren
    Category::ensure_schema(db).await.unwrap();
    let mut root = Category {
        id: 0,
        parent_id: None,
        name: "root".into(),
    };
    let mut kids: Vec<Category> = ["a", "b"]
        .iter()
        .map(|n| Category {
            id: 0,
            parent_id: None,
            name: (*n).into(),
        })
        .collect();
    Category::CHILDREN
        .save(&mut root, &mut kids, db)
        .await
        .unwrap();
    assert!(kids.iter().all(|k| k.parent_id == Some(root.id)));
}

/// Everything works inside a transaction: a save with children is a
/// savepoint of the caller's transaction (rolled back with it), eager and
/// lazy loads see the transaction's own uncommitted rows.
pub async fn rel_inside_transactions(t: &TestDb) {
    let db = &t.db;
    schema(db).await;

    let mut tx = db.begin().await.unwrap();
    let mut ada = user("ada");
    let mut tasks = vec![task("a1", "write", false), task("a2", "ship", true)];
    User::TASKS
        .save(&mut ada, &mut tasks, &mut tx)
        .await
        .unwrap();
    let mut urgent = tag("urgent");
    urgent.save(&mut tx).await.unwrap();
    Task::TAGS
        .link(&tasks[1], &urgent, &mut link(), &mut tx)
        .await
        .unwrap();
    let users = User::find()
        .with(User::TASKS.with(Task::TAGS))
        .all(&mut tx)
        .await
        .unwrap();
    assert_eq!(users.len(), 1);
    let got = users[0].related(User::TASKS).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].related(Task::TAGS).unwrap()[0].label, "urgent");
    assert_eq!(tasks[0].owner(&mut tx).await.unwrap().unwrap().name, "ada");
    assert_eq!(ada.tasks().count(&mut tx).await.unwrap(), 2);
    assert_eq!(
        User::TASKS.load_for(&[ada.clone()], &mut tx).await.unwrap()[0].len(),
        2
    );
    // a failing save with children inside the transaction: only its
    // savepoint is undone, the transaction goes on
    let mut bob = user("bob");
    let mut clash = vec![task("a1", "dup", false)];
    assert!(
        User::TASKS
            .save(&mut bob, &mut clash, &mut tx)
            .await
            .is_err()
    );
    assert_eq!(bob.id, 0);
    assert_eq!(User::find().count(&mut tx).await.unwrap(), 1);
    tx.rollback().await.unwrap();

    assert_eq!(User::find().count(db).await.unwrap(), 0);
    assert_eq!(Task::find().count(db).await.unwrap(), 0);

    let mut tx = db.begin().await.unwrap();
    let mut ada = user("ada");
    let mut tasks = vec![task("a1", "write", false)];
    User::TASKS
        .save(&mut ada, &mut tasks, &mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ada.tasks().all(db).await.unwrap(), tasks);
}

// ------------------------------------------------------------------ keys

/// uuid keys (with an optional foreign key: a member without a team), string
/// keys, and a self-referencing tree loaded two levels deep.
pub async fn rel_uuid_string_and_self_keys(t: &TestDb) {
    let db = &t.db;
    Team::ensure_schema(db).await.unwrap();
    Member::ensure_schema(db).await.unwrap();
    let mut red = Team {
        id: Uuid::nil(),
        name: "red".into(),
    };
    let mut members: Vec<Member> = ["ann", "ben"]
        .iter()
        .map(|n| Member {
            id: Uuid::nil(),
            team_id: None,
            name: (*n).into(),
        })
        .collect();
    Team::MEMBERS
        .save(&mut red, &mut members, db)
        .await
        .unwrap();
    assert!(!red.id.is_nil());
    assert!(members.iter().all(|m| m.team_id == Some(red.id)));
    let mut solo = Member {
        id: Uuid::nil(),
        team_id: None,
        name: "sol".into(),
    };
    solo.save(db).await.unwrap();
    let teams = Team::find().with(Team::MEMBERS).all(db).await.unwrap();
    let mut names: Vec<&str> = teams[0]
        .related(Team::MEMBERS)
        .unwrap()
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["ann", "ben"]);
    let rows = Member::find()
        .order_by(Member::NAME.asc())
        .with(Member::TEAM)
        .all(db)
        .await
        .unwrap();
    let teams: Vec<Option<&str>> = rows
        .iter()
        .map(|m| m.related(Member::TEAM).unwrap().map(|t| t.name.as_str()))
        .collect();
    assert_eq!(teams, [Some("red"), Some("red"), None]);
    assert_eq!(solo.team(db).await.unwrap(), None);
    assert_eq!(members[0].team(db).await.unwrap().unwrap().name, "red");

    Country::ensure_schema(db).await.unwrap();
    City::ensure_schema(db).await.unwrap();
    for (code, name) in [("fr", "France"), ("jp", "Japan")] {
        Country {
            code: code.into(),
            name: name.into(),
        }
        .save(db)
        .await
        .unwrap();
    }
    for (country, name) in [("fr", "Lyon"), ("jp", "Kyoto"), ("fr", "Nantes")] {
        City {
            id: 0,
            country_id: country.into(),
            name: name.into(),
        }
        .save(db)
        .await
        .unwrap();
    }
    let countries = Country::find()
        .order_by(Country::CODE.asc())
        .with(Country::CITIES.order_by(City::NAME.asc()))
        .all(db)
        .await
        .unwrap();
    let got: Vec<(String, Vec<String>)> = countries
        .iter()
        .map(|c| {
            (
                c.code.clone(),
                c.related(Country::CITIES)
                    .unwrap()
                    .iter()
                    .map(|x| x.name.clone())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "fr".to_string(),
                vec!["Lyon".to_string(), "Nantes".to_string()]
            ),
            ("jp".to_string(), vec!["Kyoto".to_string()])
        ]
    );

    Category::ensure_schema(db).await.unwrap();
    let mut root = Category {
        id: 0,
        parent_id: None,
        name: "root".into(),
    };
    root.save(db).await.unwrap();
    let mut ids = Vec::new();
    for name in ["a", "b"] {
        let mut c = Category {
            id: 0,
            parent_id: Some(root.id),
            name: name.into(),
        };
        c.save(db).await.unwrap();
        ids.push(c.id);
    }
    Category {
        id: 0,
        parent_id: Some(ids[0]),
        name: "a1".into(),
    }
    .save(db)
    .await
    .unwrap();
    let before = statements(db);
    let tree = Category::find()
        .filter(Category::PARENT_ID.is_null())
        .with(
            Category::CHILDREN
                .with(Category::CHILDREN)
                .with(Category::PARENT),
        )
        .all(db)
        .await
        .unwrap();
    assert_eq!(statements(db) - before, 4);
    assert_eq!(tree.len(), 1);
    let kids = tree[0].related(Category::CHILDREN).unwrap();
    let names: Vec<&str> = kids.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(
        kids[0].related(Category::PARENT).unwrap().unwrap().name,
        "root"
    );
    let grand: Vec<&str> = kids[0]
        .related(Category::CHILDREN)
        .unwrap()
        .iter()
        .map(|k| k.name.as_str())
        .collect();
    assert_eq!(grand, ["a1"]);
    assert!(kids[1].related(Category::CHILDREN).unwrap().is_empty());
}

// ------------------------------------------------------------------ filters

/// Filters through relations, as `EXISTS` subqueries: parents with a
/// matching child (or none, or any child at all), children whose parent
/// matches, rows linked to a matching row; soft-deleted related rows do not
/// count; nested through two relations; on a self-referencing tree.
pub async fn rel_filters_through_relations(t: &TestDb) {
    let db = &t.db;
    let w = world(db).await;
    let names = |rows: Vec<User>| -> Vec<String> { rows.into_iter().map(|u| u.name).collect() };
    let users = |c: dal::Cond<User>| User::find().filter(c).order_by(User::NAME.asc()).all(db);

    assert_eq!(
        names(users(User::TASKS.any(Task::DONE.eq(true))).await.unwrap()),
        ["ada"]
    );
    assert_eq!(
        names(users(User::TASKS.any(Task::DONE.eq(false))).await.unwrap()),
        ["ada", "bob"]
    );
    assert_eq!(
        names(users(User::TASKS.none(Task::DONE.eq(true))).await.unwrap()),
        ["bob", "cy"]
    );
    assert_eq!(
        names(users(User::TASKS.exists()).await.unwrap()),
        ["ada", "bob"]
    );
    assert_eq!(names(users(User::TASKS.is_empty()).await.unwrap()), ["cy"]);
    assert_eq!(
        User::find()
            .filter(User::TASKS.exists())
            .count(db)
            .await
            .unwrap(),
        2
    );
    // combined with other conditions, and nested: users with a task tagged "home"
    assert_eq!(
        names(
            users(User::TASKS.any(Task::TAGS.any(Tag::LABEL.eq("home"))) & User::NAME.ne("bob"))
                .await
                .unwrap()
        ),
        ["ada"]
    );
    assert_eq!(
        names(users(User::TASKS.any(Task::TAGS.exists())).await.unwrap()),
        ["ada", "bob"]
    );
    // children by their parent
    let tasks = Task::find()
        .filter(Task::OWNER.has(User::NAME.eq("bob")))
        .all(db)
        .await
        .unwrap();
    assert_eq!(titles(&tasks), ["cook"]);
    // many-to-many from both sides
    let tagged = Task::find()
        .filter(Task::TAGS.any(Tag::LABEL.eq("urgent")))
        .all(db)
        .await
        .unwrap();
    assert_eq!(titles(&tagged), ["write"]);
    assert_eq!(
        Task::find()
            .filter(Task::TAGS.none(Tag::LABEL.eq("home")))
            .count(db)
            .await
            .unwrap(),
        2
    );
    let tags = Tag::find()
        .filter(Tag::TASKS.any(Task::TITLE.eq("cook")))
        .all(db)
        .await
        .unwrap();
    assert_eq!(tags, vec![w.home.clone()]);

    // soft-deleted children and links do not count
    let mut review = w.ada_tasks[1].clone();
    review.delete(db).await.unwrap();
    assert!(
        users(User::TASKS.any(Task::DONE.eq(true)))
            .await
            .unwrap()
            .is_empty()
    );
    let mut link_rows = TaskTag::find()
        .filter(TaskTag::TAG_ID.eq(w.urgent.id))
        .all(db)
        .await
        .unwrap();
    link_rows[0].delete(db).await.unwrap();
    assert_eq!(
        Task::find()
            .filter(Task::TAGS.any(Tag::LABEL.eq("urgent")))
            .count(db)
            .await
            .unwrap(),
        0
    );

    // a self-referencing tree: categories with a child named "a1", roots with children
    Category::ensure_schema(db).await.unwrap();
    let mut root = Category {
        id: 0,
        parent_id: None,
        name: "root".into(),
    };
    root.save(db).await.unwrap();
    let mut a = Category {
        id: 0,
        parent_id: Some(root.id),
        name: "a".into(),
    };
    a.save(db).await.unwrap();
    let mut a1 = Category {
        id: 0,
        parent_id: Some(a.id),
        name: "a1".into(),
    };
    a1.save(db).await.unwrap();
    let with_a1: Vec<String> = Category::find()
        .filter(Category::CHILDREN.any(Category::NAME.eq("a1")))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(with_a1, ["a"]);
    let leaves: Vec<String> = Category::find()
        .filter(Category::CHILDREN.is_empty())
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(leaves, ["a1"]);
    let under_root: Vec<String> = Category::find()
        .filter(Category::PARENT.has(Category::NAME.eq("root")))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(under_root, ["a"]);
}

// ------------------------------------------------------------------ bind limit

/// More parents than one statement may bind: the IN-list is split into
/// chunks at the dialect's limit (a few statements, not one per parent; on
/// PostgreSQL one statement binding the keys as one array), and every parent
/// still gets exactly its children.
pub async fn rel_in_lists_cross_the_bind_limit(t: &TestDb) {
    let db = &t.db;
    schema(db).await;
    let limit = db.dialect().capabilities().max_bind_params;
    let n = limit + 1000;
    let mut users: Vec<User> = (0..n).map(|i| user(&format!("u{i}"))).collect();
    User::save_all(&mut users, db).await.unwrap();
    // one task for every 1000th user
    let mut tasks: Vec<Task> = users
        .iter()
        .step_by(1000)
        .map(|u| {
            let mut t = task(&format!("t{}", u.id), "x", false);
            t.owner_id = u.id;
            t
        })
        .collect();
    Task::save_all(&mut tasks, db).await.unwrap();

    let before = statements(db);
    let rows = User::find().with(User::TASKS).all(db).await.unwrap();
    let used = statements(db) - before;
    if db.dialect() == dal::Dialect::Postgres {
        // every key in one bound array: `owner_id = ANY($1)`
        assert_eq!(used, 2, "one query for the users, one for the tasks");
    } else {
        assert!(
            (3..=4).contains(&used),
            "one query for the users and a few chunks for the tasks, not {used}"
        );
    }
    assert_eq!(rows.len(), n);
    let mut with_tasks = 0;
    for r in &rows {
        let mine = r.related(User::TASKS).unwrap();
        assert!(mine.iter().all(|t| t.owner_id == r.id));
        with_tasks += mine.len();
    }
    assert_eq!(with_tasks, tasks.len());

    let batch = User::TASKS.load_for(&users, db).await.unwrap();
    assert_eq!(batch.iter().map(Vec::len).sum::<usize>(), tasks.len());
    let owners = Task::OWNER.load_for(&tasks, db).await.unwrap();
    assert!(
        owners
            .iter()
            .zip(&tasks)
            .all(|(o, t)| o.as_ref().unwrap().id == t.owner_id)
    );
}

macro_rules! relation_tests {
    ($setup:path) => {
        backend_tests!($setup;
            relations::rel_foreign_keys_and_indexes_in_the_schema,
            relations::rel_eager_one_query_per_level,
            relations::rel_eager_filter_order_and_soft_deletes,
            relations::rel_many_to_many_both_ways,
            relations::rel_lazy_and_batch_loads,
            relations::rel_n_plus_one_detector,
            relations::rel_save_parent_with_children,
            relations::rel_inside_transactions,
            relations::rel_uuid_string_and_self_keys,
            relations::rel_in_lists_cross_the_bind_limit,
            relations::rel_filters_through_relations,
        );
    };
}
