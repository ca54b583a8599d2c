//! Procedural macros for dal (`#[dal::test]` among them). Each entry point forwards to a `*_inner` function
//! over `proc_macro2` token streams so expansions can be unit-tested.
//!
//! Use them through the `dal` crate (`#[derive(dal::FromRow)]`); the generated
//! code names only paths under `::dal::__private`.

// Names and SQL in attributes are user text: slice it only through char-safe APIs.
#![warn(clippy::string_slice)]

mod db_enum;
mod entity;
mod from_row;
mod schema;
mod test_attr;

use proc_macro::TokenStream;

/// Derive `dal::FromRow` for a struct with named fields: each field is read from
/// the column of the same name.
///
/// Field options (`#[dal(...)]`): `rename = "column"`, `skip` (filled with
/// `Default::default()`), `default` (a missing or NULL column gives
/// `Default::default()`), `json` (the column holds JSON decoded into the field's type).
#[proc_macro_derive(FromRow, attributes(dal))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    from_row::derive_inner(input.into()).into()
}

/// Derive `dal::Entity`: map a struct with named fields to a table.
///
/// Struct options (`#[dal(...)]`): `table = "name"` (default: snake_case plural
/// of the struct name), `history`, `soft_delete`, `timestamps`, `hooks`,
/// `cache` (`get` and `find().cached()` go through the database's read
/// cache; the struct must derive `serde::Serialize` and `Deserialize`, and
/// its serde form must keep every field), `crate = "path"`.
///
/// Field options: `id`, `length = N`, `precision = P`, `scale = S`, `unique`,
/// `index`, `default = <literal>`, `json`, `with = path`,
/// `references = "table.column"` with `on_delete` / `on_update` (`cascade`,
/// `restrict`, `set_null`, `set_default`, `no_action`), `rename = "column"`,
/// `skip`, `version`, `created_at`, `updated_at`, `deleted_at`, `shard_key`
/// (the field `dal::Shards` routes rows by: one per entity, stored as it
/// is, not an `Option`, not a column dal sets itself).
///
/// See the `dal::entity` module documentation for the full guide.
#[proc_macro_derive(Entity, attributes(dal))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    entity::derive_inner(input.into()).into()
}

/// Derive a column type for a fieldless enum: stored as text (the variant's
/// name in snake_case, or as `rename_all` / `rename` say), in an enumeration
/// column. Documented on the re-export `dal::DbEnum`.
#[proc_macro_derive(DbEnum, attributes(dal))]
pub fn derive_db_enum(input: TokenStream) -> TokenStream {
    db_enum::derive_inner(input.into()).into()
}

/// Build a `dal::schema::Script` from the schema DSL, checked at compile time.
///
/// The grammar, with examples, is documented on the re-export `dal::schema!`.
#[proc_macro]
pub fn schema(input: TokenStream) -> TokenStream {
    schema::schema_inner(input.into()).into()
}

/// Run an async test on a database of its own, on one or several backends.
///
/// Documented on the re-export `dal::test`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    test_attr::test_inner(args.into(), item.into()).into()
}
