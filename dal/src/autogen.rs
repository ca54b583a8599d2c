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

use std::collections::HashSet;
use std::fmt::Write as _;

use dal_schema::ddl::DdlStatement;
use dal_schema::dsl::{
    self, AlterItem, Arg, ColumnDef, HistoryAction, IndexDef, Modifier, Name, Statement, Str,
    TableItem, float_literal, name_literal, string_literal,
};
use dal_schema::entity::{
    EntityShape, drop_history_triggers, history_table_name, history_triggers,
};
use dal_schema::model::names;
use dal_schema::script::{Script, Step};
use dal_schema::{
    Change, Column, ColumnType, DefaultValue, Dialect, ForeignKey, Index, ReferentialAction,
    Schema, SchemaDiff, Table,
};

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

/// A generated migration.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Generated {
    /// The Rust source of the migration file.
    pub source: String,
    /// How many changes of the diff the `up` script makes (0: nothing to do).
    pub changes: usize,
    /// The destructive changes left out, one line each (`drop column users.age`).
    pub skipped_destructive: Vec<String>,
    /// Things to review: steps written as raw SQL for one database, columns
    /// added as NOT NULL without a default, down steps that cannot restore data.
    pub warnings: Vec<String>,
}

impl Generated {
    /// True when the live schema already matches (nothing to write).
    pub fn is_empty(&self) -> bool {
        self.changes == 0
    }

    /// Render a migration from a diff; [`render`] returns only its source.
    ///
    /// ```
    /// use dal::autogen::{Generated, RenderContext};
    /// use dal::schema::{Change, SchemaDiff};
    /// use dal::Dialect;
    ///
    /// let diff = SchemaDiff {
    ///     changes: vec![],
    ///     destructive: vec![Change::DropTable("legacy".into())],
    /// };
    /// let g = Generated::from_diff(&diff, "m1", &RenderContext::new(Dialect::Postgres));
    /// assert!(g.is_empty());
    /// assert_eq!(g.skipped_destructive, ["drop table legacy"]);
    /// ```
    pub fn from_diff(diff: &SchemaDiff, name: &str, context: &RenderContext) -> Generated {
        Renderer::new(context).run(diff, name)
    }
}

/// What [`render`] needs besides the diff.
///
/// ```
/// use dal::autogen::RenderContext;
/// let ctx = RenderContext::new(dal::Dialect::MySql).include_destructive(true);
/// assert!(ctx.include_destructive);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RenderContext {
    /// The database the diff was made against: raw SQL steps are written for it.
    pub dialect: Dialect,
    /// The live schema the diff was made against: the `down` script restores
    /// what the `up` script drops or changes from it.
    pub live: Schema,
    /// Entities whose history is written by triggers: their triggers are
    /// (re)created after their tables change.
    pub history: Vec<EntityShape>,
    /// Include the destructive changes.
    pub include_destructive: bool,
}

impl RenderContext {
    /// A context for `dialect` with an empty live schema.
    pub fn new(dialect: Dialect) -> RenderContext {
        RenderContext {
            dialect,
            live: Schema::new(),
            history: Vec::new(),
            include_destructive: false,
        }
    }

    /// Set the live schema.
    pub fn live(mut self, live: Schema) -> RenderContext {
        self.live = live;
        self
    }

    /// Set the entities that keep a history.
    pub fn history(mut self, history: Vec<EntityShape>) -> RenderContext {
        self.history = history;
        self
    }

    /// Set [`include_destructive`](Self::include_destructive).
    pub fn include_destructive(mut self, yes: bool) -> RenderContext {
        self.include_destructive = yes;
        self
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

// ---------------------------------------------------------------- rendering

/// One statement of a `schema!` body.
#[derive(Debug, Clone, PartialEq)]
enum Stmt {
    /// A statement of the grammar, written by the shared printer.
    Schema(Statement),
    Comment(String),
    /// A typed SQLite table rebuild: both shapes as `create` bodies.
    Rebuild {
        table: String,
        from: Vec<TableItem>,
        to: Vec<TableItem>,
        comment: String,
    },
}

/// A `schema!` body under construction.
#[derive(Debug, Default)]
struct Body {
    stmts: Vec<Stmt>,
    /// Tables created by this body so far (foreign keys to them need no `.external()`).
    created: HashSet<String>,
}

impl Body {
    fn alter(&mut self, table: &str, item: AlterItem) {
        if let Some(Stmt::Schema(Statement::Alter { table: t, items })) = self.stmts.last_mut()
            && t.value() == table
        {
            items.push(item);
            return;
        }
        self.stmts.push(Stmt::Schema(Statement::Alter {
            table: Name::new(table),
            items: vec![item],
        }));
    }

    fn history(&mut self, table: &str, action: HistoryAction) {
        let keyword = match action {
            HistoryAction::Add => "add_history",
            HistoryAction::Refresh => "refresh_history",
            HistoryAction::Drop => "drop_history",
        };
        self.alter(
            table,
            AlterItem::History {
                keyword: keyword.into(),
                action,
            },
        );
    }

    fn drop(&mut self, table: &str) {
        self.stmts.push(Stmt::Schema(Statement::Drop {
            table: Name::new(table),
        }));
    }

    fn sql(&mut self, statements: Vec<String>) {
        for s in statements {
            self.stmts.push(Stmt::Schema(Statement::Sql {
                sql: Str::from(s.as_str()),
            }));
        }
    }

    fn comment(&mut self, text: impl Into<String>) {
        self.stmts.push(Stmt::Comment(text.into()));
    }

    fn write(&self, out: &mut String, indent: usize) {
        let pad = " ".repeat(indent);
        for s in &self.stmts {
            match s {
                Stmt::Schema(statement) => {
                    dsl::write_statements(out, std::slice::from_ref(statement), indent)
                }
                Stmt::Comment(c) => {
                    for line in c.lines() {
                        let _ = writeln!(out, "{pad}// {line}");
                    }
                }
                Stmt::Rebuild { .. } => unreachable!("rebuilds are written by write_segments"),
            }
        }
    }

    fn has_rebuild(&self) -> bool {
        self.stmts.iter().any(|s| matches!(s, Stmt::Rebuild { .. }))
    }
}

struct Renderer<'a> {
    ctx: &'a RenderContext,
    warnings: Vec<String>,
    /// Steps written in one dialect's SQL.
    dialect_specific: bool,
    /// New tables created with `history()`.
    with_history: HashSet<String>,
}

/// How the history of one entity is written in a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HistoryPlan {
    /// A new table: `create t { ..; history(); }`.
    New,
    /// An existing table that starts keeping a history: `add_history()`.
    Add,
    /// A table with history whose columns change: `refresh_history()`.
    Refresh,
    /// Anything else (a soft-delete column not called `deleted_at`, a half
    /// made history): the triggers as raw SQL of the database diffed against.
    Raw,
}

