//! Schema scripts: an ordered list of schema changes, independent of dialect.
//!
//! A [`Script`] is what the `schema!` macro produces and what a migration's
//! `up` and `down` return. Each step is a typed [`DdlStatement`] or a raw
//! statement in portable SQL (`[name]` quoting, no parameters).
//!
//! ```
//! use dal_schema::{Dialect, Table};
//! use dal_schema::script::Script;
//!
//! let mut script = Script::new();
//! script.create_table(Table::build("users", |t| {
//!     t.id();
//!     t.string("email", 150).unique();
//! }));
//! script.sql("INSERT INTO [users] ([email]) VALUES ('root@example.com')");
//! let sql = script.to_sql(Dialect::Postgres).unwrap();
//! assert_eq!(sql.len(), 3); // CREATE TABLE, CREATE UNIQUE INDEX, INSERT
//! assert!(sql[2].starts_with("INSERT INTO \"users\""));
//! ```

use std::collections::HashSet;
use std::fmt;

use crate::builder::TableBuilder;
use crate::ddl::{DdlError, DdlStatement};
use crate::dialect::Dialect;
use crate::entity::{
    audit_columns, drop_history_triggers, history_table_name, history_triggers, is_audit_column,
    table_history_shape,
};
use crate::model::{Schema, Table};
use crate::sql::{TranslateError, translate};

/// One step of a [`Script`].
// A script holds a handful of steps, built once: boxing the large variant would
// only make matching on `Step::Ddl(DdlStatement::..)` clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A typed schema change, written for each dialect by [`DdlStatement::to_sql`].
    Ddl(DdlStatement),
    /// A raw statement in portable SQL, translated for each dialect; it takes
    /// no parameters (`?` is rejected: write values as literals).
    Sql(String),
    /// History on a table: its audit columns, its history table and the
    /// triggers that fill it, written for the dialect from the table's columns
    /// when the script is run (see [`HistoryStep`]).
    History(HistoryStep),
}

/// What a [`HistoryStep`] does to its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryAction {
    /// Keep every version of the table's rows: add the hidden audit columns
    /// the table lacks ([`crate::entity::audit_columns`]), create the history
    /// table ([`crate::entity::history_table`]) and the triggers
    /// ([`crate::entity::history_triggers`]). What `schema!` writes for
    /// `history()` in a `create` and `add_history()` in an `alter`.
    Add,
    /// After the table's columns changed: add the history table the columns
    /// it lacks and write the triggers again (they list the columns). The
    /// triggers are removed before the script's first change of the table,
    /// so a column the triggers name can be dropped or renamed on every
    /// dialect. `refresh_history()` in an `alter`.
    Refresh,
    /// Stop keeping versions: remove the triggers (and PostgreSQL's trigger
    /// function), drop the history table and the audit columns.
    /// `drop_history()` in an `alter`.
    Drop,
}

/// History added to, refreshed on or removed from a table, written for each
/// dialect at run time from the table's columns: the columns the script
/// itself created or changed, those of earlier migrations, or the live
/// table's (a [`Migrator`](../../dal/migrate/struct.Migrator.html) reads the
/// live schema before it runs).
///
/// ```
/// use dal_schema::{Dialect, Table};
/// use dal_schema::script::Script;
///
/// let mut script = Script::new();
/// script.create_table_with_history(Table::build("tasks", |t| {
///     t.id();
///     t.string("title", 200);
/// }));
/// let sql = script.to_sql(Dialect::Sqlite).unwrap();
/// assert!(sql[0].contains("\"dal_change_stamp\" BIGINT"));
/// assert!(sql[1].starts_with("CREATE TABLE \"tasks_history\""));
/// assert!(sql.iter().any(|s| s.starts_with("CREATE TRIGGER \"tasks_dal_history_insert\"")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistoryStep {
    /// The table that keeps (or stops keeping) a history.
    pub table: String,
    /// What happens.
    pub action: HistoryAction,
}

