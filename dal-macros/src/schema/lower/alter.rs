//! Lowering `alter`, `drop` and `rename`: each item checked against the table
//! as the statements above left it, and the symbolic schema moved on with
//! `dal_schema`'s `Table::apply`.

use super::*;

impl Lowerer {
    // --- alter --------------------------------------------------------------

    pub(super) fn alter(&mut self, table: &Name, items: &[AlterItem], steps: &mut Vec<StepModel>) {
        let name = table.value();
        self.check_ident("table", table);
        if !self.tables.contains_key(&name)
            && let Some(what) = self.gone.get(&name).cloned()
        {
            self.error(
                table.span(),
                format!("table `{name}` {what} above in this `schema!`, so it cannot be altered"),
            );
        }
        // a table created above is checked item by item; any other table exists
        // outside this `schema!` and only names are checked
        let mut state = self.tables.remove(&name);
        for item in items {
            let step = match item {
                AlterItem::Add { column } => {
                    self.alter_add(&name, table.span(), &mut state, column)
                }
                AlterItem::AddIndex(def) => {
                    Some(self.alter_add_index(&name, table.span(), &mut state, def))
                }
                AlterItem::AddCheck {
                    name: check_name,
                    expression,
                } => Some(self.alter_add_check(
                    &name,
                    table.span(),
                    &mut state,
                    check_name,
                    expression,
                )),
                AlterItem::DropColumn { column } => {
                    Some(self.alter_drop_column(&name, &mut state, column))
                }
                AlterItem::RenameColumn { from, to } => {
                    Some(self.alter_rename_column(&name, &mut state, from, to))
                }
                AlterItem::DropIndex { name: index } => {
                    Some(self.alter_drop_index(&name, &mut state, index))
                }
                AlterItem::DropCheck { name: check } => {
                    Some(self.alter_drop_check(&name, &mut state, check))
                }
                AlterItem::DropForeign { target } => {
                    Some(self.alter_drop_foreign(&name, &mut state, target))
                }
                AlterItem::History { keyword, action } => {
                    self.alter_history(&name, &mut state, keyword, *action);
                    Some(StepModel::History {
                        table: name.clone(),
                        action: *action,
                    })
                }
            };
            steps.extend(step);
        }
        if let Some(t) = state {
            self.tables.insert(name, t);
        }
    }

    /// `history()` on `name`, whose table is now `table`: it needs a one-column
    /// primary key (every version is keyed by it) and its history table's name
    /// must be free; the history table is then known to the rest of the script.
    pub(super) fn check_history_table(&mut self, name: &str, at: Span, table: &Table) {
        if table.primary_key.len() != 1 {
            self.error(
                at,
                format!(
                    "`{name}` needs a one-column primary key, like `id()`, to keep a history: the history table keys each version by it"
                ),
            );
            return;
        }
        let history = dal_schema::entity::history_table_name(name);
        if self.tables.contains_key(&history) {
            self.error(
                at,
                format!(
                    "the history of `{name}` is kept in table `{history}`, which is already created above in this `schema!`"
                ),
            );
            return;
        }
        self.tables.insert(
            history,
            dal_schema::entity::history_table(table, &table.primary_key[0]),
        );
        self.history.insert(name.to_string(), true);
    }

    /// `add_history()`, `refresh_history()`, `drop_history()`: checked against
    /// what this `schema!` did to the table above (a table it does not create
    /// exists outside and is checked when the script runs).
    pub(super) fn alter_history(
        &mut self,
        name: &str,
        state: &mut Option<Table>,
        keyword: &Word,
        action: HistoryAction,
    ) {
        let known = self.history.get(name).copied().or_else(|| {
            state
                .as_ref()
                .map(|t| t.column(dal_schema::entity::audit_columns::STAMP).is_some())
        });
        let history = dal_schema::entity::history_table_name(name);
        match (action, known) {
            (HistoryAction::Add, Some(true)) => self.error(
                keyword.span(),
                format!("`{name}` already keeps a history above in this `schema!`"),
            ),
            (HistoryAction::Refresh | HistoryAction::Drop, Some(false)) => self.error(
                keyword.span(),
                format!(
                    "`{name}` keeps no history at this point of the `schema!`: `add_history()` first"
                ),
            ),
            (HistoryAction::Add, _) => {
                if let Some(t) = state {
                    for column in dal_schema::entity::audit_column_defs() {
                        if t.column(&column.name).is_some() {
                            self.error(
                                keyword.span(),
                                format!(
                                    "`add_history()` adds column `{}`, which `{name}` already has",
                                    column.name
                                ),
                            );
                            return;
                        }
                        t.columns.push(column);
                    }
                    let t = t.clone();
                    self.check_history_table(name, keyword.span(), &t);
                } else {
                    self.history.insert(name.to_string(), true);
                }
            }
            (HistoryAction::Refresh, _) => {
                if let Some(t) = state
                    && let Some(id) = t.primary_key.first()
                {
                    let want = dal_schema::entity::history_table(t, id);
                    if let Some(have) = self.tables.get_mut(&history) {
                        for c in want.columns {
                            if have.column(&c.name).is_none() {
                                have.columns.push(c);
                            }
                        }
                    }
                }
            }
            (HistoryAction::Drop, _) => {
                if let Some(t) = state {
                    t.columns
                        .retain(|c| !dal_schema::entity::is_audit_column(&c.name));
                }
                self.tables.remove(&history);
                self.history.insert(name.to_string(), false);
            }
        }
    }

