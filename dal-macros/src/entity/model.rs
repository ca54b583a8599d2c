//! The validated model of an entity: what `expand.rs` reads. Built from the
//! darling attributes; every problem found is accumulated with its span.

use dal_schema::entity::ColumnRole;
use dal_schema::{ColumnType, DefaultValue, ReferentialAction};
use darling::FromDeriveInput;
use darling::util::SpannedValue;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;

use super::attr::{EntityAttrs, FieldAttrs};
use super::types;

/// How a field is stored.
#[derive(Clone)]
pub(crate) enum Storage {
    /// Through the type's own `Encode`/`Decode`/`SqlType`.
    Plain,
    /// As JSON (`#[dal(json)]`).
    Json,
    /// Through a codec module (`#[dal(with = path)]`).
    With(syn::Path),
}

/// A foreign key declared on a field.
pub(crate) struct Reference {
    pub table: String,
    pub column: String,
    pub on_delete: ReferentialAction,
    pub on_update: ReferentialAction,
}

/// A belongs-to declared on a foreign-key field.
pub(crate) struct BelongsToDecl {
    /// The parent entity.
    pub target: syn::Path,
    /// The relation's name (`owner` for `owner_id`); `None` when it was
    /// invalid (and reported).
    pub name: Option<String>,
    pub on_delete: ReferentialAction,
    pub on_update: ReferentialAction,
    /// Where `belongs_to` was written.
    pub span: Span,
}

/// The kind of a relation declared on the struct.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelationKind {
    HasMany,
    HasOne,
    ManyToMany,
}

/// A has-many, has-one or many-to-many declared on the struct.
pub(crate) struct RelationModel {
    pub kind: RelationKind,
    pub name: syn::Ident,
    /// The other entity (`Task` for `tasks = Task::OWNER`, the target of a
    /// many-to-many).
    pub target: syn::Path,
    /// The belongs-to read backwards (has-many/has-one: the child's; many-to-many:
    /// the join entity's to the target).
    pub inverse: syn::Path,
    /// Many-to-many: the join entity and its belongs-to to this entity.
    pub join: Option<(syn::Path, syn::Path)>,
}

/// One struct field.
pub(crate) struct Field {
    pub ident: syn::Ident,
    pub ty: syn::Type,
    /// The type without `Option<..>` (what the column handle compares with).
    pub inner_ty: syn::Type,
    /// `Option<..>` written in the source.
    pub optional: bool,
    pub column: String,
    /// `None` for skipped fields.
    pub role: Option<ColumnRole>,
    pub storage: Storage,
    pub length: Option<u32>,
    pub precision: Option<u8>,
    pub scale: Option<u8>,
    pub unique: bool,
    pub index: bool,
    pub default: Option<DefaultValue>,
    pub references: Option<Reference>,
    pub belongs_to: Option<BelongsToDecl>,
    /// `#[dal(shard_key)]`, where it was written.
    pub shard_key: Option<Span>,
    /// The field's name, where field-wide problems are reported.
    pub span: Span,
    /// Where each column option was written, so a misplaced one is reported on itself.
    pub option_spans: OptionSpans,
}

/// The span of each column option written on a field (`None` when absent).
#[derive(Default)]
pub(crate) struct OptionSpans {
    pub length: Option<Span>,
    pub precision: Option<Span>,
    pub scale: Option<Span>,
    pub unique: Option<Span>,
    pub index: Option<Span>,
    pub default: Option<Span>,
    pub json: Option<Span>,
    pub with: Option<Span>,
    pub references: Option<Span>,
}

impl OptionSpans {
    fn of(f: &FieldAttrs) -> Self {
        let flag = |f: &darling::util::Flag| f.is_present().then(|| f.span());
        OptionSpans {
            length: f.length.as_ref().map(|v| v.span()),
            precision: f.precision.as_ref().map(|v| v.span()),
            scale: f.scale.as_ref().map(|v| v.span()),
            unique: flag(&f.unique),
            index: flag(&f.index),
            default: f.default.as_ref().map(|l| l.span()),
            json: flag(&f.json),
            with: f.with.as_ref().map(|p| p.span()),
            references: f.references.as_ref().map(|v| v.span()),
        }
    }
}

/// A managed column with no struct field.
pub(crate) struct Hidden {
    pub column: &'static str,
    pub role: ColumnRole,
}