/// Why a [`Script`] cannot be written for a dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptError {
    /// A typed step the dialect cannot express.
    Ddl {
        /// The step's position (0-based).
        step: usize,
        /// Why.
        error: DdlError,
    },
    /// A raw step that is not valid portable SQL, or has parameters.
    Sql {
        /// The step's position (0-based).
        step: usize,
        /// Why.
        reason: String,
    },
    /// A history step whose table is unknown at that point, or has no
    /// one-column primary key, or no history to refresh.
    History {
        /// The step's position (0-based).
        step: usize,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScriptError::Ddl { step, error } => write!(f, "step {}: {error}", step + 1),
            ScriptError::Sql { step, reason } | ScriptError::History { step, reason } => {
                write!(f, "step {}: {reason}", step + 1)
            }
        }
    }
}

impl std::error::Error for ScriptError {}

/// An ordered list of schema changes. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    steps: Vec<Step>,
}

impl Script {
    /// An empty script.
    pub fn new() -> Script {
        Script::default()
    }

    /// A script of these steps.
    pub fn from_steps(steps: Vec<Step>) -> Script {
        Script { steps }
    }

    /// Append a typed change.
    pub fn push(&mut self, statement: DdlStatement) -> &mut Self {
        self.steps.push(Step::Ddl(statement));
        self
    }

    /// Append `CREATE TABLE` (with the table's indexes).
    pub fn create_table(&mut self, table: Table) -> &mut Self {
        self.push(DdlStatement::CreateTable {
            table,
            if_not_exists: false,
        })
    }

    /// Append `CREATE TABLE` of `table` with the hidden audit columns of
    /// history appended, then its history table and triggers
    /// ([`HistoryAction::Add`]): the tables `Entity::ensure_schema` makes for
    /// an entity with `history`. What `schema!` writes for a `create` with
    /// `history()`.
    pub fn create_table_with_history(&mut self, mut table: Table) -> &mut Self {
        for column in crate::entity::audit_column_defs() {
            if table.column(&column.name).is_none() {
                table.columns.push(column);
            }
        }
        let name = table.name.clone();
        self.create_table(table);
        self.add_history(&name)
    }

    /// Append [`HistoryAction::Add`] on the existing table `table`.
    pub fn add_history(&mut self, table: &str) -> &mut Self {
        self.history(table, HistoryAction::Add)
    }

    /// Append [`HistoryAction::Refresh`] on `table`.
    pub fn refresh_history(&mut self, table: &str) -> &mut Self {
        self.history(table, HistoryAction::Refresh)
    }

    /// Append [`HistoryAction::Drop`] on `table`.
    pub fn drop_history(&mut self, table: &str) -> &mut Self {
        self.history(table, HistoryAction::Drop)
    }

    fn history(&mut self, table: &str, action: HistoryAction) -> &mut Self {
        self.steps.push(Step::History(HistoryStep {
            table: table.to_string(),
            action,
        }));
        self
    }

    /// Append a raw statement in portable SQL.
    pub fn sql(&mut self, sql: impl Into<String>) -> &mut Self {
        self.steps.push(Step::Sql(sql.into()));
        self
    }

    /// Append every step of `other`.
    pub fn extend(&mut self, other: Script) -> &mut Self {
        self.steps.extend(other.steps);
        self
    }

    /// Append `DROP TABLE name`.
    pub fn drop_table(&mut self, name: &str) -> &mut Self {
        self.push(DdlStatement::DropTable {
            name: name.to_string(),
            if_exists: false,
        })
    }

    /// Append `DROP TABLE IF EXISTS name`.
    pub fn drop_table_if_exists(&mut self, name: &str) -> &mut Self {
        self.push(DdlStatement::DropTable {
            name: name.to_string(),
            if_exists: true,
        })
    }

    /// Append a table rename.
    pub fn rename_table(&mut self, from: &str, to: &str) -> &mut Self {
        self.push(DdlStatement::RenameTable {
            from: from.to_string(),
            to: to.to_string(),
        })
    }