    /// `add <column>`: a column (with its index and foreign key) added to the table.
    pub(super) fn alter_add(
        &mut self,
        name: &str,
        table_span: Span,
        state: &mut Option<Table>,
        column: &ColumnDef,
    ) -> Option<StepModel> {
        let mut spans = TableSpans::new(name, table_span);
        let (c, fk) = self.column(name, column, &mut spans, true)?;
        if let Some(t) = &state
            && t.column(&c.name).is_some()
        {
            let at = spans
                .column(&c.name)
                .map_or(Loc::at(column.kind.span()), |s| s.name);
            self.error_at(
                at,
                format!("column `{}` already exists in `{name}`", c.name),
            );
            return None;
        }
        let item = ItemModel::Column(c);
        self.add_to_state(state, name, &item, &spans);
        if let Some(fk) = fk {
            self.check_foreign_key(state.as_ref(), &fk);
        }
        Some(StepModel::AddToTable {
            table: name.to_string(),
            items: vec![item],
        })
    }

    /// `add_index(..)`, `add_unique_index(..)`, `add_index_named(..)`.
    pub(super) fn alter_add_index(
        &mut self,
        name: &str,
        table_span: Span,
        state: &mut Option<Table>,
        def: &IndexDef,
    ) -> StepModel {
        let (item, item_name) = self.index_item(name, def);
        if let Some(t) = &state {
            let all: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            self.check_column_list(
                name,
                "the index",
                &def.columns,
                |c| t.column(c).is_some(),
                &all,
            );
        }
        let mut spans = TableSpans::new(name, table_span);
        spans.items.push((item_name, index_loc(def)));
        self.add_to_state(state, name, &item, &spans);
        StepModel::AddToTable {
            table: name.to_string(),
            items: vec![item],
        }
    }

    /// `add_check("name", "expression")`.
    pub(super) fn alter_add_check(
        &mut self,
        name: &str,
        table_span: Span,
        state: &mut Option<Table>,
        check_name: &Str,
        expression: &Str,
    ) -> StepModel {
        self.check_ident_str("check", &check_name.value(), check_name.span());
        match dal_schema::sql::bracket_identifiers(&expression.value()) {
            Err(e) => self.error(expression.span(), format!("not valid portable SQL: {e}")),
            Ok(idents) => {
                if let Some(t) = &state {
                    let all: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
                    for ident in idents {
                        if t.column(&ident).is_none() {
                            self.error(
                                expression.span(),
                                unknown_column(name, &ident, &all, "the check"),
                            );
                        }
                    }
                }
            }
        }
        if let Some(t) = &state
            && t.checks.iter().any(|c| c.name == check_name.value())
        {
            self.error(
                check_name.span(),
                format!(
                    "`{name}` already has a check named `{}`",
                    check_name.value()
                ),
            );
        }
        let item = ItemModel::Check {
            name: Some(check_name.value()),
            expression: expression.value(),
        };
        let spans = TableSpans::new(name, table_span);
        self.add_to_state(state, name, &item, &spans);
        StepModel::AddToTable {
            table: name.to_string(),
            items: vec![item],
        }
    }

    /// `drop_column(col)`.
    pub(super) fn alter_drop_column(
        &mut self,
        name: &str,
        state: &mut Option<Table>,
        column: &Name,
    ) -> StepModel {
        self.check_ident("column", column);
        let col = column.value();
        if let Some(t) = state {
            match self.drop_column_problem(t, &col) {
                Some(problem) => self.error(column.span(), problem),
                None => t.apply(&DdlStatement::DropColumn {
                    table: name.to_string(),
                    column: col.clone(),
                }),
            }
        }
        StepModel::DropColumn {
            table: name.to_string(),
            column: col,
        }
    }

