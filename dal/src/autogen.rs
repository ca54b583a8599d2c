//! Autogenerate: write a migration from the difference between the
//! application's blueprints and a live database.
//!
//! [`generate`] reads the live schema ([`Db::introspect`]), diffs it against
//! the desired tables ([`Blueprints`]: entity tables with their history tables,
//! or any [`Table`]) and renders a Rust source file defining
//! `pub fn migration() -> dal::migrate::Migration`, whose `up` and best-effort
//! `down` scripts are written with [`schema!`](crate::schema!) in its documented
//! grammar. The file is meant to be reviewed, committed and registered like a
//! hand-written migration.
//!
//! Changes that can lose data (dropped tables, columns, indexes, foreign keys
//! or checks, and narrowing type changes) are left out unless
//! [`GenerateOptions::include_destructive`] is set; they are listed in
//! [`Generated::skipped_destructive`] and as comments at the top of the file.
//!
//! [`render`] is the pure part: a [`SchemaDiff`] in, source text out.
//!
//! ```
//! use dal::autogen::{self, RenderContext};
//! use dal::{Dialect, Schema, Table};
//!
//! let desired = Schema {
//!     tables: vec![Table::build("users", |t| {
//!         t.id();
//!         t.string("email", 150).unique();
//!         t.timestamps();
//!     })],
//! };
//! let diff = dal::schema::diff_schemas(&desired, &Schema::new(), Dialect::Sqlite);
//! let source = autogen::render(&diff, "m20250101_000000_create_users", &RenderContext::new(Dialect::Sqlite));
//! assert!(source.contains("pub fn migration() -> dal::migrate::Migration"));
//! assert!(source.contains("create users {"));
//! assert!(source.contains("string(email, 150).unique();"));
//! assert!(source.contains("timestamps();"));
//! assert!(source.contains("drop users;"));
//! ```
//!
//! What the grammar of `schema!` cannot say (changing a column in place, a
//! foreign key added to an existing column, SQLite's table rebuilds, an
//! expression default) is written as `sql("...")` steps in the SQL of the
//! database the diff was made against; such a file is marked as written for
//! that database only.

use dal_schema::ddl::DdlStatement;
use dal_schema::entity::EntityShape;
use dal_schema::script::{Script, Step};
use dal_schema::{Dialect, Schema, SchemaDiff, Table};

use crate::db::Db;
use crate::entity::Entity;
use crate::error::{Error, Result};

/// The tables an application wants, with the history triggers of its
/// entities that keep a history.
///
/// Build it from entities (each adds its table and, with `history`, its
/// history table and triggers) and from plain tables; a `Vec<Table>` or a
/// slice of tables converts into it.
///
/// ```
/// use dal::Entity;
/// use dal::autogen::Blueprints;
///
/// #[derive(Entity, Debug, Clone)]
/// #[dal(table = "users", history, timestamps)]
/// struct User {
///     #[dal(id)]
///     id: i64,
///     email: String,
/// }
///
/// let blueprints = Blueprints::new()
///     .entity::<User>()
///     .table(dal::Table::build("settings", |t| {
///         t.string("key", 100).primary();
///         t.text("value");
///     }));
/// let names: Vec<&str> = blueprints.tables().iter().map(|t| t.name.as_str()).collect();
/// assert_eq!(names, ["users", "users_history", "settings"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Blueprints {
    tables: Vec<Table>,
    history: Vec<EntityShape>,
}

impl Blueprints {
    /// No tables yet.
    pub fn new() -> Blueprints {
        Blueprints::default()
    }

    /// Add an entity's table and, when it keeps a history, its history table
    /// (built the way [`Entity::ensure_schema`] builds it) and the triggers
    /// that fill it.
    pub fn entity<E: Entity>(mut self) -> Blueprints {
        let table = E::blueprint();
        if E::INFO.history {
            let history = crate::entity::history_blueprint::<E>(&table);
            self.tables.push(table);
            self.tables.push(history);
            self.history.push(E::INFO.shape());
        } else {
            self.tables.push(table);
        }
        self
    }

    /// Add a table blueprint.
    pub fn table(mut self, table: Table) -> Blueprints {
        self.tables.push(table);
        self
    }

    /// Add table blueprints.
    pub fn tables_from(mut self, tables: impl IntoIterator<Item = Table>) -> Blueprints {
        self.tables.extend(tables);
        self
    }

    /// The tables, in the order they were added.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// The entities whose history is written by triggers.
    pub fn history_entities(&self) -> &[EntityShape] {
        &self.history
    }

