//! Cross-field rules of `#[derive(Entity)]`, each with the reason above it.

use dal_schema::entity::ColumnRole;
use dal_schema::{Column, ColumnType, SchemaErrorKind, Table};

use super::model::{Draft, Entity, Field, Hidden, Storage, guessed_column_type};
use super::types;

fn err(msg: impl std::fmt::Display, span: proc_macro2::Span) -> darling::Error {
    darling::Error::custom(msg).with_span(&span)
}

/// Roles given by name: a field called `id` is the key when none is marked, and
/// with `timestamps` / `soft_delete` the fields called `created_at`,
/// `updated_at`, `deleted_at` hold those columns.
/// Complete a drafted entity: the implicit roles of its fields, its hidden
/// columns, then every cross-field rule; all the errors, or the entity.
pub(crate) fn finish(draft: Draft) -> Result<Entity, darling::Error> {
    let Draft {
        mut entity,
        mut fields,
        timestamps,
        mut errors,
    } = draft;
    assign_implicit_roles(&mut fields, timestamps, entity.soft_delete);
    entity.hidden = hidden_columns(&fields, timestamps, entity.soft_delete);
    if entity.history {
        entity.hidden.extend(audit_columns());
    }
    entity.fields = fields;
    check(&entity, &mut errors);
    errors.finish()?;
    Ok(entity)
}

fn assign_implicit_roles(fields: &mut [Field], timestamps: bool, soft_delete: bool) {
    if !fields.iter().any(|f| f.role == Some(ColumnRole::Id))
        && let Some(f) = fields
            .iter_mut()
            .find(|f| f.ident == "id" && f.role == Some(ColumnRole::Data))
    {
        f.role = Some(ColumnRole::Id);
    }
    let mut by_name = |name: &str, role: ColumnRole| {
        if fields.iter().any(|f| f.role == Some(role)) {
            return;
        }
        if let Some(f) = fields
            .iter_mut()
            .find(|f| f.ident == name && f.role == Some(ColumnRole::Data))
        {
            f.role = Some(role);
        }
    };
    if timestamps {
        by_name("created_at", ColumnRole::CreatedAt);
        by_name("updated_at", ColumnRole::UpdatedAt);
    }
    if soft_delete {
        by_name("deleted_at", ColumnRole::DeletedAt);
    }
}

/// Managed columns the struct does not hold live only in the table.
fn hidden_columns(fields: &[Field], timestamps: bool, soft_delete: bool) -> Vec<Hidden> {
    let has = |role| fields.iter().any(|f| f.role == Some(role));
    let mut out = Vec::new();
    if timestamps && !has(ColumnRole::CreatedAt) {
        out.push(Hidden {
            column: "created_at",
            role: ColumnRole::CreatedAt,
        });
    }
    if timestamps && !has(ColumnRole::UpdatedAt) {
        out.push(Hidden {
            column: "updated_at",
            role: ColumnRole::UpdatedAt,
        });
    }
    if soft_delete && !has(ColumnRole::DeletedAt) {
        out.push(Hidden {
            column: "deleted_at",
            role: ColumnRole::DeletedAt,
        });
    }
    out
}

/// With history, the columns the history triggers read who changed a row and why.
fn audit_columns() -> Vec<Hidden> {
    use dal_schema::entity::audit_columns as a;
    vec![
        Hidden {
            column: a::STAMP,
            role: ColumnRole::ChangeStamp,
        },
        Hidden {
            column: a::ACTOR,
            role: ColumnRole::ChangedBy,
        },
        Hidden {
            column: a::NOTE,
            role: ColumnRole::ChangeNote,
        },
    ]
}

/// Method names of `Entity` and `FromRow`: a relation's lazy method must not
/// shadow one.
const ENTITY_METHODS: &[&str] = &[
    "from_row",
    "id",
    "blueprint",
    "table_name",
    "find",
    "save",
    "save_with",
    "save_all",
    "save_all_with",
    "get",
    "get_with_deleted",
    "delete",
    "delete_with",
    "delete_permanently",
    "restore",
    "restore_with",
    "history",
    "at_version",
    "ensure_schema",
];