    /// `rename_column(from, to)`.
    pub(super) fn alter_rename_column(
        &mut self,
        name: &str,
        state: &mut Option<Table>,
        from: &Name,
        to: &Name,
    ) -> StepModel {
        self.check_ident("column", from);
        self.check_ident("column", to);
        let (f, t_name) = (from.value(), to.value());
        if let Some(t) = state {
            let all: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            if t.column(&f).is_none() {
                self.error(
                    from.span(),
                    unknown_column(name, &f, &all, "`rename_column`"),
                );
            } else if t.column(&t_name).is_some() {
                self.error(
                    to.span(),
                    format!("column `{t_name}` already exists in `{name}`"),
                );
            } else {
                let rename = DdlStatement::RenameColumn {
                    table: name.to_string(),
                    from: f.clone(),
                    to: t_name.clone(),
                };
                t.apply(&rename);
                for other in self.tables.values_mut() {
                    other.apply(&rename);
                }
            }
        }
        StepModel::RenameColumn {
            table: name.to_string(),
            from: f,
            to: t_name,
        }
    }

    /// `drop_index(name)`.
    pub(super) fn alter_drop_index(
        &mut self,
        name: &str,
        state: &mut Option<Table>,
        index: &Name,
    ) -> StepModel {
        let index_name = index.value();
        self.check_ident_str("index", &index_name, index.span());
        if let Some(t) = state {
            let all: Vec<String> = t.all_indexes().into_iter().map(|i| i.name).collect();
            if all.contains(&index_name) {
                t.apply(&DdlStatement::DropIndex {
                    table: name.to_string(),
                    name: index_name.clone(),
                });
            } else {
                self.error(index.span(), not_declared(name, "index", &index_name, &all));
            }
        }
        StepModel::DropIndex {
            table: name.to_string(),
            name: index_name,
        }
    }

    /// `drop_check(name)`.
    pub(super) fn alter_drop_check(
        &mut self,
        name: &str,
        state: &mut Option<Table>,
        check: &Name,
    ) -> StepModel {
        let check_name = check.value();
        self.check_ident_str("check", &check_name, check.span());
        if let Some(t) = state {
            let all: Vec<String> = t.checks.iter().map(|c| c.name.clone()).collect();
            if all.contains(&check_name) {
                t.apply(&DdlStatement::DropCheck {
                    table: name.to_string(),
                    name: check_name.clone(),
                });
            } else {
                self.error(check.span(), not_declared(name, "check", &check_name, &all));
            }
        }
        StepModel::DropCheck {
            table: name.to_string(),
            name: check_name,
        }
    }

    /// `drop_foreign(col)` or `drop_foreign("name")`: the foreign key's name is resolved here.
    pub(super) fn alter_drop_foreign(
        &mut self,
        name: &str,
        state: &mut Option<Table>,
        target: &Name,
    ) -> StepModel {
        let fk_name = match target {
            // a column: the foreign key on it
            Name::Ident(_) => {
                let col = target.value();
                self.check_ident("column", target);
                match &state {
                    Some(t) => match t.foreign_keys.iter().find(|fk| fk.columns == [col.clone()]) {
                        Some(fk) => fk.name.clone(),
                        None => {
                            let all: Vec<String> = t
                                .foreign_keys
                                .iter()
                                .map(|fk| fk.columns.join(", "))
                                .collect();
                            self.error(
                                target.span(),
                                not_declared(name, "foreign key on column", &col, &all),
                            );
                            names::foreign_key(name, &[col])
                        }
                    },
                    None => names::foreign_key(name, &[col]),
                }
            }
            Name::Str(s) => {
                let fk_name = s.value();
                self.check_ident_str("foreign key", &fk_name, s.span());
                if let Some(t) = &state {
                    let all: Vec<String> =
                        t.foreign_keys.iter().map(|fk| fk.name.clone()).collect();
                    if !all.contains(&fk_name) {
                        self.error(s.span(), not_declared(name, "foreign key", &fk_name, &all));
                    }
                }
                fk_name
            }
        };
        if let Some(t) = state {
            t.apply(&DdlStatement::DropForeignKey {
                table: name.to_string(),
                name: fk_name.clone(),
            });
        }
        StepModel::DropForeign {
            table: name.to_string(),
            name: fk_name,
        }
    }