    /// True when there is no table.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The tables as a [`Schema`].
    pub fn schema(&self) -> Schema {
        Schema {
            tables: self.tables.clone(),
        }
    }
}

impl From<Vec<Table>> for Blueprints {
    fn from(tables: Vec<Table>) -> Blueprints {
        Blueprints {
            tables,
            history: Vec::new(),
        }
    }
}

impl From<&[Table]> for Blueprints {
    fn from(tables: &[Table]) -> Blueprints {
        Blueprints::from(tables.to_vec())
    }
}

impl From<&Vec<Table>> for Blueprints {
    fn from(tables: &Vec<Table>) -> Blueprints {
        Blueprints::from(tables.clone())
    }
}

impl From<&Blueprints> for Blueprints {
    fn from(b: &Blueprints) -> Blueprints {
        b.clone()
    }
}

impl FromIterator<Table> for Blueprints {
    fn from_iter<I: IntoIterator<Item = Table>>(iter: I) -> Blueprints {
        Blueprints::from(iter.into_iter().collect::<Vec<_>>())
    }
}

/// Options of [`generate`].
///
/// ```
/// let options = dal::autogen::GenerateOptions::default()
///     .include_destructive(true)
///     .ignore_table("legacy_audit");
/// assert!(options.include_destructive);
/// assert!(options.ignore_tables.iter().any(|t| t == "dal_migrations"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GenerateOptions {
    /// Include the changes that can lose data (drops, narrowing type changes).
    /// Off by default: they are only listed.
    pub include_destructive: bool,
    /// Live tables that are not the application's and never appear in the
    /// diff. By default the migration runner's tracking table (`dal_migrations`).
    pub ignore_tables: Vec<String>,
}

impl Default for GenerateOptions {
    fn default() -> GenerateOptions {
        GenerateOptions {
            include_destructive: false,
            ignore_tables: vec![crate::migrate::DEFAULT_TABLE.to_string()],
        }
    }
}

impl GenerateOptions {
    /// Set [`include_destructive`](Self::include_destructive).
    pub fn include_destructive(mut self, yes: bool) -> GenerateOptions {
        self.include_destructive = yes;
        self
    }

    /// Add a live table to leave alone.
    pub fn ignore_table(mut self, name: impl Into<String>) -> GenerateOptions {
        self.ignore_tables.push(name.into());
        self
    }

    /// Leave alone the tracking table of a [`Migrator`](crate::migrate::Migrator)
    /// that uses another name than `dal_migrations`
    /// ([`Migrator::tracking_table`](crate::migrate::Migrator::tracking_table)).
    pub fn runner_table(self, name: &str) -> GenerateOptions {
        self.ignore_table(name)
    }

    fn ignored(&self, table: &str) -> bool {
        self.ignore_tables.iter().any(|t| t == table)
    }
}

/// Diff the desired tables against a live schema, leaving out the tables
/// `options` ignores. Pure: no database.
///
/// ```
/// use dal::autogen::{self, Blueprints, GenerateOptions};
/// use dal::{Dialect, Schema, Table};
///
/// let desired = Blueprints::new().table(Table::build("notes", |t| { t.id(); }));
/// let live = Schema::new().create("dal_migrations", |t| { t.string("name", 200); });
/// let diff = autogen::diff(&desired, &live, Dialect::Sqlite, &GenerateOptions::default());
/// assert_eq!(diff.changes.len(), 1);
/// assert!(diff.destructive.is_empty()); // the runner's table is not dropped
/// ```
pub fn diff(
    desired: &Blueprints,
    live: &Schema,
    dialect: Dialect,
    options: &GenerateOptions,
) -> SchemaDiff {
    let live = Schema {
        tables: live
            .tables
            .iter()
            .filter(|t| !options.ignored(&t.name))
            .cloned()
            .collect(),
    };
    let desired = Schema {
        tables: desired
            .tables
            .iter()
            .filter(|t| !options.ignored(&t.name))
            .cloned()
            .collect(),
    };
    dal_schema::diff_schemas(&desired, &live, dialect)
}