    /// Append additions to the existing table `table`, described with the
    /// fluent builder as if creating it: one `AddColumn` per column, then one
    /// `CreateIndex` per index, `AddForeignKey` per foreign key and `AddCheck`
    /// per check, so generated names are the ones a `CREATE TABLE` would give.
    /// A primary key or `without_rowid` set in `f` is ignored (neither can be
    /// added to an existing table).
    ///
    /// ```
    /// use dal_schema::ddl::DdlStatement;
    /// use dal_schema::script::{Script, Step};
    ///
    /// let mut script = Script::new();
    /// script.add_to_table("users", |t| {
    ///     t.string("nick", 40).nullable().index();
    /// });
    /// assert!(matches!(&script.steps()[0], Step::Ddl(DdlStatement::AddColumn { table, .. }) if table == "users"));
    /// assert!(matches!(&script.steps()[1], Step::Ddl(DdlStatement::CreateIndex { index, .. })
    ///     if index.name == "users_nick_index"));
    /// ```
    pub fn add_to_table(&mut self, table: &str, f: impl FnOnce(&mut TableBuilder)) -> &mut Self {
        let mut builder = TableBuilder::new(table);
        f(&mut builder);
        let added = builder.finish();
        for column in added.columns {
            self.push(DdlStatement::AddColumn {
                table: table.to_string(),
                column,
            });
        }
        for index in added.indexes {
            self.push(DdlStatement::CreateIndex {
                table: table.to_string(),
                index,
            });
        }
        for foreign_key in added.foreign_keys {
            self.push(DdlStatement::AddForeignKey {
                table: table.to_string(),
                foreign_key,
            });
        }
        for check in added.checks {
            self.push(DdlStatement::AddCheck {
                table: table.to_string(),
                check,
            });
        }
        self
    }

    /// Append a column drop.
    pub fn drop_column(&mut self, table: &str, column: &str) -> &mut Self {
        self.push(DdlStatement::DropColumn {
            table: table.to_string(),
            column: column.to_string(),
        })
    }

    /// Append a column rename.
    pub fn rename_column(&mut self, table: &str, from: &str, to: &str) -> &mut Self {
        self.push(DdlStatement::RenameColumn {
            table: table.to_string(),
            from: from.to_string(),
            to: to.to_string(),
        })
    }

    /// Append `DROP INDEX` of the index called `name` on `table`.
    pub fn drop_index(&mut self, table: &str, name: &str) -> &mut Self {
        self.push(DdlStatement::DropIndex {
            table: table.to_string(),
            name: name.to_string(),
        })
    }

    /// Append the drop of the CHECK constraint called `name`.
    pub fn drop_check(&mut self, table: &str, name: &str) -> &mut Self {
        self.push(DdlStatement::DropCheck {
            table: table.to_string(),
            name: name.to_string(),
        })
    }

