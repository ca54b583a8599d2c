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

use std::fmt;

use crate::builder::TableBuilder;
use crate::ddl::{DdlError, DdlStatement};
use crate::dialect::Dialect;
use crate::model::Table;
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
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScriptError::Ddl { step, error } => write!(f, "step {}: {error}", step + 1),
            ScriptError::Sql { step, reason } => write!(f, "step {}: {reason}", step + 1),
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
    /// need several statements).
    pub fn to_sql(&self, dialect: Dialect) -> Result<Vec<String>, ScriptError> {
        let mut out = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            out.extend(step_sql(i, step, dialect)?);
        }
        Ok(out)
    }

    /// The SQL of each step separately for `dialect` (a migration runner
    /// applies and reports step by step).
    pub fn to_sql_by_step(&self, dialect: Dialect) -> Result<Vec<Vec<String>>, ScriptError> {
        self.steps
            .iter()
            .enumerate()
            .map(|(i, step)| step_sql(i, step, dialect))
            .collect()
    }
}

fn step_sql(i: usize, step: &Step, dialect: Dialect) -> Result<Vec<String>, ScriptError> {
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
}
