//! The `#[dal(...)]` attributes of `#[derive(Entity)]`, as darling reads them.
//! Nothing here is validated beyond syntax; see `check.rs`.

use darling::util::{Flag, SpannedValue};
use darling::{FromDeriveInput, FromField, ast};

/// Struct-level options.
#[derive(FromDeriveInput)]
#[darling(attributes(dal), supports(struct_named))]
pub(crate) struct EntityAttrs {
    pub ident: syn::Ident,
    pub generics: syn::Generics,
    pub data: ast::Data<(), FieldAttrs>,
    /// Table name (default: snake_case plural of the struct name).
    #[darling(default)]
    pub table: Option<SpannedValue<String>>,
    /// The table's collation on MySQL/MariaDB (default `utf8mb4_bin`).
    #[darling(default)]
    pub collation: Option<SpannedValue<String>>,
    /// Keep every version in `{table}_history`.
    #[darling(default)]
    pub history: Flag,
    /// Deletes set `deleted_at` instead of removing the row.
    #[darling(default)]
    pub soft_delete: Flag,
    /// `created_at` and `updated_at` columns, filled by dal.
    #[darling(default)]
    pub timestamps: Flag,
    /// Run the entity's `dal::Hooks` around its saves and deletes.
    #[darling(default)]
    pub hooks: Flag,
    /// `get` goes through the database's read cache, when it has one (the
    /// struct must be `serde::Serialize` and `Deserialize`).
    #[darling(default)]
    pub cache: Flag,
    /// Path of the `dal` crate when it is renamed.
    #[darling(default, rename = "crate")]
    pub krate: Option<syn::Path>,
    /// `has_many(tasks = Task::OWNER)`: the children holding this entity's key.
    #[darling(multiple)]
    pub has_many: Vec<RelationDecl>,
    /// `has_one(profile = Profile::USER)`: the child holding this entity's key.
    #[darling(multiple)]
    pub has_one: Vec<RelationDecl>,
    /// `many_to_many(tags = Tag, through = PostTag::TAG, from = PostTag::POST)`.
    #[darling(multiple)]
    pub many_to_many: Vec<ThroughDecl>,
}

/// `name = Entity::RELATION`: a has-many or has-one and the belongs-to it
/// reads backwards.
pub(crate) struct RelationDecl {
    pub name: syn::Ident,
    pub inverse: syn::Path,
}

/// `name = Target, through = Join::TO_TARGET, from = Join::TO_SELF`.
pub(crate) struct ThroughDecl {
    pub name: syn::Ident,
    pub target: syn::Path,
    pub through: syn::Path,
    pub from: syn::Path,
}

/// The `key = path` items of a relation declaration.
fn name_values(
    items: &[darling::ast::NestedMeta],
) -> darling::Result<Vec<(syn::Ident, syn::Path)>> {
    let mut out = Vec::new();
    let mut errors = darling::Error::accumulator();
    for item in items {
        match item {
            darling::ast::NestedMeta::Meta(syn::Meta::NameValue(nv)) => {
                let key = nv.path.get_ident().cloned();
                let value = match &nv.value {
                    syn::Expr::Path(p) if p.qself.is_none() => Some(p.path.clone()),
                    _ => None,
                };
                match (key, value) {
                    (Some(k), Some(v)) => out.push((k, v)),
                    (None, _) => errors.push(
                        darling::Error::custom("expected a relation name, like `tasks = Task::OWNER`")
                            .with_span(&nv.path),
                    ),
                    (_, None) => errors.push(
                        darling::Error::custom(
                            "expected a path: an entity (`Tag`) or one of its relations (`Task::OWNER`)",
                        )
                        .with_span(&nv.value),
                    ),
                }
            }
            other => errors.push(
                darling::Error::custom("expected `name = Entity::RELATION`").with_span(other),
            ),
        }
    }
    errors.finish_with(out)
}

impl darling::FromMeta for RelationDecl {
    fn from_meta(item: &syn::Meta) -> darling::Result<Self> {
        let syn::Meta::List(list) = item else {
            return Err(darling::Error::custom(
                "expected `has_many(name = Child::RELATION)` (or `has_one(..)`)",
            )
            .with_span(item));
        };
        let items = darling::ast::NestedMeta::parse_meta_list(list.tokens.clone())?;
        let pairs = name_values(&items)?;
        match pairs.as_slice() {
            [(name, inverse)] => Ok(RelationDecl {
                name: name.clone(),
                inverse: inverse.clone(),
            }),
            _ => Err(darling::Error::custom(
                "declare one relation per `has_many(..)` / `has_one(..)`: `name = Child::RELATION`, naming the child's belongs-to",
            )
            .with_span(item)),
        }
    }
}

