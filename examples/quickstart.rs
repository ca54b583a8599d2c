//! Quickstart: embedded SQLite, no setup.
//!
//! Part 1 builds tables from blueprints, inserts rows with portable SQL inside a
//! transaction, queries them back into a struct and prints them.
//! Part 2 derives an entity: saves, updates, lists and prints its history.
//!
//! Run with `cargo run --example quickstart`.

use dal::{Audit, Db, Entity, FromRow, ReferentialAction, Table};

/// An entity: the derive writes the table, the SQL and typed column handles.
#[derive(Entity, Debug, Clone)]
#[dal(table = "notes", history, soft_delete, timestamps)]
struct Note {
    #[dal(id)]
    id: i64,
    #[dal(length = 120)]
    title: String,
    body: Option<String>,
    #[dal(default = 0)]
    stars: i32,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, FromRow)]
struct Task {
    id: i64,
    title: String,
    done: bool,
    project: String,
}

#[tokio::main]
async fn main() -> dal::Result<()> {
    // An in-memory SQLite database; use "postgres://..." or "mysql://..." for a server.
    let db = Db::connect_url("sqlite::memory:").await?;

    // Blueprints: the same description creates the tables on every dialect.
    let projects = Table::build("projects", |t| {
        t.id();
        t.string("name", 100).unique();
        t.timestamps();
    });
    let tasks = Table::build("tasks", |t| {
        t.id();
        t.foreign_id("project_id")
            .references("projects")
            .on_delete(ReferentialAction::Cascade);
        t.string("title", 200);
        t.boolean("done").default(false);
        t.enumeration("priority", ["low", "normal", "high"])
            .default("normal");
        t.index(["project_id", "done"]);
    });
    db.create_table(&projects).await?;
    db.create_table(&tasks).await?;

    // Portable SQL: [name] quotes identifiers and ? marks parameters everywhere.
    db.transaction(|tx| {
        Box::pin(async move {
            let project = tx
                .execute("INSERT INTO [projects] ([name]) VALUES (?)", ("dal",))
                .await?
                .last_insert_id
                .expect("SQLite reports the new id");
            for (title, done) in [
                ("write the quickstart", true),
                ("ship it", false),
                ("celebrate", false),
            ] {
                tx.execute(
                    "INSERT INTO [tasks] ([project_id], [title], [done]) VALUES (?, ?, ?)",
                    (project, title, done),
                )
                .await?;
            }
            Ok(())
        })
    })
    .await?;

    let rows: Vec<Task> = db
        .fetch_all_as(
            "SELECT t.[id], t.[title], t.[done], p.[name] AS [project]
             FROM [tasks] t JOIN [projects] p ON p.[id] = t.[project_id]
             ORDER BY t.[id]",
            (),
        )
        .await?;
    println!("{} tasks:", rows.len());
    for task in &rows {
        println!(
            "  #{} [{}] {} ({})",
            task.id,
            if task.done { "x" } else { " " },
            task.title,
            task.project
        );
    }

    let open: i64 = db
        .fetch_scalar("SELECT COUNT(*) FROM [tasks] WHERE [done] = ?", (false,))
        .await?;
    println!("{open} still open");

    // ---------------------------------------------------------------- entities
    Note::ensure_schema(&db).await?; // creates `notes` and `notes_history`
    let mut note = Note {
        id: 0,
        title: "dal quickstart".into(),
        body: None,
        stars: 1,
        created_at: Default::default(),
        updated_at: Default::default(),
    };
    note.save_with(&db, &Audit::by("ada").comment("first draft"))
        .await?; // INSERT
    note.body = Some("entities save, update, query and keep history".into());
    note.stars = 5;
    note.save_with(&db, &Audit::by("grace")).await?; // UPDATE (upsert by id)
    let mut other = Note {
        id: 0,
        title: "second note".into(),
        body: None,
        stars: 2,
        created_at: Default::default(),
        updated_at: Default::default(),
    };
    other.save(&db).await?;

    let starred = Note::find()
        .filter(Note::STARS.ge(2))
        .order_by(Note::STARS.desc())
        .all(&db)
        .await?;
    println!("\nnotes with 2+ stars:");
    for n in &starred {
        println!("  #{} {:?} ({} stars)", n.id, n.title, n.stars);
    }

    println!("\nhistory of note #{}:", note.id);
    for v in Note::history(&db, note.id).await? {
        println!(
            "  v{} {:<6} by {:<6} {} -> stars={} body={:?}",
            v.version,
            v.operation.as_str(),
            v.actor.as_deref().unwrap_or("-"),
            v.comment.as_deref().unwrap_or(""),
            v.entity.stars,
            v.entity.body
        );
    }
    Ok(())
}
