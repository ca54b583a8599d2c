//! Following DDL on the table model: what a statement does to a [`Table`] and
//! to a [`Schema`] (columns, keys, indexes, foreign keys, checks, and the
//! references other tables hold to a renamed table or column).
//!
//! `schema!` follows its statements with it at compile time (to check each
//! alter, drop and rename against the tables as they are at that point), and
//! [`Script`](crate::script::Script) follows its steps with it to write the
//! history steps of tables it changes.

use crate::ddl::DdlStatement;
use crate::model::{Schema, Table, names};

impl Table {
    /// Apply `statement`'s effect on this table: its own changes when the
    /// statement is about it, and the references it holds when the statement
    /// renames the table or column they point to. Creating, dropping and
    /// rebuilding tables is [`Schema::apply`]'s business.
    ///
    /// ```
    /// use dal_schema::ddl::DdlStatement;
    /// use dal_schema::Table;
    ///
    /// let mut users = Table::build("users", |t| {
    ///     t.id();
    ///     t.string("email", 150).unique();
    /// });
    /// users.apply(&DdlStatement::RenameColumn {
    ///     table: "users".into(),
    ///     from: "email".into(),
    ///     to: "mail".into(),
    /// });
    /// assert!(users.column("mail").is_some());
    /// assert!(users.column("email").is_none());
    /// ```
    pub fn apply(&mut self, statement: &DdlStatement) {
        let mine = |table: &str| table == self.name;
        match statement {
            DdlStatement::RenameTable { from, to } => {
                for fk in &mut self.foreign_keys {
                    if fk.references_table == *from {
                        fk.references_table = to.clone();
                    }
                }
                if self.name == *from {
                    self.name = to.clone();
                }
            }
            DdlStatement::AddColumn { table, column }
                if mine(table) && self.column(&column.name).is_none() =>
            {
                self.columns.push(column.clone());
            }
            DdlStatement::DropColumn { table, column } if mine(table) => {
                self.columns.retain(|c| c.name != *column);
            }
            DdlStatement::RenameColumn { table, from, to } => {
                self.rename_column(table, from, to);
            }
            DdlStatement::AlterColumn { table, to, .. } if mine(table) => {
                if let Some(c) = self.column_mut(&to.name) {
                    *c = to.clone();
                }
            }
            DdlStatement::CreateIndex { table, index } if mine(table) => {
                self.indexes.push(index.clone());
            }
            DdlStatement::DropIndex { table, name } if mine(table) => {
                self.indexes.retain(|i| i.name != *name);
                // a `.unique()` column's index has the conventional name
                let table_name = self.name.clone();
                for c in &mut self.columns {
                    if c.unique
                        && names::unique_index(&table_name, std::slice::from_ref(&c.name)) == *name
                    {
                        c.unique = false;
                    }
                }
            }
            DdlStatement::AddForeignKey { table, foreign_key } if mine(table) => {
                self.foreign_keys.push(foreign_key.clone());
            }
            DdlStatement::DropForeignKey { table, name } if mine(table) => {
                self.foreign_keys.retain(|fk| fk.name != *name);
            }
            DdlStatement::AddCheck { table, check } if mine(table) => {
                self.checks.push(check.clone());
            }
            DdlStatement::DropCheck { table, name } if mine(table) => {
                self.checks.retain(|c| c.name != *name);
            }
            _ => {}
        }
    }

    /// `table.from` becomes `table.to`: in this table when it is `table`
    /// (columns, key, indexes, foreign keys), and in the foreign keys that
    /// reference it.
    fn rename_column(&mut self, table: &str, from: &str, to: &str) {
        let rename = |c: &mut String| {
            if c == from {
                *c = to.to_string();
            }
        };
        if self.name == table {
            if let Some(c) = self.column_mut(from) {
                c.name = to.to_string();
            }
            self.primary_key.iter_mut().for_each(rename);
            for i in &mut self.indexes {
                i.columns.iter_mut().for_each(rename);
            }
            for fk in &mut self.foreign_keys {
                fk.columns.iter_mut().for_each(rename);
            }
        }
        for fk in &mut self.foreign_keys {
            if fk.references_table == table {
                fk.references_columns.iter_mut().for_each(rename);
            }
        }
    }
}

