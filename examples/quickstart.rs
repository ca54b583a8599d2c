//! Quickstart: embedded SQLite, no setup.
//!
//! Part 1 builds tables from blueprints, inserts rows with portable SQL inside a
//! transaction, queries them back into a struct and prints them.
//! Part 2 derives an entity: saves, updates, lists and prints its history.
//! Part 3 relates entities: a board has many cards, each card has labels (many
//! to many); loaded eagerly, one query per level, and lazily.
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

/// A board has many cards (`Board::CARDS`), read backwards from `Card::BOARD`.
#[derive(Entity, Debug, Clone)]
#[dal(table = "boards", has_many(cards = Card::BOARD))]
struct Board {
    #[dal(id)]
    id: i64,
    #[dal(length = 80)]
    name: String,
}

/// A card belongs to a board (the foreign key `board_id`, with its index) and
/// has labels through `CardLabel`.
#[derive(Entity, Debug, Clone)]
#[dal(
    table = "cards",
    soft_delete,
    many_to_many(labels = Label, through = CardLabel::LABEL, from = CardLabel::CARD)
)]
struct Card {
    #[dal(id)]
    id: i64,
    #[dal(belongs_to = Board, on_delete = "cascade")]
    board_id: i64,
    #[dal(length = 200)]
    title: String,
}

#[derive(Entity, Debug, Clone)]
#[dal(table = "labels")]
struct Label {
    #[dal(id)]
    id: i64,
    #[dal(length = 40, unique)]
    name: String,
}

/// The join entity of cards and labels.
#[derive(Entity, Debug, Clone)]
#[dal(table = "card_labels")]
struct CardLabel {
    #[dal(id)]
    id: i64,
    #[dal(belongs_to = Card, on_delete = "cascade")]
    card_id: i64,
    #[dal(belongs_to = Label, on_delete = "cascade")]
    label_id: i64,
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

    // ---------------------------------------------------------------- relations
    Board::ensure_schema(&db).await?;
    Card::ensure_schema(&db).await?; // with the foreign key to boards and its index
    Label::ensure_schema(&db).await?;
    CardLabel::ensure_schema(&db).await?;

    let mut board = Board {
        id: 0,
        name: "launch".into(),
    };
    let mut cards: Vec<Card> = ["write docs", "record demo", "tweet"]
        .into_iter()
        .map(|t| Card {
            id: 0,
            board_id: 0,
            title: t.into(),
        })
        .collect();
    // the board and its cards in one transaction; the cards get its id
    Board::CARDS.save(&mut board, &mut cards, &db).await?;
    let mut urgent = Label {
        id: 0,
        name: "urgent".into(),
    };
    urgent.save(&db).await?;
    for card in &cards[..2] {
        let mut link = CardLabel {
            id: 0,
            card_id: 0,
            label_id: 0,
        };
        Card::LABELS.link(card, &urgent, &mut link, &db).await?;
    }

    // eager: one query for the boards, one for their cards, one for the labels
    let boards = Board::find()
        .with(Board::CARDS.order_by(Card::TITLE.asc()).with(Card::LABELS))
        .all(&db)
        .await?;
    for b in &boards {
        println!(
            "
board {:?}:",
            b.name
        );
        for c in b.related(Board::CARDS)? {
            let labels: Vec<&str> = c
                .related(Card::LABELS)?
                .iter()
                .map(|l| l.name.as_str())
                .collect();
            println!("  {:<12} {:?}", c.title, labels);
        }
    }

    // lazy: the board of a card, and a filtered query over a board's cards
    let owner = cards[2].board(&db).await?.expect("the card's board");
    let demo = board
        .cards()
        .filter(Card::TITLE.like("record%"))
        .all(&db)
        .await?;
    println!(
        "
{:?} is on board {:?}; {} card(s) match `record%`",
        cards[2].title,
        owner.name,
        demo.len()
    );
    Ok(())
}