/// Generate a migration called `name` that brings the database behind `db`
/// to the desired tables.
///
/// The tables are validated first ([`Error::Schema`] when one is invalid).
/// When the database already matches, the result [`is_empty`](Generated::is_empty)
/// and its source is a migration with empty scripts.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use dal::autogen::{self, GenerateOptions};
/// use dal::{Db, Table};
///
/// let db = Db::connect_url("sqlite::memory:").await?;
/// db.create_table(&Table::build("notes", |t| { t.id(); t.integer("legacy"); })).await?;
/// let desired = vec![Table::build("notes", |t| {
///     t.id();
///     t.string("title", 200).nullable();
/// })];
/// let g = autogen::generate(&db, &desired, "m20250101_000000_notes_title", GenerateOptions::default()).await?;
/// assert_eq!(g.changes, 1);
/// assert!(g.source.contains("add string(title, 200).nullable();"));
/// assert_eq!(g.skipped_destructive, ["drop column notes.legacy"]);
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
pub async fn generate(
    db: &Db,
    desired: impl Into<Blueprints>,
    name: &str,
    options: GenerateOptions,
) -> Result<Generated> {
    let desired: Blueprints = desired.into();
    let mut problems = Vec::new();
    for t in &desired.tables {
        if let Err(e) = dal_schema::validate_table(t) {
            problems.extend(e);
        }
    }
    if !problems.is_empty() {
        return Err(Error::Schema(problems));
    }
    if name.trim().is_empty() {
        return Err(Error::invalid_input("name", "a migration needs a name"));
    }
    let dialect = db.dialect();
    let live = db.introspect().await?;
    let diff = diff(&desired, &live, dialect, &options);
    let live = Schema {
        tables: live
            .tables
            .into_iter()
            .filter(|t| !options.ignored(&t.name))
            .collect(),
    };
    let context = RenderContext {
        dialect,
        live,
        history: desired.history.clone(),
        include_destructive: options.include_destructive,
    };
    Ok(Generated::from_diff(&diff, name, &context))
}

/// Render the migration source for `diff`: a Rust file defining
/// `pub fn migration() -> dal::migrate::Migration` named `name`, with an `up`
/// script making the changes (and the destructive ones when the context says
/// so) and a `down` script undoing them as far as possible.
///
/// ```
/// use dal::autogen::{render, RenderContext};
/// use dal::schema::{Change, SchemaDiff};
/// use dal::{Column, ColumnType, Dialect};
///
/// let diff = SchemaDiff {
///     changes: vec![Change::AddColumn {
///         table: "users".into(),
///         column: Column { nullable: true, ..Column::new("nick", ColumnType::String { length: 40 }) },
///     }],
///     destructive: vec![],
/// };
/// let source = render(&diff, "m2_nick", &RenderContext::new(Dialect::Postgres));
/// assert!(source.contains("alter users {\n                add string(nick, 40).nullable();\n            }"));
/// assert!(source.contains("drop_column(nick);"));
/// ```
pub fn render(diff: &SchemaDiff, name: &str, context: &RenderContext) -> String {
    Generated::from_diff(diff, name, context).source
}

/// A script of one step that rebuilds a table (SQLite's way of changing a
/// column, a foreign key or a check; see
/// [`DdlStatement::RebuildTable`]),
/// each shape given as a `schema!` script of one `create`.
///
/// Generated migrations use it because the runner turns SQLite's foreign-key
/// enforcement off around a typed rebuild, which it cannot do for raw SQL.
///
/// # Panics
///
/// When `from` or `to` is not exactly one `create`, or the two create
/// tables of different names: generated code always passes two `create`
/// scripts of the same table.
///
/// ```
/// use dal::schema::ddl::DdlStatement;
/// use dal::schema::script::Step;
///
/// let step = dal::autogen::rebuild(
///     dal::schema! { create notes { id(); integer(rank); } },
///     dal::schema! { create notes { id(); integer(rank).nullable(); } },
/// );
/// assert!(matches!(
///     step.steps(),
///     [Step::Ddl(DdlStatement::RebuildTable { from, to })]
///         if !from.column("rank").unwrap().nullable && to.column("rank").unwrap().nullable
/// ));
/// ```
pub fn rebuild(from: Script, to: Script) -> Script {
    fn single_create(script: Script, which: &str) -> Table {
        let mut steps = script.into_steps();
        match (steps.pop(), steps.is_empty()) {
            (Some(Step::Ddl(DdlStatement::CreateTable { table, .. })), true) => table,
            _ => {
                panic!("dal::autogen::rebuild: `{which}` must be a schema! of exactly one `create`")
            }
        }
    }
    let from = single_create(from, "from");
    let to = single_create(to, "to");
    assert_eq!(
        from.name, to.name,
        "dal::autogen::rebuild: both shapes must be the same table"
    );
    Script::from(vec![DdlStatement::RebuildTable { from, to }])
}

mod body;
mod output;
mod render;

pub use output::{Generated, RenderContext};

#[cfg(test)]
mod tests;