/// The entity.
pub(crate) struct Entity {
    pub ident: syn::Ident,
    pub krate: TokenStream,
    pub table: String,
    /// `#[dal(collation = "..")]`: the MySQL-family table collation.
    pub collation: Option<String>,
    pub history: bool,
    /// `#[dal(hooks)]`: the entity implements `dal::Hooks`.
    pub hooks: bool,
    /// `#[dal(cache)]`: `get` goes through the read cache.
    pub cache: bool,
    pub soft_delete: bool,
    pub fields: Vec<Field>,
    pub hidden: Vec<Hidden>,
    pub relations: Vec<RelationModel>,
}

impl Entity {
    /// The id field.
    pub fn id(&self) -> &Field {
        self.fields
            .iter()
            .find(|f| f.role == Some(ColumnRole::Id))
            .expect("checked: one id")
    }

    /// The stored fields.
    pub fn stored(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.role.is_some())
    }

    /// The field holding a managed role, if the struct maps it.
    pub fn field_with(&self, role: ColumnRole) -> Option<&Field> {
        self.fields.iter().find(|f| f.role == Some(role))
    }
}

/// snake_case plural of a struct name: `User` -> `users`, `Category` ->
/// `categories`, `Address` -> `addresses`, `HttpLog` -> `http_logs`.
pub(crate) fn default_table_name(ident: &str) -> String {
    let mut snake = String::new();
    let chars: Vec<char> = ident.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) {
                snake.push('_');
            }
            snake.extend(c.to_lowercase());
        } else {
            snake.push(*c);
        }
    }
    let vowel = |c: char| "aeiou".contains(c);
    if snake.ends_with('y') && snake.len() > 1 && !vowel(snake.chars().rev().nth(1).unwrap_or('a'))
    {
        snake.pop();
        snake.push_str("ies");
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| snake.ends_with(e))
    {
        snake.push_str("es");
    } else {
        snake.push('s');
    }
    snake
}

fn lit_default(lit: &syn::Lit) -> Result<DefaultValue, darling::Error> {
    Ok(match lit {
        syn::Lit::Bool(b) => DefaultValue::Bool(b.value),
        syn::Lit::Int(i) => DefaultValue::Integer(i.base10_parse::<i64>().map_err(|e| {
            darling::Error::custom(format!("integer default out of range: {e}")).with_span(lit)
        })?),
        syn::Lit::Float(f) => DefaultValue::Float(f.base10_parse::<f64>().map_err(|e| {
            darling::Error::custom(format!("invalid float default: {e}")).with_span(lit)
        })?),
        syn::Lit::Str(s) => DefaultValue::String(s.value()),
        other => {
            return Err(darling::Error::custom(
                "a default must be a boolean, integer, float or string literal",
            )
            .with_span(other));
        }
    })
}

fn action(v: &SpannedValue<String>, what: &str) -> Result<ReferentialAction, darling::Error> {
    ReferentialAction::parse(v).ok_or_else(|| {
        darling::Error::custom(format!(
            "unknown {what} action `{}`: expected one of `cascade`, `restrict`, `set_null`, `set_default`, `no_action`",
            (**v).as_str()
        ))
        .with_span(&v.span())
    })
}

fn reference(f: &FieldAttrs, errors: &mut darling::error::Accumulator) -> Option<Reference> {
    let Some(r) = &f.references else {
        if f.belongs_to.is_some() {
            // the actions belong to the relation's foreign key
            return None;
        }
        for (v, what) in [(&f.on_delete, "on_delete"), (&f.on_update, "on_update")] {
            if let Some(v) = v {
                errors.push(
                    darling::Error::custom(format!(
                        "`{what}` needs a foreign key: add `belongs_to = Entity` (or `references = \"table.column\"`)"
                    ))
                    .with_span(&v.span()),
                );
            }
        }
        return None;
    };
    let text = (**r).as_str();
    let (table, column) = match text.split_once('.') {
        Some((t, c)) => (t, c),
        None => (text, "id"),
    };
    if !dal_schema::is_valid_identifier(table) || !dal_schema::is_valid_identifier(column) {
        errors.push(
            darling::Error::custom(format!(
                "invalid reference `{text}`: expected `table.column` (or `table` for its `id`), with plain identifiers"
            ))
            .with_span(&r.span()),
        );
        return None;
    }
    let on_delete = f
        .on_delete
        .as_ref()
        .map(|v| action(v, "on_delete"))
        .transpose();
    let on_update = f
        .on_update
        .as_ref()
        .map(|v| action(v, "on_update"))
        .transpose();
    match (on_delete, on_update) {
        (Ok(d), Ok(u)) => Some(Reference {
            table: table.to_string(),
            column: column.to_string(),
            on_delete: d.unwrap_or_default(),
            on_update: u.unwrap_or_default(),
        }),
        (d, u) => {
            if let Err(e) = d {
                errors.push(e);
            }
            if let Err(e) = u {
                errors.push(e);
            }
            None
        }
    }
}