/// Relations: names unique, handles apart from the column handles, lazy
/// methods apart from the entity's own, belongs-to on plain data fields.
fn check_relations(e: &Entity, errors: &mut darling::error::Accumulator) {
    let mut names: Vec<(String, proc_macro2::Span)> = Vec::new();
    let columns: Vec<String> = e
        .stored()
        .map(|f| f.ident.to_string().trim_start_matches("r#").to_uppercase())
        .collect();
    let mut check_name = |name: &str,
                          span: proc_macro2::Span,
                          errors: &mut darling::error::Accumulator| {
        if let Some((_, first)) = names.iter().find(|(n, _)| n == name) {
            let _ = first;
            errors.push(err(
                format!(
                    "a second relation named `{name}`: each relation needs its own name (a belongs-to is named with `relation = \"...\"`)"
                ),
                span,
            ));
            return;
        }
        names.push((name.to_string(), span));
        let handle = name.to_uppercase();
        if columns.contains(&handle) {
            errors.push(err(
                format!(
                    "the relation `{name}` would get the handle `{}::{handle}`, which is already a column handle: name it differently",
                    e.ident
                ),
                span,
            ));
        }
        if ENTITY_METHODS.contains(&name) {
            errors.push(err(
                format!(
                    "the relation `{name}` would shadow `{}::{name}` with its lazy-loading method: name it differently",
                    if name == "from_row" { "FromRow" } else { "Entity" }
                ),
                span,
            ));
        }
    };
    for f in &e.fields {
        let Some(b) = &f.belongs_to else { continue };
        match f.role {
            Some(ColumnRole::Data) => {}
            None => {
                errors.push(err(
                    "a skipped field cannot hold a foreign key: remove `skip` or `belongs_to`",
                    b.span,
                ));
                continue;
            }
            Some(_) => {
                errors.push(err(
                    "a belongs-to goes on a plain foreign-key field, not on the primary key or a column dal manages",
                    b.span,
                ));
                continue;
            }
        }
        if !matches!(f.storage, Storage::Plain) {
            errors.push(err(
                "a foreign key is stored as is: `belongs_to` cannot be combined with `json` or `with`",
                b.span,
            ));
        }
        if let Some(name) = &b.name {
            check_name(name, b.span, errors);
        }
    }
    for r in &e.relations {
        let n = r.name.to_string();
        check_name(n.trim_start_matches("r#"), r.name.span(), errors);
    }
}

fn check(e: &Entity, errors: &mut darling::error::Accumulator) {
    check_relations(e, errors);
    // One primary key: every operation addresses rows by it.
    let ids: Vec<&Field> = e
        .fields
        .iter()
        .filter(|f| f.role == Some(ColumnRole::Id))
        .collect();
    if ids.is_empty() {
        errors.push(err(
            format!(
                "`{}` has no primary key: mark a field `#[dal(id)]` (or name it `id`)",
                e.ident
            ),
            e.ident.span(),
        ));
    }
    for extra in ids.iter().skip(1) {
        errors.push(err(
            format!(
                "a second `#[dal(id)]`: `{}` is already the primary key (composite keys are not supported by entities)",
                ids[0].ident
            ),
            extra.span,
        ));
    }

    check_shard_key(e, errors);

    // Each managed role once: dal writes one value per role.
    for role in [
        ColumnRole::Version,
        ColumnRole::CreatedAt,
        ColumnRole::UpdatedAt,
        ColumnRole::DeletedAt,
    ] {
        let holders: Vec<&Field> = e.fields.iter().filter(|f| f.role == Some(role)).collect();
        for extra in holders.iter().skip(1) {
            errors.push(err(
                format!("`{}` already holds this role", holders[0].ident),
                extra.span,
            ));
        }
    }

    // A soft-delete marker only means something when deletes are soft.
    if !e.soft_delete
        && let Some(f) = e.field_with(ColumnRole::DeletedAt)
    {
        errors.push(err(
            "`deleted_at` needs soft deletes: add `#[dal(soft_delete)]` to the struct",
            f.span,
        ));
    }

    // Column names must be unique: each maps to one column.
    let mut seen: Vec<&str> = Vec::new();
    for f in e.stored() {
        if seen.contains(&f.column.as_str()) {
            errors.push(err(
                format!(
                    "column `{}` is mapped twice (use `rename` on one of them)",
                    f.column
                ),
                f.span,
            ));
        }
        seen.push(&f.column);
        if e.hidden.iter().any(|h| h.column == f.column) {
            errors.push(err(
                format!(
                    "`{}` clashes with the `{}` column dal manages: rename the field's column or mark it `#[dal({})]`",
                    f.column, f.column, f.column
                ),
                f.span,
            ));
        }
        // History adds hidden `dal_*` audit columns to the table.
        if e.history && f.column.starts_with("dal_") {
            errors.push(err(
                format!(
                    "column `{}` starts with `dal_`, which is reserved for the audit columns history adds (use `#[dal(rename = \"...\")]`)",
                    f.column
                ),
                f.span,
            ));
        }
        // The history table adds its own `history_*` columns next to the entity's.
        if e.history && f.column.starts_with("history_") {
            errors.push(err(
                format!(
                    "column `{}` starts with `history_`, which is reserved for the history table's bookkeeping: name the column differently with `#[dal(rename = \"...\")]`",
                    f.column
                ),
                f.span,
            ));
        }
    }

    for f in &e.fields {
        check_field(f, errors);
    }
    check_blueprint(e, errors);
}