    /// Append the drop of the foreign key called `name` (the default name of
    /// the key on column `c` is `names::foreign_key(table, [c])`:
    /// `{table}_{c}_foreign`).
    pub fn drop_foreign(&mut self, table: &str, name: &str) -> &mut Self {
        self.push(DdlStatement::DropForeignKey {
            table: table.to_string(),
            name: name.to_string(),
        })
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Take the steps.
    pub fn into_steps(self) -> Vec<Step> {
        self.steps
    }

    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// The SQL statements of every step for `dialect`, in order (one step may
    /// need several statements). History steps read their table's columns from
    /// the steps before them: use [`Script::to_sql_with`] for a script that
    /// changes tables it does not create.
    pub fn to_sql(&self, dialect: Dialect) -> Result<Vec<String>, ScriptError> {
        self.to_sql_with(dialect, &Schema::new())
    }

    /// [`Script::to_sql`] on a database whose tables are `live` before the
    /// script runs (history steps read their table's columns from it, as
    /// changed by the steps before them).
    pub fn to_sql_with(&self, dialect: Dialect, live: &Schema) -> Result<Vec<String>, ScriptError> {
        let mut model = live.clone();
        Ok(self
            .to_sql_by_step_with(dialect, &mut model)?
            .into_iter()
            .flatten()
            .collect())
    }

    /// The SQL of each step separately for `dialect` (a migration runner
    /// applies and reports step by step).
    pub fn to_sql_by_step(&self, dialect: Dialect) -> Result<Vec<Vec<String>>, ScriptError> {
        self.to_sql_by_step_with(dialect, &mut Schema::new())
    }

    /// [`Script::to_sql_by_step`] on a database whose tables are `model`
    /// before the script runs; `model` is left as the script leaves the tables
    /// (as far as typed steps tell: raw SQL steps are not followed), so the
    /// next script can be written from it.
    pub fn to_sql_by_step_with(
        &self,
        dialect: Dialect,
        model: &mut Schema,
    ) -> Result<Vec<Vec<String>>, ScriptError> {
        // tables whose triggers a later refresh rewrites: remove the triggers
        // before the first change of the table, since SQLite refuses to drop a
        // column a trigger names
        let mut refresh_after: Vec<HashSet<&str>> = vec![HashSet::new(); self.steps.len() + 1];
        for i in (0..self.steps.len()).rev() {
            let mut later = refresh_after[i + 1].clone();
            if let Step::History(h) = &self.steps[i]
                && h.action == HistoryAction::Refresh
            {
                later.insert(h.table.as_str());
            }
            refresh_after[i] = later;
        }
        let mut paused: HashSet<String> = HashSet::new();
        let mut out = Vec::with_capacity(self.steps.len());
        for (i, step) in self.steps.iter().enumerate() {
            let mut sql = Vec::new();
            if let Some(table) = step_table(step)
                && refresh_after[i + 1].contains(table)
                && !paused.contains(table)
                && model
                    .table(table)
                    .is_some_and(|t| t.column(audit_columns::STAMP).is_some())
            {
                sql.extend(drop_history_triggers(table, dialect));
                paused.insert(table.to_string());
            }
            sql.extend(step_sql(i, step, dialect, model)?);
            if let Step::History(h) = step {
                paused.remove(&h.table);
            }
            apply(model, step);
            out.push(sql);
        }
        Ok(out)
    }

    /// What a migration's checksum hashes: the SQL of every step for
    /// `dialect`, except that a history step is one line naming what it does
    /// (its SQL depends on the table's columns when it runs, and on the
    /// triggers dal writes, neither of which changes the migration).
    pub fn fingerprint(&self, dialect: Dialect) -> Result<Vec<String>, ScriptError> {
        let mut out = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                Step::History(h) => out.push(format!(
                    "-- dal history: {} {}",
                    match h.action {
                        HistoryAction::Add => "add",
                        HistoryAction::Refresh => "refresh",
                        HistoryAction::Drop => "drop",
                    },
                    h.table
                )),
                other => out.extend(
                    step_sql(i, other, dialect, &Schema::new())?
                        .into_iter()
                        .map(|sql| fingerprint_form(sql, dialect)),
                ),
            }
        }
        Ok(out)
    }
}

/// A statement as the checksum sees it: the MySQL table options dal writes
/// by default (`COLLATE=utf8mb4_bin`, written since dal made the collation
/// explicit) are left out, so that migrations applied before keep their
/// checksums; a collation chosen for the table still counts.
fn fingerprint_form(sql: String, dialect: Dialect) -> String {
    if dialect != Dialect::MySql {
        return sql;
    }
    let default = format!(
        " DEFAULT CHARSET=utf8mb4 COLLATE={}",
        crate::model::DEFAULT_MYSQL_COLLATION
    );
    match sql.strip_suffix(default.as_str()) {
        Some(head) => format!("{head} DEFAULT CHARSET=utf8mb4"),
        None => sql,
    }
}

/// The table a step changes (history steps: their table).
fn step_table(step: &Step) -> Option<&str> {
    match step {
        Step::Ddl(d) => ddl_table(d),
        Step::Sql(_) => None,
        Step::History(h) => Some(h.table.as_str()),
    }
}

fn ddl_table(d: &DdlStatement) -> Option<&str> {
    Some(match d {
        DdlStatement::CreateTable { table, .. } => &table.name,
        DdlStatement::DropTable { name, .. } => name,
        DdlStatement::RenameTable { from, .. } => from,
        DdlStatement::AddColumn { table, .. }
        | DdlStatement::DropColumn { table, .. }
        | DdlStatement::RenameColumn { table, .. }
        | DdlStatement::AlterColumn { table, .. }
        | DdlStatement::CreateIndex { table, .. }
        | DdlStatement::DropIndex { table, .. }
        | DdlStatement::AddForeignKey { table, .. }
        | DdlStatement::DropForeignKey { table, .. }
        | DdlStatement::AddCheck { table, .. }
        | DdlStatement::DropCheck { table, .. } => table,
        DdlStatement::RebuildTable { to, .. } => &to.name,
        _ => return None,
    })
}