fn field(f: &FieldAttrs, errors: &mut darling::error::Accumulator) -> Option<Field> {
    let ident = f.ident.clone()?;
    let span = ident.span();
    let name = ident.to_string();
    let name = name.trim_start_matches("r#").to_string();
    let (optional, inner_ty) = match types::option_inner(&f.ty) {
        Some(inner) => (true, inner.clone()),
        None => (false, f.ty.clone()),
    };
    let column = match &f.rename {
        Some(r) => {
            if let Some(message) = dal_schema::identifier_problem("column", r) {
                errors.push(darling::Error::custom(message).with_span(&r.span()));
            }
            (**r).as_str().to_string()
        }
        None => name.clone(),
    };
    let mut roles = Vec::new();
    if f.id.is_present() {
        roles.push((ColumnRole::Id, f.id.span(), "id"));
    }
    if f.version.is_present() {
        roles.push((ColumnRole::Version, f.version.span(), "version"));
    }
    if f.created_at.is_present() {
        roles.push((ColumnRole::CreatedAt, f.created_at.span(), "created_at"));
    }
    if f.updated_at.is_present() {
        roles.push((ColumnRole::UpdatedAt, f.updated_at.span(), "updated_at"));
    }
    if f.deleted_at.is_present() {
        roles.push((ColumnRole::DeletedAt, f.deleted_at.span(), "deleted_at"));
    }
    if roles.len() > 1 {
        errors.push(
            darling::Error::custom(format!(
                "a field has one role: `{}` and `{}` cannot be combined",
                roles[0].2, roles[1].2
            ))
            .with_span(&roles[1].1),
        );
    }
    let role = if f.skip.is_present() {
        None
    } else {
        Some(roles.first().map_or(ColumnRole::Data, |r| r.0))
    };
    let storage = match (&f.with, f.json.is_present()) {
        (Some(_), true) => {
            errors.push(
                darling::Error::custom(
                    "`json` and `with` cannot be combined: pick one way to store the field",
                )
                .with_span(&f.json.span()),
            );
            Storage::Plain
        }
        (Some(p), false) => Storage::With(p.clone()),
        (None, true) => Storage::Json,
        (None, false) => Storage::Plain,
    };
    let default = match &f.default {
        Some(lit) => match lit_default(lit) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    let references = reference(f, errors);
    let belongs_to = belongs_to(f, &name, errors);
    Some(Field {
        ident,
        ty: f.ty.clone(),
        inner_ty,
        optional,
        column,
        role,
        storage,
        length: f.length.as_ref().map(|l| **l),
        precision: f.precision.as_ref().map(|p| **p),
        scale: f.scale.as_ref().map(|s| **s),
        unique: f.unique.is_present(),
        index: f.index.is_present(),
        default,
        references,
        belongs_to,
        shard_key: f.shard_key.is_present().then(|| f.shard_key.span()),
        span,
        option_spans: OptionSpans::of(f),
    })
}

/// The belongs-to declared on a field, if any.
fn belongs_to(
    f: &FieldAttrs,
    field_name: &str,
    errors: &mut darling::error::Accumulator,
) -> Option<BelongsToDecl> {
    let Some(target) = &f.belongs_to else {
        if let Some(r) = &f.relation {
            errors.push(
                darling::Error::custom("`relation` names a belongs-to: add `belongs_to = Entity`")
                    .with_span(&r.span()),
            );
        }
        return None;
    };
    let target = &target.0;
    let span = syn::spanned::Spanned::span(target);
    if let Some(r) = &f.references {
        errors.push(
            darling::Error::custom(
                "`belongs_to` already declares the foreign key: remove `references`",
            )
            .with_span(&r.span()),
        );
    }
    // `None` when the name is invalid (reported here, not checked further)
    let name = match &f.relation {
        Some(r) => {
            let n = r.0.as_str();
            match relation_name_problem(n) {
                Some(problem) => {
                    errors.push(
                        darling::Error::custom(format!("invalid relation name `{n}`: {problem}"))
                            .with_span(&r.span()),
                    );
                    None
                }
                None => Some(n.to_string()),
            }
        }
        None => match field_name.strip_suffix("_id") {
            Some(n) if !n.is_empty() => match relation_name_problem(n) {
                Some(problem) => {
                    errors.push(
                        darling::Error::custom(format!(
                            "the field `{field_name}` gives the relation name `{n}`, which is invalid ({problem}): name the relation with `relation = \"...\"`"
                        ))
                        .with_span(&span),
                    );
                    None
                }
                None => Some(n.to_string()),
            },
            _ => {
                errors.push(
                    darling::Error::custom(format!(
                        "name this relation: a belongs-to is named after its field without `_id` (`owner_id` gives `owner`), and `{field_name}` gives no name, so add `relation = \"...\"` (not `{field_name}`: the field's column handle is `{}` already)",
                        field_name.to_uppercase()
                    ))
                    .with_span(&span),
                );
                None
            }
        },
    };
    let actions = [(&f.on_delete, "on_delete"), (&f.on_update, "on_update")]
        .map(|(v, what)| v.as_ref().map(|v| action(v, what)).transpose());
    let [on_delete, on_update] = actions.map(|a| match a {
        Ok(a) => a.unwrap_or_default(),
        Err(e) => {
            errors.push(e);
            ReferentialAction::default()
        }
    });
    Some(BelongsToDecl {
        target: target.clone(),
        name,
        on_delete,
        on_update,
        span,
    })
}

/// What is wrong with a relation name, if anything: it becomes a method
/// (`task.owner()`) and, upper-cased, a constant (`Task::OWNER`).
pub(crate) fn relation_name_problem(n: &str) -> Option<&'static str> {
    let mut chars = n.chars();
    let snake = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !snake {
        Some("use a snake_case Rust identifier (lowercase letters, digits and `_`)")
    } else if n.starts_with("__") {
        Some("names starting with `__` are reserved for dal")
    } else if syn::parse_str::<syn::Ident>(n).is_err() {
        Some("it is a Rust keyword, and the relation's method is named after it")
    } else {
        None
    }
}