impl Schema {
    /// Apply `statement`'s effect on the tables: tables created, dropped or
    /// rebuilt here, every other change through [`Table::apply`] on each table
    /// (so references follow a renamed table or column). Raw SQL is not
    /// followed; a statement about a table the schema does not hold changes
    /// only the references to it.
    ///
    /// ```
    /// use dal_schema::ddl::DdlStatement;
    /// use dal_schema::{Schema, Table};
    ///
    /// let mut schema = Schema::new();
    /// schema.apply(&DdlStatement::CreateTable {
    ///     table: Table::build("users", |t| { t.id(); }),
    ///     if_not_exists: false,
    /// });
    /// schema.apply(&DdlStatement::RenameTable { from: "users".into(), to: "people".into() });
    /// assert!(schema.table("people").is_some());
    /// ```
    pub fn apply(&mut self, statement: &DdlStatement) {
        match statement {
            DdlStatement::CreateTable { table, .. } => {
                self.tables.retain(|t| t.name != table.name);
                self.tables.push(table.clone());
            }
            DdlStatement::DropTable { name, .. } => self.tables.retain(|t| t.name != *name),
            DdlStatement::RebuildTable { to, .. } => {
                self.tables.retain(|t| t.name != to.name);
                self.tables.push(to.clone());
            }
            other => {
                for t in &mut self.tables {
                    t.apply(other);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ReferentialAction;

    fn schema() -> Schema {
        Schema {
            tables: vec![
                Table::build("users", |t| {
                    t.id();
                    t.string("email", 150).unique();
                    t.string("nick", 40);
                    t.index(["nick"]);
                }),
                Table::build("posts", |t| {
                    t.id();
                    t.foreign_id("author_id")
                        .references("users")
                        .on_delete(ReferentialAction::Cascade);
                    t.check("[id] > 0");
                }),
            ],
        }
    }

    #[test]
    fn renames_follow_into_references() {
        let mut s = schema();
        s.apply(&DdlStatement::RenameTable {
            from: "users".into(),
            to: "people".into(),
        });
        s.apply(&DdlStatement::RenameColumn {
            table: "people".into(),
            from: "id".into(),
            to: "key".into(),
        });
        let people = s.table("people").unwrap();
        assert_eq!(people.primary_key, ["key"]);
        let fk = &s.table("posts").unwrap().foreign_keys[0];
        assert_eq!(fk.references_table, "people");
        assert_eq!(fk.references_columns, ["key"]);
        s.apply(&DdlStatement::RenameColumn {
            table: "people".into(),
            from: "nick".into(),
            to: "handle".into(),
        });
        assert_eq!(s.table("people").unwrap().indexes[0].columns, ["handle"]);
    }

    #[test]
    fn drops_remove_what_they_name() {
        let mut s = schema();
        let unique = names::unique_index("users", &["email".to_string()]);
        s.apply(&DdlStatement::DropIndex {
            table: "users".into(),
            name: unique,
        });
        assert!(!s.table("users").unwrap().column("email").unwrap().unique);
        let fk = s.table("posts").unwrap().foreign_keys[0].name.clone();
        s.apply(&DdlStatement::DropForeignKey {
            table: "posts".into(),
            name: fk,
        });
        assert!(s.table("posts").unwrap().foreign_keys.is_empty());
        let check = s.table("posts").unwrap().checks[0].name.clone();
        s.apply(&DdlStatement::DropCheck {
            table: "posts".into(),
            name: check,
        });
        assert!(s.table("posts").unwrap().checks.is_empty());
        s.apply(&DdlStatement::DropColumn {
            table: "posts".into(),
            column: "author_id".into(),
        });
        assert!(s.table("posts").unwrap().column("author_id").is_none());
        s.apply(&DdlStatement::DropTable {
            name: "posts".into(),
            if_exists: false,
        });
        assert!(s.table("posts").is_none());
    }
}
