//! Procedural macros for dal. Each entry point forwards to a `*_inner` function
//! over `proc_macro2` token streams so expansions can be unit-tested.
//!
//! Use them through the `dal` crate (`#[derive(dal::FromRow)]`); the generated
//! code names only paths under `::dal::__private`.

mod from_row;

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