/// The entity a `Entity::RELATION` path belongs to (the path without its last segment).
fn owner_of(path: &syn::Path, errors: &mut darling::error::Accumulator) -> Option<syn::Path> {
    if path.segments.len() < 2 {
        errors.push(
            darling::Error::custom(format!(
                "expected a relation of another entity, like `Task::OWNER`: `{}` names no relation",
                path.to_token_stream()
            ))
            .with_span(path),
        );
        return None;
    }
    let n = path.segments.len();
    Some(syn::Path {
        leading_colon: path.leading_colon,
        segments: path.segments.iter().take(n - 1).cloned().collect(),
    })
}

/// `path` with a leading `Self` replaced by the entity's name: the generated
/// code names it outside the entity's impls too.
pub(crate) fn resolve_self(path: &syn::Path, entity: &syn::Ident) -> syn::Path {
    let mut path = path.clone();
    if path.leading_colon.is_none()
        && let Some(first) = path.segments.first_mut()
        && first.ident == "Self"
        && first.arguments.is_none()
    {
        first.ident = syn::Ident::new(&entity.to_string(), first.ident.span());
    }
    path
}

/// The relations declared on the struct.
fn relations(attrs: &EntityAttrs, errors: &mut darling::error::Accumulator) -> Vec<RelationModel> {
    let mut out = Vec::new();
    let resolve = |p: &syn::Path| resolve_self(p, &attrs.ident);
    for (kind, decls) in [
        (RelationKind::HasMany, &attrs.has_many),
        (RelationKind::HasOne, &attrs.has_one),
    ] {
        for d in decls {
            let inverse = resolve(&d.inverse);
            if let Some(target) = owner_of(&inverse, errors) {
                out.push(RelationModel {
                    kind,
                    name: d.name.clone(),
                    target,
                    inverse,
                    join: None,
                });
            }
        }
    }
    for d in &attrs.many_to_many {
        let (target, through, from) = (resolve(&d.target), resolve(&d.through), resolve(&d.from));
        let join = owner_of(&through, errors);
        let join_from = owner_of(&from, errors);
        if let (Some(join), Some(join_from)) = (join, join_from) {
            if join.to_token_stream().to_string() != join_from.to_token_stream().to_string() {
                errors.push(
                    darling::Error::custom(format!(
                        "`through` and `from` must be relations of the same join entity (`{}` and `{}`)",
                        join.to_token_stream(),
                        join_from.to_token_stream()
                    ))
                    .with_span(&from),
                );
                continue;
            }
            out.push(RelationModel {
                kind: RelationKind::ManyToMany,
                name: d.name.clone(),
                target,
                inverse: through,
                join: Some((join, from)),
            });
        }
    }
    out.retain(|r| {
        let n = r.name.to_string();
        let problem = relation_name_problem(n.trim_start_matches("r#"));
        if let Some(problem) = problem {
            errors.push(
                darling::Error::custom(format!("invalid relation name `{n}`: {problem}"))
                    .with_span(&r.name),
            );
        }
        problem.is_none()
    });
    out
}

