//! The renderer: a [`SchemaDiff`] walked into the `up` and `down` bodies of a
//! migration (typed `schema!` statements where the grammar can say the change,
//! raw SQL of the diffed database where it cannot, history triggers, rename
//! hints and warnings) and the source file around them.

use std::collections::HashSet;
use std::fmt::Write as _;

use dal_schema::ddl::DdlStatement;
use dal_schema::dsl::{
    self, AlterItem, HistoryAction, IndexDef, Name, Statement, TableItem, name_literal,
    string_literal,
};
use dal_schema::entity::{
    EntityShape, drop_history_triggers, history_table_name, history_triggers,
};
use dal_schema::model::names;
use dal_schema::{Change, Column, ColumnType, Dialect, ForeignKey, Index, SchemaDiff, Table};

use super::body::{Body, Stmt, write_schema, write_segments};
use super::output::{Generated, RenderContext};

impl Generated {
    /// Render a migration from a diff; [`render`](super::render) returns only its source.
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

pub(super) struct Renderer<'a> {
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
    pub(super) fn new(ctx: &'a RenderContext) -> Self {
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

    pub(super) fn run(mut self, diff: &SchemaDiff, name: &str) -> Generated {
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
                    body.alter(table, dsl::add_check(check));
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
            dsl::table_items(from, &only_itself),
            dsl::table_items(to, &only_itself),
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
        match dsl::table_items(table, &declared) {
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
        let expr = dsl::column_def(table, column, fk, &declared, false);
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
                    Some(check) => body.alter(table, dsl::add_check(&check)),
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
