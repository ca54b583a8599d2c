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
    /// Keep every version in `{table}_history`.
    #[darling(default)]
    pub history: Flag,
    /// Deletes set `deleted_at` instead of removing the row.
    #[darling(default)]
    pub soft_delete: Flag,
    /// `created_at` and `updated_at` columns, filled by dal.
    #[darling(default)]
    pub timestamps: Flag,
    /// Path of the `dal` crate when it is renamed.
    #[darling(default, rename = "crate")]
    pub krate: Option<syn::Path>,
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