    /// Apply an addition to the symbolic table and validate what it adds.
    pub(super) fn add_to_state(
        &mut self,
        state: &mut Option<Table>,
        table: &str,
        item: &ItemModel,
        spans: &TableSpans,
    ) {
        let mut b = TableBuilder::new(table);
        item.apply(&mut b);
        let added = b.finish();
        match state {
            Some(t) => {
                let mut merged = t.clone();
                merged.columns.extend(added.columns.iter().cloned());
                merged.indexes.extend(added.indexes.iter().cloned());
                merged
                    .foreign_keys
                    .extend(added.foreign_keys.iter().cloned());
                merged.checks.extend(added.checks.iter().cloned());
                let new_columns: Vec<String> =
                    added.columns.iter().map(|c| c.name.clone()).collect();
                let new_items: Vec<String> = added
                    .all_indexes()
                    .into_iter()
                    .map(|i| i.name)
                    .chain(added.foreign_keys.iter().map(|f| f.name.clone()))
                    .collect();
                self.report_validation(&merged, spans, |e| {
                    e.column.as_ref().is_some_and(|c| new_columns.contains(c))
                        || e.item.as_ref().is_some_and(|i| new_items.contains(i))
                });
                *t = merged;
            }
            None if !added.columns.is_empty() => {
                // the column alone: its type, default and modifiers
                self.report_validation(&added, spans, |_| true);
            }
            None => {}
        }
    }

    /// Why `column` cannot be dropped from `t` portably, if it cannot.
    pub(super) fn drop_column_problem(&self, t: &Table, column: &str) -> Option<String> {
        let name = &t.name;
        if t.column(column).is_none() {
            let all: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            return Some(unknown_column(name, column, &all, "`drop_column`"));
        }
        if t.primary_key.iter().any(|c| c == column) {
            return Some(format!(
                "cannot drop `{column}`: it is part of the primary key of `{name}`"
            ));
        }
        if let Some(i) = t
            .all_indexes()
            .into_iter()
            .find(|i| i.columns.iter().any(|c| c == column))
        {
            return Some(format!(
                "cannot drop `{column}` while index `{}` uses it (SQLite refuses to drop an indexed column): `drop_index({})` first",
                i.name, i.name
            ));
        }
        if let Some(fk) = t
            .foreign_keys
            .iter()
            .find(|fk| fk.columns.iter().any(|c| c == column))
        {
            return Some(format!(
                "cannot drop `{column}` while foreign key `{}` uses it: `drop_foreign({column})` first",
                fk.name
            ));
        }
        for other in self.tables.values() {
            if let Some(fk) = other.foreign_keys.iter().find(|fk| {
                !fk.external
                    && fk.references_table == *name
                    && fk.references_columns.iter().any(|c| c == column)
            }) {
                return Some(format!(
                    "cannot drop `{column}`: foreign key `{}` of `{}` references it",
                    fk.name, other.name
                ));
            }
        }
        None
    }

    // --- drop and rename ----------------------------------------------------

    pub(super) fn drop(&mut self, table: &Name, if_exists: bool) {
        let name = table.value();
        self.check_ident("table", table);
        if self.tables.contains_key(&name) {
            let referencing = self.tables.values().find_map(|other| {
                other
                    .foreign_keys
                    .iter()
                    .find(|fk| other.name != name && !fk.external && fk.references_table == name)
                    .map(|fk| (other.name.clone(), fk.name.clone()))
            });
            if let Some((other, fk)) = referencing {
                self.error(
                    table.span(),
                    format!("cannot drop `{name}`: foreign key `{fk}` of `{other}` references it; drop `{other}` or its foreign key first"),
                );
            }
            self.tables.remove(&name);
            self.history.remove(&name);
            self.gone.insert(name, "was dropped".into());
        } else if !if_exists && let Some(what) = self.gone.get(&name).cloned() {
            self.error(
                table.span(),
                format!("table `{name}` {what} above in this `schema!`; there is nothing to drop (use `drop_if_exists` if that is intended)"),
            );
        }
    }

    pub(super) fn rename(&mut self, from: &Name, to: &Name) {
        self.check_ident("table", from);
        self.check_ident("table", to);
        let (f, t) = (from.value(), to.value());
        if f == t {
            self.error(
                to.span(),
                format!("`rename {f} to {t}` renames the table to its own name"),
            );
            return;
        }
        if self.tables.contains_key(&t) {
            self.error(
                to.span(),
                format!("table `{t}` already exists: it is created above in this `schema!`"),
            );
            return;
        }
        if let Some(h) = self.history.remove(&f) {
            self.history.insert(t.clone(), h);
        }
        match self.tables.remove(&f) {
            Some(table) => {
                self.tables.insert(t.clone(), table);
                let rename = DdlStatement::RenameTable {
                    from: f.clone(),
                    to: t.clone(),
                };
                for table in self.tables.values_mut() {
                    table.apply(&rename);
                }
                self.gone.insert(f, format!("was renamed to `{t}`"));
                self.gone.remove(&t);
            }
            None => {
                if let Some(what) = self.gone.get(&f).cloned() {
                    self.error(
                        from.span(),
                        format!("table `{f}` {what} above in this `schema!`"),
                    );
                }
            }
        }
    }
}