impl darling::FromMeta for ThroughDecl {
    fn from_meta(item: &syn::Meta) -> darling::Result<Self> {
        let syn::Meta::List(list) = item else {
            return Err(darling::Error::custom(
                "expected `many_to_many(name = Target, through = Join::TO_TARGET, from = Join::TO_SELF)`",
            )
            .with_span(item));
        };
        let items = darling::ast::NestedMeta::parse_meta_list(list.tokens.clone())?;
        let pairs = name_values(&items)?;
        let mut name = None;
        let (mut through, mut from) = (None, None);
        let mut errors = darling::Error::accumulator();
        for (k, v) in pairs {
            match k.to_string().as_str() {
                "through" if through.is_none() => through = Some(v),
                "from" if from.is_none() => from = Some(v),
                "through" | "from" => errors.push(
                    darling::Error::custom(format!("`{k}` is given twice")).with_span(&k),
                ),
                _ if name.is_none() => name = Some((k, v)),
                _ => errors.push(
                    darling::Error::custom(
                        "one relation per `many_to_many(..)`: `name = Target, through = Join::TO_TARGET, from = Join::TO_SELF`",
                    )
                    .with_span(&k),
                ),
            }
        }
        errors.finish()?;
        match (name, through, from) {
            (Some((name, target)), Some(through), Some(from)) => Ok(ThroughDecl {
                name,
                target,
                through,
                from,
            }),
            _ => Err(darling::Error::custom(
                "a many-to-many needs `name = Target`, `through = Join::TO_TARGET` (the join entity's belongs-to to the target) and `from = Join::TO_SELF` (its belongs-to to this entity)",
            )
            .with_span(item)),
        }
    }
}

/// `belongs_to = Entity` (a path, or a string holding one).
pub(crate) struct BelongsToTarget(pub syn::Path);

impl darling::FromMeta for BelongsToTarget {
    fn from_meta(item: &syn::Meta) -> darling::Result<Self> {
        let wrong = |span: proc_macro2::Span| {
            darling::Error::custom("`belongs_to` takes the parent entity, like `belongs_to = User`")
                .with_span(&span)
        };
        let syn::Meta::NameValue(nv) = item else {
            return Err(wrong(syn::spanned::Spanned::span(item)));
        };
        match &nv.value {
            syn::Expr::Path(p) if p.qself.is_none() => Ok(BelongsToTarget(p.path.clone())),
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => s.parse().map(BelongsToTarget).map_err(|_| wrong(s.span())),
            other => Err(wrong(syn::spanned::Spanned::span(other))),
        }
    }
}

/// `relation = "name"`.
pub(crate) struct RelationName(pub String);

impl darling::FromMeta for RelationName {
    fn from_meta(item: &syn::Meta) -> darling::Result<Self> {
        match item {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }),
                ..
            }) => Ok(RelationName(s.value())),
            syn::Meta::NameValue(nv) => Err(darling::Error::custom(
                "`relation` takes the name as a string, like `relation = \"owner\"`",
            )
            .with_span(&nv.value)),
            other => Err(darling::Error::custom(
                "`relation` takes the name as a string, like `relation = \"owner\"`",
            )
            .with_span(other)),
        }
    }
}

/// Field-level options.
#[derive(FromField)]
#[darling(attributes(dal))]
pub(crate) struct FieldAttrs {
    pub ident: Option<syn::Ident>,
    pub ty: syn::Type,
    /// The primary key (auto-increment integer, generated UUID, or set by you).
    #[darling(default)]
    pub id: Flag,
    /// `VARCHAR(n)` instead of `TEXT` for a string.
    #[darling(default)]
    pub length: Option<SpannedValue<u32>>,
    /// Decimal precision (total digits).
    #[darling(default)]
    pub precision: Option<SpannedValue<u8>>,
    /// Decimal scale (digits after the point).
    #[darling(default)]
    pub scale: Option<SpannedValue<u8>>,
    /// A unique index on this column.
    #[darling(default)]
    pub unique: Flag,
    /// A (non-unique) index on this column.
    #[darling(default)]
    pub index: Flag,
    /// The column's default (a literal).
    #[darling(default)]
    pub default: Option<syn::Lit>,
    /// Store any serde type as JSON.
    #[darling(default)]
    pub json: Flag,
    /// A codec module with `encode`, `decode` and `column_type`.
    #[darling(default)]
    pub with: Option<syn::Path>,
    /// A foreign key: `"table.column"` (or `"table"` for its `id`).
    #[darling(default)]
    pub references: Option<SpannedValue<String>>,
    /// A belongs-to relation: the field holds the key of this entity.
    #[darling(default)]
    pub belongs_to: Option<BelongsToTarget>,
    /// The relation's name (default: the field name without `_id`).
    #[darling(default)]
    pub relation: Option<SpannedValue<RelationName>>,
    /// Action on delete of the referenced row.
    #[darling(default)]
    pub on_delete: Option<SpannedValue<String>>,
    /// Action on update of the referenced key.
    #[darling(default)]
    pub on_update: Option<SpannedValue<String>>,
    /// Column name (default: the field name).
    #[darling(default)]
    pub rename: Option<SpannedValue<String>>,
    /// Not stored: filled with `Default::default()` when loaded.
    #[darling(default)]
    pub skip: Flag,
    /// The shard key: `dal::Shards` routes the entity's rows by this field.
    #[darling(default)]
    pub shard_key: Flag,
    /// Optimistic-locking version counter.
    #[darling(default)]
    pub version: Flag,
    /// Set when the row is inserted.
    #[darling(default)]
    pub created_at: Flag,
    /// Set by every write.
    #[darling(default)]
    pub updated_at: Flag,
    /// Set by a soft delete.
    #[darling(default)]
    pub deleted_at: Flag,
}