/// The column options written on a field, with where each is.
fn written_options(f: &Field) -> Vec<(&'static str, proc_macro2::Span)> {
    let s = &f.option_spans;
    [
        ("length", s.length),
        ("precision", s.precision),
        ("scale", s.scale),
        ("unique", s.unique),
        ("index", s.index),
        ("default", s.default),
        ("json", s.json),
        ("with", s.with),
        ("references", s.references),
    ]
    .into_iter()
    .filter_map(|(name, span)| span.map(|span| (name, span)))
    .collect()
}

fn check_field(f: &Field, errors: &mut darling::error::Accumulator) {
    let options = written_options(f);
    let Some(role) = f.role else {
        // A skipped field is not stored: column options would be silently ignored.
        for (name, span) in &options {
            errors.push(err(
                format!(
                    "a `skip` field is not stored: remove `{name}` (it takes no column options)"
                ),
                *span,
            ));
        }
        return;
    };
    // Optimistic locking compares and increments an integer.
    if role == ColumnRole::Version && !types::is_integer(&f.ty) {
        errors.push(err(
            format!(
                "`version` needs an integer field (i32 or i64), `{}` is not one",
                f.ident
            ),
            f.span,
        ));
    }
    // A soft-delete marker must be able to say "not deleted".
    if role == ColumnRole::DeletedAt && !f.optional {
        errors.push(err(
            "`deleted_at` must be an `Option` (None while the row is not deleted), e.g. `Option<DateTime<Utc>>`",
            f.span,
        ));
    }
    // Managed columns get their values from dal, not from options.
    if role != ColumnRole::Data && role != ColumnRole::Id {
        for (name, span) in options.iter().filter(|(n, _)| {
            ["json", "with", "unique", "index", "default", "references"].contains(n)
        }) {
            errors.push(err(
                format!(
                    "dal fills this column: remove `{name}` (a managed column takes no `json`, `with`, `unique`, `index`, `default` or `references`)"
                ),
                *span,
            ));
        }
    }
    // The key identifies rows: it is not JSON, has no default and is unique already.
    if role == ColumnRole::Id {
        for (name, span) in options
            .iter()
            .filter(|(n, _)| ["json", "with", "default", "unique"].contains(n))
        {
            errors.push(err(
                format!(
                    "the primary key takes no `json`, `with`, `default` or `unique`: remove `{name}`"
                ),
                *span,
            ));
        }
    }
    // `length` picks VARCHAR(n) for strings; it means nothing elsewhere.
    if let Some(span) = f.option_spans.length
        && !(types::is_string(&f.inner_ty) && matches!(f.storage, Storage::Plain))
    {
        errors.push(err(
            "`length` applies to `String` fields only (it makes the column VARCHAR(n)): remove it",
            span,
        ));
    }
    // precision and scale describe decimals.
    if types::type_name(&f.inner_ty).as_deref() != Some("Decimal") {
        for span in [f.option_spans.precision, f.option_spans.scale]
            .into_iter()
            .flatten()
        {
            errors.push(err(
                "`precision` and `scale` apply to `Decimal` fields only: remove it, or make the field a `rust_decimal::Decimal`",
                span,
            ));
        }
    }
}