/// Follow a step's effect on the tables (raw SQL is not followed).
fn apply(model: &mut Schema, step: &Step) {
    fn table_mut<'m>(model: &'m mut Schema, name: &str) -> Option<&'m mut Table> {
        model.tables.iter_mut().find(|t| t.name == name)
    }
    match step {
        Step::Sql(_) => {}
        Step::Ddl(d) => model.apply(d),
        Step::History(h) => {
            let hname = history_table_name(&h.table);
            match h.action {
                HistoryAction::Add | HistoryAction::Refresh => {
                    let Some(t) = table_mut(model, &h.table) else {
                        return;
                    };
                    for c in crate::entity::audit_column_defs() {
                        if t.column(&c.name).is_none() {
                            t.columns.push(c);
                        }
                    }
                    let t = t.clone();
                    let Some(want) = t
                        .primary_key
                        .first()
                        .map(|id| crate::entity::history_table(&t, id))
                    else {
                        return;
                    };
                    match table_mut(model, &hname) {
                        Some(have) => {
                            for c in want.columns {
                                if have.column(&c.name).is_none() {
                                    have.columns.push(c);
                                }
                            }
                        }
                        None => model.tables.push(want),
                    }
                }
                HistoryAction::Drop => {
                    model.tables.retain(|t| t.name != hname);
                    if let Some(t) = table_mut(model, &h.table) {
                        t.columns.retain(|c| !is_audit_column(&c.name));
                    }
                }
            }
        }
    }
}

fn history_sql(h: &HistoryStep, dialect: Dialect, model: &Schema) -> Result<Vec<DdlOrSql>, String> {
    let name = h.table.as_str();
    let hname = history_table_name(name);
    let mut out = Vec::new();
    if h.action == HistoryAction::Drop {
        out.extend(
            drop_history_triggers(name, dialect)
                .into_iter()
                .map(DdlOrSql::Sql),
        );
        out.push(DdlOrSql::Ddl(DdlStatement::DropTable {
            name: hname,
            if_exists: true,
        }));
        for c in crate::entity::audit_column_defs() {
            // a table the script cannot see is taken to have all three
            if model
                .table(name)
                .is_none_or(|t| t.column(&c.name).is_some())
            {
                out.push(DdlOrSql::Ddl(DdlStatement::DropColumn {
                    table: name.to_string(),
                    column: c.name,
                }));
            }
        }
        return Ok(out);
    }
    let Some(table) = model.table(name) else {
        return Err(format!(
            "cannot write the history of table `{name}`: its columns are unknown here (it is not \
             created by an earlier step or migration, nor found in the database)"
        ));
    };
    let mut table = table.clone();
    let key = table.primary_key.clone();
    let [shape_id] = key.as_slice() else {
        return Err(format!(
            "table `{name}` needs a one-column primary key to keep a history (its rows' versions are \
             keyed by it)"
        ));
    };
    match h.action {
        HistoryAction::Add => {
            for c in crate::entity::audit_column_defs() {
                if table.column(&c.name).is_none() {
                    table.columns.push(c.clone());
                    out.push(DdlOrSql::Ddl(DdlStatement::AddColumn {
                        table: name.to_string(),
                        column: c,
                    }));
                }
            }
            if model.table(&hname).is_some() {
                return Err(format!(
                    "table `{name}` already has a history table, `{hname}`: to write its triggers \
                     again after changing its columns, use `refresh_history()`"
                ));
            }
            out.push(DdlOrSql::Ddl(DdlStatement::CreateTable {
                table: crate::entity::history_table(&table, shape_id),
                if_not_exists: false,
            }));
        }
        HistoryAction::Refresh => {
            let missing: Vec<&str> = [
                audit_columns::STAMP,
                audit_columns::ACTOR,
                audit_columns::NOTE,
            ]
            .into_iter()
            .filter(|c| table.column(c).is_none())
            .collect();
            let Some(have) = model.table(&hname).filter(|_| missing.is_empty()) else {
                return Err(format!(
                    "table `{name}` keeps no history to refresh (no audit columns or no `{hname}` \
                     table): use `add_history()`"
                ));
            };
            for c in crate::entity::history_table(&table, shape_id).columns {
                if have.column(&c.name).is_none() {
                    out.push(DdlOrSql::Ddl(DdlStatement::AddColumn {
                        table: hname.clone(),
                        column: c,
                    }));
                }
            }
        }
        HistoryAction::Drop => unreachable!("handled above"),
    }
    let shape = table_history_shape(&table).expect("a one-column primary key");
    out.extend(
        history_triggers(&shape, dialect)
            .into_iter()
            .map(DdlOrSql::Sql),
    );
    Ok(out)
}