/// Build and validate the model.
pub(crate) fn build(input: &syn::DeriveInput) -> Result<Draft, darling::Error> {
    if let Some(e) = crate::from_row::shape_error(input, "Entity") {
        return Err(e);
    }
    let attrs = EntityAttrs::from_derive_input(input)?;
    let mut errors = darling::Error::accumulator();
    if !attrs.generics.params.is_empty() {
        errors.push(
            darling::Error::custom(
                "an entity cannot be generic: it maps to one table; remove the type parameters",
            )
            .with_span(
                &attrs
                    .generics
                    .params
                    .first()
                    .map_or(attrs.generics.span(), |p| p.span()),
            ),
        );
    }
    let ident = attrs.ident.clone();
    let table = match &attrs.table {
        Some(t) => {
            if let Some(message) = dal_schema::identifier_problem("table", t) {
                errors.push(darling::Error::custom(message).with_span(&t.span()));
            }
            (**t).as_str().to_string()
        }
        None => default_table_name(&ident.to_string()),
    };
    // the collation is written into MySQL DDL as a bare word
    if let Some(c) = &attrs.collation
        && (c.is_empty() || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        errors.push(
            darling::Error::custom(format!(
                "invalid collation `{}`: use a collation name such as `utf8mb4_unicode_ci` (letters, digits and `_`)",
                (**c).as_str()
            ))
            .with_span(&c.span()),
        );
    }
    let field_attrs = match &attrs.data {
        darling::ast::Data::Struct(fields) => &fields.fields,
        darling::ast::Data::Enum(_) => unreachable!("darling accepts structs only"),
    };
    let mut fields: Vec<Field> = field_attrs
        .iter()
        .filter_map(|f| field(f, &mut errors))
        .collect();
    for b in fields.iter_mut().filter_map(|f| f.belongs_to.as_mut()) {
        b.target = resolve_self(&b.target, &ident);
    }
    let krate = match &attrs.krate {
        Some(p) => p.to_token_stream(),
        None => quote!(::dal),
    };
    let entity = Entity {
        ident,
        krate,
        table,
        collation: attrs.collation.as_ref().map(|c| (**c).clone()),
        history: attrs.history.is_present(),
        hooks: attrs.hooks.is_present(),
        cache: attrs.cache.is_present(),
        soft_delete: attrs.soft_delete.is_present(),
        fields: Vec::new(),
        hidden: Vec::new(),
        relations: relations(&attrs, &mut errors),
    };
    Ok(Draft {
        entity,
        fields,
        timestamps: attrs.timestamps.is_present(),
        errors,
    })
}

/// An entity as the attributes describe it, before `check` gives the fields
/// their implicit roles, adds the hidden columns and checks the cross-field
/// rules (`check::finish`), with the errors found so far.
pub(crate) struct Draft {
    /// The entity, its `fields` and `hidden` columns still empty.
    pub entity: Entity,
    /// The fields, roles from the attributes only.
    pub fields: Vec<Field>,
    /// `#[dal(timestamps)]`
    pub timestamps: bool,
    /// The errors found while building it.
    pub errors: darling::error::Accumulator,
}

/// The column type a field gets, when the macro can tell from the type's name
/// (the real type comes from `SqlType` at run time; this one serves compile-time checks).
pub(crate) fn guessed_column_type(f: &Field) -> Option<ColumnType> {
    if let Storage::Json = f.storage {
        return Some(ColumnType::Json);
    }
    if let Storage::With(_) = f.storage {
        return None;
    }
    let base = types::known_column_type(&f.inner_ty)?;
    Some(match (base, f.length, f.precision, f.scale) {
        (ColumnType::Text, Some(n), _, _) => ColumnType::String { length: n },
        (ColumnType::Decimal { precision, scale }, _, p, s) => ColumnType::Decimal {
            precision: p.unwrap_or(precision),
            scale: s.unwrap_or(scale),
        },
        (t, _, _, _) => t,
    })
}