/// True when `schema!`'s history construct writes exactly the entity's
/// triggers on every dialect (its soft-delete column, if any, is `deleted_at`).
fn portable_history(shape: &EntityShape) -> bool {
    let mut table = Table::new(shape.table.clone());
    table.columns = shape
        .columns
        .iter()
        .map(|c| Column::new(c.name.clone(), ColumnType::Text))
        .collect();
    table.primary_key = vec![shape.id_column().to_string()];
    let Some(plain) = dal_schema::entity::table_history_shape(&table) else {
        return false;
    };
    Dialect::ALL
        .iter()
        .all(|d| history_triggers(shape, *d) == history_triggers(&plain, *d))
}

fn has_audit(table: &Table) -> bool {
    dal_schema::entity::audit_column_defs()
        .iter()
        .all(|c| table.column(&c.name).is_some())
}

impl<'a> Renderer<'a> {
    fn new(ctx: &'a RenderContext) -> Self {
        Renderer {
            ctx,
            warnings: Vec::new(),
            dialect_specific: false,
            with_history: HashSet::new(),
        }
    }

    fn dialect_name(&self) -> &'static str {
        match self.ctx.dialect {
            Dialect::Postgres => "PostgreSQL",
            Dialect::MySql => "MySQL/MariaDB",
            Dialect::Sqlite => "SQLite",
        }
    }

    /// The SQL of `statement` for the context's dialect, as raw steps.
    fn raw(&mut self, body: &mut Body, why: &str, statement: dal_schema::ddl::DdlStatement) {
        match statement.to_sql(self.ctx.dialect) {
            Ok(sql) => {
                self.dialect_specific = true;
                body.comment(format!("{why} ({} SQL)", self.dialect_name()));
                body.sql(sql);
            }
            Err(e) => {
                let msg = format!("cannot write `{why}`: {e}");
                body.comment(format!("TODO: {msg}"));
                self.warnings.push(msg);
            }
        }
    }

    fn run(mut self, diff: &SchemaDiff, name: &str) -> Generated {
        let mut applied: Vec<&Change> = diff.changes.iter().collect();
        let mut skipped = Vec::new();
        if self.ctx.include_destructive {
            applied.extend(diff.destructive.iter());
        } else {
            skipped.extend(diff.destructive.iter().map(|c| c.to_string()));
        }

        self.rename_hints(diff);
        let touched: HashSet<&str> = applied.iter().map(|c| c.table()).collect();
        let histories: Vec<&EntityShape> = self
            .ctx
            .history
            .iter()
            .filter(|s| {
                touched.contains(s.table.as_str())
                    || touched.contains(history_table_name(&s.table).as_str())
            })
            .collect();

        // history written with `schema!`'s construct where it says exactly
        // what the entity needs, so the file runs on every database
        let plans: Vec<(&EntityShape, HistoryPlan)> = histories
            .iter()
            .map(|shape| (*shape, self.history_plan(shape, &applied)))
            .collect();
        let plan_of = |table: &str| {
            plans
                .iter()
                .find(|(s, _)| s.table == table)
                .map(|(_, p)| *p)
        };
        // entities that stop keeping a history (a destructive change)
        let dropped_history: Vec<String> = self
            .ctx
            .live
            .tables
            .iter()
            .filter(|t| {
                has_audit(t)
                    && plan_of(&t.name).is_none()
                    && !self.ctx.history.iter().any(|s| s.table == t.name)
                    && applied.iter().any(
                        |c| matches!(c, Change::DropTable(n) if *n == history_table_name(&t.name)),
                    )
                    && !applied
                        .iter()
                        .any(|c| matches!(c, Change::DropTable(n) if *n == t.name))
            })
            .map(|t| t.name.clone())
            .collect();
        let typed: Vec<&Change> = applied
            .iter()
            .copied()
            .filter(|c| {
                let audit_of = |table: &str, column: &str| {
                    matches!(c, Change::AddColumn { table: t, column: col } if t == table && col.name == column)
                        || matches!(c, Change::DropColumn { table: t, column: col } if t == table && col == column)
                };
                let is_audit = |table: &str| {
                    dal_schema::entity::audit_column_defs()
                        .iter()
                        .any(|a| audit_of(table, &a.name))
                };
                for (shape, plan) in &plans {
                    let h = history_table_name(&shape.table);
                    let creates_history = matches!(c, Change::CreateTable(t) if t.name == h);
                    let drop = match plan {
                        HistoryPlan::New => creates_history,
                        HistoryPlan::Add => creates_history || is_audit(&shape.table),
                        HistoryPlan::Refresh => {
                            matches!(c, Change::AddColumn { table, .. } if *table == h)
                        }
                        HistoryPlan::Raw => false,
                    };
                    if drop {
                        return false;
                    }
                }
                for t in &dropped_history {
                    let h = history_table_name(t);
                    if matches!(c, Change::DropTable(n) if *n == h) || is_audit(t) {
                        return false;
                    }
                }
                true
            })
            .collect();
        self.with_history = plans
            .iter()
            .filter(|(_, p)| *p == HistoryPlan::New)
            .map(|(s, _)| s.table.clone())
            .collect();
        let raw: Vec<&EntityShape> = plans
            .iter()
            .filter(|(_, p)| *p == HistoryPlan::Raw)
            .map(|(s, _)| *s)
            .collect();

        let mut up = Body::default();
        for t in &dropped_history {
            up.history(t, HistoryAction::Drop);
        }
        // Raw triggers name the columns and the history table: remove them
        // before the tables change (a SQLite rebuild could not rename a table
        // a trigger refers to) and write them again afterwards.
        for shape in &raw {
            if self.ctx.live.table(&shape.table).is_some() {
                self.dialect_specific = true;
                up.comment(format!(
                    "history triggers of {} ({} SQL)",
                    shape.table,
                    self.dialect_name()
                ));
                up.sql(drop_history_triggers(&shape.table, self.ctx.dialect));
            }
        }
        self.up(&mut up, &typed);
        for (shape, plan) in &plans {
            match plan {
                HistoryPlan::New => {}
                HistoryPlan::Add => up.history(&shape.table, HistoryAction::Add),
                HistoryPlan::Refresh => up.history(&shape.table, HistoryAction::Refresh),
                HistoryPlan::Raw => {
                    self.dialect_specific = true;
                    up.comment(format!(
                        "history triggers of {} ({} SQL)",
                        shape.table,
                        self.dialect_name()
                    ));
                    up.sql(history_triggers(shape, self.ctx.dialect));
                }
            }
        }

        let mut down = Body::default();
        for (shape, plan) in &plans {
            match plan {
                HistoryPlan::New | HistoryPlan::Add => {
                    down.history(&shape.table, HistoryAction::Drop)
                }
                HistoryPlan::Refresh => {}
                HistoryPlan::Raw => down.sql(drop_history_triggers(&shape.table, self.ctx.dialect)),
            }
        }
        for change in typed.iter().rev() {
            self.down(&mut down, change);
        }
        for (shape, plan) in &plans {
            match plan {
                HistoryPlan::Refresh => down.history(&shape.table, HistoryAction::Refresh),
                HistoryPlan::Raw => {
                    if let Some(old) = self.previous_shape(shape) {
                        down.comment(format!("history triggers of {} as they were", shape.table));
                        down.sql(history_triggers(&old, self.ctx.dialect));
                    }
                }
                HistoryPlan::New | HistoryPlan::Add => {}
            }
        }
        for t in &dropped_history {
            self.warnings.push(format!(
                "{t} stops keeping a history: its history table and audit columns are dropped; \
                 the down script adds an empty history back"
            ));
            down.history(t, HistoryAction::Add);
        }

        let source = self.source(name, &applied, &skipped, &up, &down);
        Generated {
            source,
            changes: applied.len(),
            skipped_destructive: skipped,
            warnings: self.warnings,
        }
    }

    /// How the history of `shape` is written, given the live tables and the
    /// changes the migration makes.
    fn history_plan(&self, shape: &EntityShape, applied: &[&Change]) -> HistoryPlan {
        if !portable_history(shape) {
            return HistoryPlan::Raw;
        }
        let live = &self.ctx.live;
        let history = history_table_name(&shape.table);
        match (live.table(&shape.table), live.table(&history)) {
            (None, None)
                if applied
                    .iter()
                    .any(|c| matches!(c, Change::CreateTable(t) if t.name == shape.table)) =>
            {
                HistoryPlan::New
            }
            (Some(t), None)
                if dal_schema::entity::audit_column_defs()
                    .iter()
                    .all(|c| t.column(&c.name).is_none()) =>
            {
                HistoryPlan::Add
            }
            (Some(t), Some(_)) if has_audit(t) => HistoryPlan::Refresh,
            _ => HistoryPlan::Raw,
        }
    }

    /// A diff cannot tell a rename from a drop and an add: point out the
    /// pairs that look like one (same table and type, or the same columns).
    fn rename_hints(&mut self, diff: &SchemaDiff) {
        let live = &self.ctx.live;
        for d in &diff.destructive {
            match d {
                Change::DropColumn { table, column } => {
                    let Some(old) = live.table(table).and_then(|t| t.column(column)) else {
                        continue;
                    };
                    for c in &diff.changes {
                        if let Change::AddColumn {
                            table: t,
                            column: new,
                        } = c
                            && t == table
                            && new.ty == old.ty
                        {
                            self.warnings.push(format!(
                                "{table}.{column} is dropped and {table}.{} added with the same type: \
                                 if it was renamed, write `alter {} {{ rename_column({}, {}); }}` \
                                 instead of the add and the drop, which keeps the values",
                                new.name,
                                name_literal(table),
                                name_literal(column),
                                name_literal(&new.name)
                            ));
                        }
                    }
                }
                Change::DropTable(name) => {
                    let Some(old) = live.table(name) else {
                        continue;
                    };
                    let shape = |t: &Table| -> Vec<(String, ColumnType)> {
                        t.columns
                            .iter()
                            .map(|c| (c.name.clone(), c.ty.clone()))
                            .collect()
                    };
                    for c in &diff.changes {
                        if let Change::CreateTable(new) = c
                            && shape(new) == shape(old)
                        {
                            self.warnings.push(format!(
                                "table {name} is dropped and table {} created with the same columns: \
                                 if it was renamed, write `rename {} to {};` instead, which keeps the rows",
                                new.name,
                                name_literal(name),
                                name_literal(&new.name)
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The shape of an entity's live table, when it had a history then: the
    /// columns it had (a role it lacked, soft deletes say, is simply absent).
    fn previous_shape(&self, shape: &EntityShape) -> Option<EntityShape> {
        use dal_schema::entity::ColumnRole;
        let live = self.ctx.live.table(&shape.table)?;
        self.ctx.live.table(&history_table_name(&shape.table))?;
        let mut old = shape.clone();
        old.columns.retain(|c| live.column(&c.name).is_some());
        // the triggers need the key and the audit columns
        let has = |role: ColumnRole| old.columns.iter().any(|c| c.role == role);
        let complete = [
            ColumnRole::Id,
            ColumnRole::ChangeStamp,
            ColumnRole::ChangedBy,
            ColumnRole::ChangeNote,
        ]
        .into_iter()
        .all(has);
        complete.then_some(old)
    }

    fn source(
        &self,
        name: &str,
        applied: &[&Change],
        skipped: &[String],
        up: &Body,
        down: &Body,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "// Migration {name}: generated by dal::autogen from the difference between"
        );
        let _ = writeln!(
            out,
            "// the application's blueprints and a {} database. Review it before applying it.",
            self.dialect_name()
        );
        if self.dialect_specific {
            let _ = writeln!(out, "//");
            let _ = writeln!(
                out,
                "// Some steps are raw {} SQL: this migration is for {} only.",
                self.dialect_name(),
                self.dialect_name()
            );
        }
        if !applied.is_empty() {
            let _ = writeln!(out, "//");
            let _ = writeln!(out, "// Changes:");
            for c in applied {
                let _ = writeln!(out, "//   - {c}");
            }
        }
        if !skipped.is_empty() {
            let _ = writeln!(out, "//");
            let _ = writeln!(
                out,
                "// Left out because they can lose data (generate with destructive changes to include them):"
            );
            for c in skipped {
                let _ = writeln!(out, "//   - {c}");
            }
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(out, "//");
            let _ = writeln!(out, "// To review:");
            for w in &self.warnings {
                let _ = writeln!(out, "//   - {w}");
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "/// The migration `{name}`.");
        let _ = writeln!(out, "pub fn migration() -> dal::migrate::Migration {{");
        if up.has_rebuild() || down.has_rebuild() {
            write_segments(&mut out, "up", up);
            write_segments(&mut out, "down", down);
            let _ = writeln!(
                out,
                "    dal::migrate::Migration::new({}, up).down(down)",
                string_literal(name)
            );
            let _ = writeln!(out, "}}");
            return out;
        }
        let _ = writeln!(out, "    dal::migrate::Migration::new(");
        let _ = writeln!(out, "        {},", string_literal(name));
        write_schema(&mut out, up, 8);
        let _ = writeln!(out, ",");
        let _ = writeln!(out, "    )");
        let _ = write!(out, "    .down(");
        write_schema(&mut out, down, 4);
        let _ = writeln!(out, ")");
        let _ = writeln!(out, "}}");
        out
    }

    // ------------------------------------------------------------ up

    fn up(&mut self, body: &mut Body, applied: &[&Change]) {
        // a foreign key added with its new column is written on the column
        let mut merged: HashSet<(String, String)> = HashSet::new();
        for change in applied {
            if let Change::AddForeignKey { table, foreign_key } = change
                && foreign_key.columns.len() == 1
                && applied.iter().any(|c| {
                    matches!(c, Change::AddColumn { table: t, column } if t == table && column.name == foreign_key.columns[0])
                })
            {
                merged.insert((table.clone(), foreign_key.name.clone()));
            }
        }
        for change in applied {
            match change {
                Change::CreateTable(t) => self.create(body, t),
                Change::DropTable(name) => body.drop(name),
                Change::AddColumn { table, column } => {
                    let fk = applied.iter().find_map(|c| match c {
                        Change::AddForeignKey {
                            table: t,
                            foreign_key,
                        } if t == table
                            && merged.contains(&(t.clone(), foreign_key.name.clone()))
                            && foreign_key.columns[0] == column.name =>
                        {
                            Some(foreign_key)
                        }
                        _ => None,
                    });
                    self.add_column(body, table, column, fk);
                }
                Change::AddForeignKey { table, foreign_key } => {
                    if merged.contains(&(table.clone(), foreign_key.name.clone())) {
                        continue;
                    }
                    self.raw(
                        body,
                        &format!("add foreign key {} on {table}", foreign_key.name),
                        DdlStatement::AddForeignKey {
                            table: table.clone(),
                            foreign_key: foreign_key.clone(),
                        },
                    );
                }
                Change::DropColumn { table, column } => {
                    body.alter(
                        table,
                        AlterItem::DropColumn {
                            column: Name::new(column),
                        },
                    );
                }
                Change::AlterColumn { table, from, to } => {
                    self.raw(
                        body,
                        &format!("{change}"),
                        DdlStatement::AlterColumn {
                            table: table.clone(),
                            from: from.clone(),
                            to: to.clone(),
                        },
                    );
                }
                Change::CreateIndex { table, index } => self.create_index(body, table, index),
                Change::DropIndex { table, name } => {
                    body.alter(
                        table,
                        AlterItem::DropIndex {
                            name: Name::new(name),
                        },
                    );
                }
                Change::DropForeignKey { table, name } => {
                    body.alter(
                        table,
                        AlterItem::DropForeign {
                            target: Name::string(name),
                        },
                    );
                }
                Change::AddCheck { table, check } => {
                    body.alter(table, add_check(check));
                }
                Change::DropCheck { table, name } => {
                    body.alter(
                        table,
                        AlterItem::DropCheck {
                            name: Name::new(name),
                        },
                    );
                }
                Change::RebuildTable { from, to } => {
                    self.rebuild(body, from, to, "into its new shape");
                }
            }
        }
    }

    /// A SQLite table rebuild, as a typed step (the runner turns foreign-key
    /// enforcement off around it; raw SQL would drop the table with foreign
    /// keys enforced, deleting or nulling the rows that reference it).
    fn rebuild(&mut self, body: &mut Body, from: &Table, to: &Table, what: &str) {
        let only_itself = |name: &str| name == to.name;
        match (
            table_items(from, &only_itself),
            table_items(to, &only_itself),
        ) {
            (Some(from_items), Some(to_items)) => {
                // what follows is another `schema!` invocation: the tables
                // created so far are not declared there
                body.created.clear();
                body.stmts.push(Stmt::Rebuild {
                    table: to.name.clone(),
                    from: from_items,
                    to: to_items,
                    comment: format!("rebuild table {} {what}", to.name),
                });
            }
            _ => {
                let referenced = self.ctx.live.tables.iter().any(|t| {
                    t.name != to.name
                        && t.foreign_keys.iter().any(|f| f.references_table == to.name)
                });
                if referenced {
                    self.warnings.push(format!(
                        "{} is rebuilt with raw SQL while other tables reference it: with foreign \
                         keys enforced, dropping it deletes or rejects the referencing rows",
                        to.name
                    ));
                }
                self.raw(
                    body,
                    &format!("rebuild table {} {what}", to.name),
                    DdlStatement::RebuildTable {
                        from: from.clone(),
                        to: to.clone(),
                    },
                );
            }
        }
    }

    fn create(&mut self, body: &mut Body, table: &Table) {
        let history = self.with_history.contains(&table.name);
        let plain;
        let table = if history {
            // `history()` adds the audit columns
            let mut t = table.clone();
            t.columns
                .retain(|c| !dal_schema::entity::is_audit_column(&c.name));
            plain = t;
            &plain
        } else {
            table
        };
        let declared = |name: &str| name == table.name || body.created.contains(name);
        match table_items(table, &declared) {
            Some(mut items) => {
                if history {
                    items.push(TableItem::History("history".into()));
                }
                body.stmts.push(Stmt::Schema(Statement::Create {
                    table: Name::new(&table.name),
                    items,
                }))
            }
            None => self.raw(
                body,
                &format!("create table {}", table.name),
                DdlStatement::CreateTable {
                    table: table.clone(),
                    if_not_exists: false,
                },
            ),
        }
        body.created.insert(table.name.clone());
    }

    fn add_column(
        &mut self,
        body: &mut Body,
        table: &str,
        column: &Column,
        fk: Option<&ForeignKey>,
    ) {
        let declared = |name: &str| body.created.contains(name);
        let expr = column_expr(table, column, fk, &declared, &ColumnKey::None);
        if !column.nullable && column.default.is_none() && !column.auto_increment {
            self.warnings.push(format!(
                "{table}.{} is added NOT NULL without a default: this fails when {table} has rows",
                column.name
            ));
        }
        match expr {
            Some(column) => body.alter(table, AlterItem::Add { column }),
            None => {
                let mut statement_column = column.clone();
                statement_column.unique = false;
                self.raw(
                    body,
                    &format!("add column {table}.{}", column.name),
                    DdlStatement::AddColumn {
                        table: table.to_string(),
                        column: statement_column,
                    },
                );
                if let Some(fk) = fk {
                    self.raw(
                        body,
                        &format!("add foreign key {} on {table}", fk.name),
                        DdlStatement::AddForeignKey {
                            table: table.to_string(),
                            foreign_key: fk.clone(),
                        },
                    );
                }
            }
        }
    }

    fn create_index(&mut self, body: &mut Body, table: &str, index: &Index) {
        let default_name = if index.unique {
            names::unique_index(table, &index.columns)
        } else {
            names::index(table, &index.columns)
        };
        if index.name == default_name {
            body.alter(
                table,
                AlterItem::AddIndex(IndexDef::new(index.unique, None, &index.columns)),
            );
        } else if !index.unique {
            body.alter(
                table,
                AlterItem::AddIndex(IndexDef::new(false, Some(&index.name), &index.columns)),
            );
        } else {
            // the grammar has no named unique index for an existing table
            self.raw(
                body,
                &format!("create unique index {} on {table}", index.name),
                DdlStatement::CreateIndex {
                    table: table.to_string(),
                    index: index.clone(),
                },
            );
        }
    }

    // ------------------------------------------------------------ down

    fn live_table(&self, name: &str) -> Option<&Table> {
        self.ctx.live.table(name)
    }

    fn down(&mut self, body: &mut Body, change: &Change) {
        match change {
            Change::CreateTable(t) => body.drop(&t.name),
            Change::DropTable(name) => match self.live_table(name).cloned() {
                Some(t) => {
                    // the tables it referenced may have been dropped by this
                    // migration too: they are re-created before it (reverse order)
                    self.create(body, &t);
                    self.warnings.push(format!(
                        "down re-creates table {name} empty: its rows are not restored"
                    ));
                }
                None => {
                    body.comment(format!(
                        "TODO: re-create table {name} (its definition is unknown)"
                    ));
                    self.warnings.push(format!(
                        "down cannot re-create table {name}: its definition is unknown"
                    ));
                }
            },
            Change::AddColumn { table, column } => {
                body.alter(
                    table,
                    AlterItem::DropColumn {
                        column: Name::new(&column.name),
                    },
                );
            }
            Change::DropColumn { table, column } => {
                let live = self
                    .live_table(table)
                    .and_then(|t| t.column(column))
                    .cloned();
                match live {
                    Some(mut c) => {
                        // its unique index and foreign keys have their own steps
                        c.unique = false;
                        self.warnings
                            .push(format!("down re-adds {table}.{column} without its values"));
                        self.add_column(body, table, &c, None);
                    }
                    None => {
                        body.comment(format!("TODO: re-add column {table}.{column}"));
                        self.warnings.push(format!(
                            "down cannot re-add {table}.{column}: its definition is unknown"
                        ));
                    }
                }
            }
            Change::AlterColumn { table, from, to } => {
                self.raw(
                    body,
                    &format!("alter column {table}.{} back", to.name),
                    DdlStatement::AlterColumn {
                        table: table.clone(),
                        from: to.clone(),
                        to: from.clone(),
                    },
                );
            }
            Change::CreateIndex { table, index } => {
                body.alter(
                    table,
                    AlterItem::DropIndex {
                        name: Name::new(&index.name),
                    },
                );
            }
            Change::DropIndex { table, name } => {
                let live = self
                    .live_table(table)
                    .and_then(|t| t.all_indexes().into_iter().find(|i| &i.name == name));
                match live {
                    Some(index) => self.create_index(body, table, &index),
                    None => {
                        body.comment(format!("TODO: re-create index {name} on {table}"));
                        self.warnings.push(format!(
                            "down cannot re-create index {name} on {table}: its definition is unknown"
                        ));
                    }
                }
            }
            Change::AddForeignKey { table, foreign_key } => {
                // before its column goes (MySQL refuses to drop a column a key uses)
                body.alter(
                    table,
                    AlterItem::DropForeign {
                        target: Name::string(&foreign_key.name),
                    },
                );
            }
            Change::DropForeignKey { table, name } => {
                let live = self
                    .live_table(table)
                    .and_then(|t| t.foreign_keys.iter().find(|f| &f.name == name))
                    .cloned();
                match live {
                    Some(fk) => self.raw(
                        body,
                        &format!("add foreign key {name} on {table} back"),
                        DdlStatement::AddForeignKey {
                            table: table.clone(),
                            foreign_key: fk,
                        },
                    ),
                    None => {
                        body.comment(format!("TODO: re-add foreign key {name} on {table}"));
                        self.warnings.push(format!(
                            "down cannot re-add foreign key {name} on {table}: its definition is unknown"
                        ));
                    }
                }
            }
            Change::AddCheck { table, check } => {
                body.alter(
                    table,
                    AlterItem::DropCheck {
                        name: Name::new(&check.name),
                    },
                );
            }
            Change::DropCheck { table, name } => {
                let live = self
                    .live_table(table)
                    .and_then(|t| t.checks.iter().find(|c| &c.name == name))
                    .cloned();
                match live {
                    Some(check) => body.alter(table, add_check(&check)),
                    None => {
                        body.comment(format!("TODO: re-add check {name} on {table}"));
                        self.warnings.push(format!(
                            "down cannot re-add check {name} on {table}: its definition is unknown"
                        ));
                    }
                }
            }
            Change::RebuildTable { from, to } => {
                self.rebuild(body, to, from, "into its previous shape");
            }
        }
    }
}

/// `let mut {var} = Script::new();` followed by one `extend` per run of
/// statements and per typed rebuild.
fn write_segments(out: &mut String, var: &str, body: &Body) {
    let _ = writeln!(out, "    let mut {var} = dal::schema::Script::new();");
    let mut run = Body::default();
    let flush = |out: &mut String, run: &mut Body| {
        if run.stmts.is_empty() {
            return;
        }
        let _ = write!(out, "    {var}.extend(");
        write_schema(out, run, 4);
        let _ = writeln!(out, ");");
        run.stmts.clear();
    };
    for stmt in &body.stmts {
        let Stmt::Rebuild {
            table,
            from,
            to,
            comment,
        } = stmt
        else {
            run.stmts.push(stmt.clone());
            continue;
        };
        flush(out, &mut run);
        let _ = writeln!(out, "    // {comment}");
        let _ = writeln!(out, "    {var}.extend(dal::autogen::rebuild(");
        for items in [from, to] {
            let shape = Body {
                stmts: vec![Stmt::Schema(Statement::Create {
                    table: Name::new(table),
                    items: items.clone(),
                })],
                created: HashSet::new(),
            };
            write_schema(out, &shape, 8);
            let _ = writeln!(out, ",");
        }
        let _ = writeln!(out, "    ));");
    }
    flush(out, &mut run);
}

/// `dal::schema! { .. }` with its closing brace at `indent`; the opening line
/// is indented too when it starts a line (it follows `.down(` otherwise).
fn write_schema(out: &mut String, body: &Body, indent: usize) {
    if out.ends_with('\n') {
        out.push_str(&" ".repeat(indent));
    }
    if body.stmts.is_empty() {
        out.push_str("dal::schema! {}");
        return;
    }
    out.push_str("dal::schema! {\n");
    body.write(out, indent + 4);
    out.push_str(&" ".repeat(indent));
    out.push('}');
}

// ---------------------------------------------------------------- grammar pieces

/// How a column takes part in the primary key, for [`column_expr`].
enum ColumnKey {
    /// Not a (single-column) key.
    None,
    /// The table's single-column primary key, written with `.primary()`.
    Primary,
}

/// The table items of `create <table> { ... }`, or `None` when the grammar
/// cannot express the table (a composite foreign key, an expression default).
fn table_items(table: &Table, declared: &dyn Fn(&str) -> bool) -> Option<Vec<TableItem>> {
    // foreign keys are written on their (single) column
    let mut fk_of: Vec<Option<&ForeignKey>> = vec![None; table.columns.len()];
    for fk in &table.foreign_keys {
        if fk.columns.len() != 1 || fk.references_columns.len() != 1 {
            return None;
        }
        let i = table.columns.iter().position(|c| c.name == fk.columns[0])?;
        if fk_of[i].is_some() {
            return None;
        }
        fk_of[i] = Some(fk);
    }
    // single-column unique indexes with dal's name are the `.unique()` flag
    let mut unique: Vec<bool> = table.columns.iter().map(|c| c.unique).collect();
    let mut indexes = Vec::new();
    for idx in &table.indexes {
        if idx.unique
            && idx.columns.len() == 1
            && idx.name == names::unique_index(&table.name, &idx.columns)
            && let Some(i) = table.columns.iter().position(|c| c.name == idx.columns[0])
        {
            unique[i] = true;
            continue;
        }
        indexes.push(idx);
    }
    for name in &table.primary_key {
        table.column(name)?;
    }
    let single_pk = (table.primary_key.len() == 1).then(|| table.primary_key[0].as_str());

    let mut items = Vec::new();
    let mut i = 0;
    while i < table.columns.len() {
        let c = &table.columns[i];
        let plain = |j: usize| {
            fk_of[j].is_none() && !unique[j] && single_pk != Some(&table.columns[j].name)
        };
        // timestamps(): created_at and updated_at, non-null instants defaulting to now
        if c.name == "created_at"
            && i + 1 < table.columns.len()
            && table.columns[i + 1].name == "updated_at"
            && is_timestamp_column(c)
            && is_timestamp_column(&table.columns[i + 1])
            && plain(i)
            && plain(i + 1)
        {
            items.push(TableItem::Timestamps("timestamps".into()));
            i += 2;
            continue;
        }
        // soft_deletes(): a nullable instant without default
        if c.name == "deleted_at"
            && c.ty == ColumnType::TimestampTz
            && c.nullable
            && c.default.is_none()
            && !c.auto_increment
            && plain(i)
        {
            items.push(TableItem::SoftDeletes("soft_deletes".into()));
            i += 1;
            continue;
        }
        let mut column = c.clone();
        column.unique = unique[i];
        let key = if single_pk == Some(c.name.as_str()) {
            ColumnKey::Primary
        } else {
            ColumnKey::None
        };
        items.push(TableItem::Column(column_expr(
            &table.name,
            &column,
            fk_of[i],
            declared,
            &key,
        )?));
        i += 1;
    }
    if table.primary_key.len() > 1 {
        items.push(TableItem::Primary {
            keyword: "primary".into(),
            columns: table.primary_key.iter().map(|c| Name::new(c)).collect(),
        });
    }
    for idx in indexes {
        let default_name = if idx.unique {
            names::unique_index(&table.name, &idx.columns)
        } else {
            names::index(&table.name, &idx.columns)
        };
        let name = (idx.name != default_name).then_some(idx.name.as_str());
        items.push(TableItem::Index(IndexDef::new(
            idx.unique,
            name,
            &idx.columns,
        )));
    }
    for check in &table.checks {
        let name = (check.name != names::check(&table.name, &check.expression))
            .then(|| Str::from(check.name.as_str()));
        items.push(TableItem::Check {
            name,
            expression: Str::from(check.expression.as_str()),
        });
    }
    if table.without_rowid {
        items.push(TableItem::WithoutRowid("without_rowid".into()));
    }
    Some(items)
}

/// `add_check("name", "expression")`.
fn add_check(check: &dal_schema::Check) -> AlterItem {
    AlterItem::AddCheck {
        name: Str::from(check.name.as_str()),
        expression: Str::from(check.expression.as_str()),
    }
}

fn is_timestamp_column(c: &Column) -> bool {
    c.ty == ColumnType::TimestampTz
        && !c.nullable
        && c.default == Some(DefaultValue::CurrentTimestamp)
        && !c.auto_increment
}

/// A column definition with its modifiers (`string(email, 150).unique()`), or
/// `None` when the grammar cannot express it.
fn column_expr(
    table: &str,
    c: &Column,
    fk: Option<&ForeignKey>,
    declared: &dyn Fn(&str) -> bool,
    key: &ColumnKey,
) -> Option<ColumnDef> {
    let name = || Some(Name::new(&c.name));
    // `id()` / `uuid_id()` name the column `id` unless told otherwise
    let key_name = || (c.name != "id").then(|| Name::new(&c.name));
    let primary = matches!(key, ColumnKey::Primary);
    let mut primary_written = false;
    let mut auto_written = false;
    let simple = |kind: &str| ColumnDef::new(kind, name(), Vec::new());
    let mut out = match &c.ty {
        ColumnType::BigInteger if primary && c.auto_increment && fk.is_none() => {
            primary_written = true;
            auto_written = true;
            ColumnDef::new("id", key_name(), Vec::new())
        }
        ColumnType::Uuid if primary && !c.auto_increment && fk.is_none() => {
            primary_written = true;
            ColumnDef::new("uuid_id", key_name(), Vec::new())
        }
        ColumnType::BigInteger if fk.is_some() => simple("foreign_id"),
        ColumnType::Uuid if fk.is_some() => simple("foreign_uuid"),
        ColumnType::SmallInteger => simple("small_integer"),
        ColumnType::Integer => simple("integer"),
        ColumnType::BigInteger => simple("big_integer"),
        ColumnType::UnsignedInteger => simple("unsigned_integer"),
        ColumnType::UnsignedBigInteger => simple("unsigned_big_integer"),
        ColumnType::Boolean => simple("boolean"),
        ColumnType::Float => simple("float"),
        ColumnType::Double => simple("double"),
        ColumnType::Decimal { precision, scale } => ColumnDef::new(
            "decimal",
            name(),
            vec![Arg::int((*precision).into()), Arg::int((*scale).into())],
        ),
        ColumnType::String { length } => {
            ColumnDef::new("string", name(), vec![Arg::int((*length).into())])
        }
        ColumnType::Text => simple("text"),
        ColumnType::Date => simple("date"),
        ColumnType::Time => simple("time"),
        ColumnType::Timestamp => simple("timestamp"),
        ColumnType::TimestampTz => simple("timestamp_tz"),
        ColumnType::Uuid => simple("uuid"),
        ColumnType::Json => simple("json"),
        ColumnType::Binary => simple("binary"),
        ColumnType::Enumeration { variants } => ColumnDef::new(
            "enumeration",
            name(),
            vec![Arg::list(variants.iter().map(|v| Arg::string(v)).collect())],
        ),
        ColumnType::Array { element } => {
            ColumnDef::new("array", name(), array_element_args(element)?)
        }
    };
    if c.nullable {
        out = out.with("nullable", Vec::new());
    }
    if let Some(d) = &c.default
        && let Some(m) = default_modifier(&c.ty, d)?
    {
        out.modifiers.push(m);
    }
    if c.unique {
        out = out.with("unique", Vec::new());
    }
    if c.auto_increment && !auto_written {
        out = out.with("auto_increment", Vec::new());
    }
    if primary && !primary_written {
        out = out.with("primary", Vec::new());
    }
    if let Some(fk) = fk {
        if fk.references_columns.len() != 1 {
            return None;
        }
        let target = &fk.references_columns[0];
        let mut references = vec![Arg::name(&fk.references_table)];
        if target != "id" {
            references.push(Arg::name(target));
        }
        out = out.with("references", references);
        if fk.on_delete != ReferentialAction::NoAction {
            out = out.with("on_delete", vec![Arg::ident(action(fk.on_delete))]);
        }
        if fk.on_update != ReferentialAction::NoAction {
            out = out.with("on_update", vec![Arg::ident(action(fk.on_update))]);
        }
        if fk.name != names::foreign_key(table, std::slice::from_ref(&c.name)) {
            out = out.with("named", vec![Arg::string(&fk.name)]);
        }
        if !declared(&fk.references_table) {
            out = out.with("external", Vec::new());
        }
    }
    Some(out)
}

/// `.default(..)` / `.use_current()`; `Some(None)` writes nothing (`NULL` is
/// no default), `None` when the grammar has no way to say it.
fn default_modifier(ty: &ColumnType, d: &DefaultValue) -> Option<Option<Modifier>> {
    let fractional = matches!(
        ty,
        ColumnType::Float | ColumnType::Double | ColumnType::Decimal { .. }
    );
    let value = match d {
        DefaultValue::Null => return Some(None),
        DefaultValue::Bool(b) => Arg::bool(*b),
        DefaultValue::Integer(i) if fractional => Arg::float(&format!("{i}.0")),
        DefaultValue::Integer(i) => Arg::int((*i).into()),
        DefaultValue::Float(f) => {
            if !f.is_finite() {
                return None;
            }
            Arg::float(&float_literal(*f))
        }
        DefaultValue::String(s) => Arg::string(s),
        DefaultValue::CurrentTimestamp if *ty != ColumnType::Date => {
            return Some(Some(Modifier::new("use_current", Vec::new())));
        }
        DefaultValue::CurrentDate if *ty == ColumnType::Date => {
            return Some(Some(Modifier::new("use_current", Vec::new())));
        }
        DefaultValue::CurrentTimestamp
        | DefaultValue::CurrentDate
        | DefaultValue::Expression(_) => {
            return None;
        }
    };
    Some(Some(Modifier::new("default", vec![value])))
}

fn action(a: ReferentialAction) -> &'static str {
    match a {
        ReferentialAction::NoAction => "no_action",
        ReferentialAction::Restrict => "restrict",
        ReferentialAction::Cascade => "cascade",
        ReferentialAction::SetNull => "set_null",
        ReferentialAction::SetDefault => "set_default",
    }
}

/// How `schema!` writes an array's element type: `text`, `big_integer`,
/// `string, 40`, `decimal, 10, 2` (the arguments after the column's name).
/// `None` for an element the grammar does not take (validation refuses it).
fn array_element_args(element: &ColumnType) -> Option<Vec<Arg>> {
    if !element.is_array_element() {
        return None;
    }
    // the builder's name with its arguments: `decimal(10, 2)` -> `decimal, 10, 2`
    let builder = element.builder_name();
    let (kind, args) = builder.split_once('(').unwrap_or((builder.as_str(), ")"));
    let mut out = vec![Arg::ident(kind)];
    for a in args.trim_end_matches(')').split(',').map(str::trim) {
        if !a.is_empty() {
            out.push(Arg::int(a.parse().ok()?));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
