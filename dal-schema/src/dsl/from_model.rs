//! From the table model to the syntax tree: how `schema!` says a [`Table`], a
//! [`Column`] or a [`Check`], or `None` where the grammar cannot say it (a
//! composite foreign key, an expression default). `dal::autogen` writes
//! migrations with these.

use super::print::float_literal;
use super::tree::{AlterItem, Arg, ColumnDef, IndexDef, Modifier, Name, Str, TableItem};
use crate::model::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, ReferentialAction, Table, names,
};

/// The table items of `create <table> { ... }`, or `None` when the grammar
/// cannot express the table (a composite foreign key, an expression default).
/// `declared` says whether a referenced table is created in the same
/// `schema!` (foreign keys to other tables are written `.external()`).
pub fn table_items(table: &Table, declared: &dyn Fn(&str) -> bool) -> Option<Vec<TableItem>> {
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
        let primary = single_pk == Some(c.name.as_str());
        items.push(TableItem::Column(column_def(
            &table.name,
            &column,
            fk_of[i],
            declared,
            primary,
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
pub fn add_check(check: &Check) -> AlterItem {
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
/// `None` when the grammar cannot express it. `fk` is the single-column foreign
/// key written on it, `primary` whether it is the table's single-column key
/// (written `.primary()`, or `id()` / `uuid_id()`), `declared` whether a
/// referenced table is created in the same `schema!` (else `.external()`).
pub fn column_def(
    table: &str,
    c: &Column,
    fk: Option<&ForeignKey>,
    declared: &dyn Fn(&str) -> bool,
    primary: bool,
) -> Option<ColumnDef> {
    let name = || Some(Name::new(&c.name));
    // `id()` / `uuid_id()` name the column `id` unless told otherwise
    let key_name = || (c.name != "id").then(|| Name::new(&c.name));
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
