//! Quickstart: embedded SQLite, no setup.
//!
//! Builds a table from a blueprint, inserts rows with portable SQL inside a
//! transaction, queries them back into a struct and prints them.
//!
//! Run with `cargo run --example quickstart`.

use dal::{Db, FromRow, ReferentialAction, Table};

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
    Ok(())
}