/// A statement of a history step: typed, or already in the dialect's SQL.
// a handful per step, consumed at once: boxing the typed one buys nothing
#[allow(clippy::large_enum_variant)]
enum DdlOrSql {
    Ddl(DdlStatement),
    Sql(String),
}

fn step_sql(
    i: usize,
    step: &Step,
    dialect: Dialect,
    model: &Schema,
) -> Result<Vec<String>, ScriptError> {
    match step {
        Step::Ddl(d) => d
            .to_sql(dialect)
            .map_err(|error| ScriptError::Ddl { step: i, error }),
        Step::Sql(sql) => {
            let t = translate(sql, dialect).map_err(|e: TranslateError| ScriptError::Sql {
                step: i,
                reason: e.to_string(),
            })?;
            if t.param_count > 0 {
                return Err(ScriptError::Sql {
                    step: i,
                    reason: format!(
                        "a script statement takes no parameters; `{sql}` has {}",
                        t.param_count
                    ),
                });
            }
            Ok(vec![t.sql])
        }
        Step::History(h) => {
            let parts = history_sql(h, dialect, model)
                .map_err(|reason| ScriptError::History { step: i, reason })?;
            let mut out = Vec::new();
            for part in parts {
                match part {
                    DdlOrSql::Sql(sql) => out.push(sql),
                    DdlOrSql::Ddl(d) => out.extend(
                        d.to_sql(dialect)
                            .map_err(|error| ScriptError::Ddl { step: i, error })?,
                    ),
                }
            }
            Ok(out)
        }
    }
}

impl From<Vec<DdlStatement>> for Script {
    fn from(statements: Vec<DdlStatement>) -> Script {
        Script {
            steps: statements.into_iter().map(Step::Ddl).collect(),
        }
    }
}