/// The blueprint's own validation (lengths, defaults, indexable columns),
/// reported on the field, for the fields whose column type the macro can tell.
fn check_blueprint(e: &Entity, errors: &mut darling::error::Accumulator) {
    let mut table = Table::new(&e.table);
    let mut known = Vec::new();
    for f in e.stored() {
        let Some(ty) = guessed_column_type(f) else {
            continue;
        };
        known.push(f);
        let mut c = Column::new(f.column.clone(), ty);
        c.nullable = f.optional;
        c.default = f.default.clone();
        c.unique = f.unique;
        table.columns.push(c);
        if f.index {
            table.indexes.push(dal_schema::Index {
                name: dal_schema::model::names::index(&e.table, std::slice::from_ref(&f.column)),
                columns: vec![f.column.clone()],
                unique: false,
            });
        }
    }
    if table.columns.is_empty() {
        return;
    }
    if let Err(problems) = dal_schema::validate_table(&table) {
        for p in problems {
            let Some(column) = &p.column else { continue };
            let Some(f) = known.iter().find(|f| &f.column == column) else {
                continue;
            };
            let s = &f.option_spans;
            // Reported on the option at fault when there is one, else on the field.
            let (msg, span) = match p.kind {
                SchemaErrorKind::UnindexableColumn
                    if matches!(table.column(column).map(|c| &c.ty), Some(ColumnType::Text)) =>
                {
                    (
                        format!(
                            "`{}` is stored as TEXT, which cannot be indexed or unique portably: give it a length, e.g. `#[dal(length = 255)]`",
                            f.ident
                        ),
                        s.unique.or(s.index),
                    )
                }
                SchemaErrorKind::UnindexableColumn => (p.message.clone(), s.unique.or(s.index)),
                SchemaErrorKind::DefaultTypeMismatch | SchemaErrorKind::NullDefaultOnNotNull => {
                    (p.message.clone(), s.default)
                }
                SchemaErrorKind::InvalidLength => (p.message.clone(), s.length),
                SchemaErrorKind::InvalidPrecision => (p.message.clone(), s.precision.or(s.scale)),
                // Already reported: invalid names by `model`, columns mapped twice above.
                SchemaErrorKind::InvalidIdentifier | SchemaErrorKind::DuplicateColumn => continue,
                _ => (p.message.clone(), None),
            };
            errors.push(err(msg, span.unwrap_or(f.span)));
        }
    }
}

/// The shard key routes every row to one shard: one stored field, always
/// present, that dal never changes by itself.
fn check_shard_key(e: &Entity, errors: &mut darling::error::Accumulator) {
    let keys: Vec<(&Field, proc_macro2::Span)> = e
        .fields
        .iter()
        .filter_map(|f| f.shard_key.map(|s| (f, s)))
        .collect();
    for (f, span) in keys.iter().skip(1) {
        let _ = f;
        errors.push(err(
            format!(
                "a second `#[dal(shard_key)]`: `{}` is already the shard key (one field routes a row)",
                keys[0].0.ident
            ),
            *span,
        ));
    }
    if let Some((f, span)) = keys.first() {
        let problem = match f.role {
            None => Some("a skipped field is not stored, so it cannot route rows".to_string()),
            Some(ColumnRole::Id | ColumnRole::Data) => None,
            Some(_) => Some(format!(
                "`{}` is a column dal sets itself, so it cannot route rows",
                f.ident
            )),
        };
        let problem = problem.or_else(|| {
            if f.optional {
                Some("the shard key cannot be an `Option`: every row needs a key to find its shard".to_string())
            } else if !matches!(f.storage, Storage::Plain) {
                Some("the shard key must be stored as it is (an integer, a string or a UUID), not through `json` or `with`".to_string())
            } else {
                None
            }
        });
        if let Some(p) = problem {
            errors.push(err(format!("invalid `#[dal(shard_key)]`: {p}"), *span));
        }
    }
}
