//! The table model as one dialect can represent it: what introspecting a
//! created table returns there. It sits with the dialects so that the model
//! (`model.rs`) needs no dialect and the dialects may use the model's types.

use crate::dialect::Dialect;
use crate::model::{ColumnType, DefaultValue, ReferentialAction, Table};

impl Table {
    /// The canonical form of this blueprint as the given dialect can represent it:
    /// what introspecting the created table on that dialect returns.
    ///
    /// On the MySQL family `TimestampTz` becomes `Timestamp` (both are `DATETIME(6)`);
    /// on every dialect but PostgreSQL an [`ColumnType::Array`] becomes `Json` (the
    /// JSON column it is stored in); and the foreign-key actions `Restrict` and `SetDefault` become `NoAction`
    /// (InnoDB does not tell them apart). Defaults are brought to the form each
    /// server reports (booleans on MySQL are integers, etc.).
    pub fn normalized_for(&self, dialect: Dialect) -> Table {
        let mut t = self.canonical();
        if dialect != Dialect::Sqlite {
            t.without_rowid = false;
        }
        for c in &mut t.columns {
            if dialect == Dialect::MySql && c.ty == ColumnType::TimestampTz {
                c.ty = ColumnType::Timestamp;
            }
            // MySQL, MariaDB and SQLite store an array as a JSON column, which
            // is all their catalogs can report back
            if dialect != Dialect::Postgres && matches!(c.ty, ColumnType::Array { .. }) {
                c.ty = ColumnType::Json;
            }
            if c.default == Some(DefaultValue::Null) {
                c.default = None;
            }
            if let Some(DefaultValue::Integer(i)) = &c.default
                && matches!(
                    c.ty,
                    ColumnType::Float | ColumnType::Double | ColumnType::Decimal { .. }
                )
            {
                c.default = Some(DefaultValue::Float(*i as f64));
            }
            if let Some(DefaultValue::String(s)) = &c.default
                && let ColumnType::Decimal { .. } = c.ty
                && let Ok(f) = s.parse::<f64>()
            {
                c.default = Some(DefaultValue::Float(f));
            }
        }
        if dialect == Dialect::MySql {
            // InnoDB treats RESTRICT and NO ACTION alike (an omitted action is
            // reported as RESTRICT) and does not support SET DEFAULT (MariaDB
            // stores it as RESTRICT, MySQL 8 rejects it).
            for fk in &mut t.foreign_keys {
                for action in [&mut fk.on_delete, &mut fk.on_update] {
                    if matches!(
                        action,
                        ReferentialAction::Restrict | ReferentialAction::SetDefault
                    ) {
                        *action = ReferentialAction::NoAction;
                    }
                }
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_folds_actions_innodb_cannot_tell_apart() {
        let t = Table::build("t", |t| {
            t.foreign_id("a")
                .references("p")
                .on_delete(ReferentialAction::Restrict)
                .on_update(ReferentialAction::SetDefault);
        });
        let fk = &t.normalized_for(Dialect::MySql).foreign_keys[0];
        assert_eq!(fk.on_delete, ReferentialAction::NoAction);
        assert_eq!(fk.on_update, ReferentialAction::NoAction);
        let fk = &t.normalized_for(Dialect::Postgres).foreign_keys[0];
        assert_eq!(fk.on_delete, ReferentialAction::Restrict);
        assert_eq!(fk.on_update, ReferentialAction::SetDefault);
    }
}