impl FromIterator<Step> for Script {
    fn from_iter<I: IntoIterator<Item = Step>>(iter: I) -> Script {
        Script {
            steps: iter.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_steps_are_translated_and_parameters_refused() {
        let mut s = Script::new();
        s.sql("UPDATE [t] SET [x] = 1");
        assert_eq!(
            s.to_sql(Dialect::MySql).unwrap(),
            vec!["UPDATE `t` SET `x` = 1"]
        );
        s.sql("UPDATE [t] SET [x] = ?");
        let err = s.to_sql(Dialect::Sqlite).unwrap_err();
        assert!(matches!(err, ScriptError::Sql { step: 1, .. }), "{err}");
        assert!(err.to_string().starts_with("step 2:"));
    }

    #[test]
    fn helpers_append_typed_steps() {
        let mut s = Script::new();
        s.drop_table("a")
            .drop_table_if_exists("b")
            .rename_table("c", "d")
            .drop_column("t", "x")
            .rename_column("t", "y", "z")
            .drop_index("t", "t_z_index")
            .drop_check("t", "t_check")
            .drop_foreign("t", "t_p_foreign")
            .add_to_table("t", |t| {
                t.foreign_id("p")
                    .nullable()
                    .unique()
                    .index()
                    .references("d")
                    .external();
                t.check_named("t_p_check", "[p] > 0");
            });
        let kinds: Vec<String> = s
            .steps()
            .iter()
            .map(|step| match step {
                Step::Ddl(d) => format!("{d:?}")
                    .split([' ', '{'])
                    .next()
                    .unwrap()
                    .to_string(),
                Step::Sql(_) => "Sql".into(),
                Step::History(_) => "History".into(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "DropTable",
                "DropTable",
                "RenameTable",
                "DropColumn",
                "RenameColumn",
                "DropIndex",
                "DropCheck",
                "DropForeignKey",
                "AddColumn",
                "CreateIndex",
                "AddForeignKey",
                "AddCheck"
            ]
        );
        let pg = s.to_sql(Dialect::Postgres).unwrap();
        assert!(
            pg.contains(&"ALTER TABLE \"t\" ADD COLUMN \"p\" BIGINT NULL".to_string()),
            "{pg:#?}"
        );
        assert!(
            pg.contains(&"CREATE UNIQUE INDEX \"t_p_unique\" ON \"t\" (\"p\")".to_string()),
            "{pg:#?}"
        );
        assert!(
            pg.contains(&"CREATE INDEX \"t_p_index\" ON \"t\" (\"p\")".to_string()),
            "{pg:#?}"
        );
        // SQLite cannot drop a check (the first such step), nor drop or add a
        // foreign key, nor add a check, in place
        assert!(matches!(
            s.to_sql(Dialect::Sqlite),
            Err(ScriptError::Ddl { step: 6, .. })
        ));
    }

    #[test]
    fn steps_keep_their_order() {
        let mut s = Script::new();
        s.create_table(Table::build("a", |t| {
            t.id();
        }));
        s.push(DdlStatement::DropTable {
            name: "a".into(),
            if_exists: false,
        });
        let by_step = s.to_sql_by_step(Dialect::Postgres).unwrap();
        assert_eq!(by_step.len(), 2);
        assert!(by_step[0][0].starts_with("CREATE TABLE \"a\""));
        assert_eq!(by_step[1], vec!["DROP TABLE \"a\""]);
    }

    #[test]
    fn history_steps_follow_the_tables() {
        let mut s = Script::new();
        s.add_history("notes");
        // the table is not known: neither created here nor in the live schema
        let err = s.to_sql(Dialect::Sqlite).unwrap_err();
        assert!(matches!(err, ScriptError::History { step: 0, .. }), "{err}");
        let live = Schema::new().create("notes", |t| {
            t.id();
            t.text("body");
        });
        let sql = s.to_sql_with(Dialect::MySql, &live).unwrap();
        assert!(sql[0].starts_with("ALTER TABLE `notes` ADD COLUMN `dal_change_stamp`"));
        assert!(
            sql[3].starts_with("CREATE TABLE `notes_history`"),
            "{sql:#?}"
        );
        assert!(sql.iter().any(|q| q.contains("NEW.`body`")));

        // a refresh: the triggers go before the table's first change and come
        // back with the new column
        let mut model = live.clone();
        s.to_sql_by_step_with(Dialect::Sqlite, &mut model).unwrap();
        assert!(model.table("notes_history").is_some());
        let mut r = Script::new();
        r.drop_column("notes", "body");
        r.add_to_table("notes", |t| {
            t.string("tag", 20).nullable();
        });
        r.refresh_history("notes");
        let by_step = r.to_sql_by_step_with(Dialect::Sqlite, &mut model).unwrap();
        assert_eq!(
            by_step[0][0],
            "DROP TRIGGER IF EXISTS \"notes_dal_history_insert\""
        );
        assert!(by_step[1].iter().all(|q| !q.contains("TRIGGER")));
        assert!(by_step[2][0].starts_with("ALTER TABLE \"notes_history\" ADD COLUMN \"tag\""));
        assert!(by_step[2].iter().any(|q| q.contains("NEW.\"tag\"")));
        assert!(by_step[2].iter().all(|q| !q.contains("NEW.\"body\"")));

        // checksums name the step
        assert_eq!(
            s.fingerprint(Dialect::Postgres).unwrap(),
            ["-- dal history: add notes"]
        );
    }
}
