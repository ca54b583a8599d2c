//! `#[derive(Entity)]`: `attr` (darling parsing) -> `model` + `check`
//! (validated model) -> `expand` (code generation).

mod attr;
mod check;
mod expand;
mod model;
mod types;

use proc_macro2::TokenStream;

/// Expand `#[derive(Entity)]`.
pub(crate) fn derive_inner(input: TokenStream) -> TokenStream {
    let parsed = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(p) => p,
        Err(e) => return e.to_compile_error(),
    };
    match model::build(&parsed).and_then(check::finish) {
        Ok(entity) => expand::expand(&entity),
        Err(e) => {
            let mut out = e.write_errors();
            out.extend(expand::fallback(&parsed));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn expand(input: TokenStream) -> String {
        derive_inner(input).to_string()
    }

    #[test]
    fn table_names() {
        for (s, t) in [
            ("User", "users"),
            ("Category", "categories"),
            ("Address", "addresses"),
            ("HttpLog", "http_logs"),
            ("Day", "days"),
            ("Box", "boxes"),
            ("APIKey", "api_keys"),
        ] {
            assert_eq!(model::default_table_name(s), t, "{s}");
        }
    }

    #[test]
    fn expands_sql_constants_per_dialect() {
        let out = expand(quote! {
            #[dal(history, soft_delete, timestamps)]
            struct User {
                #[dal(id)] id: i64,
                #[dal(length = 150, unique)] email: String,
                name: Option<String>,
            }
        });
        assert!(out.contains("INSERT INTO \\\"users\\\""), "{out}");
        assert!(out.contains("INSERT INTO `users`"), "{out}");
        assert!(out.contains("users_history"), "{out}");
        assert!(out.contains("pub const EMAIL"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn reports_every_problem() {
        let out = expand(quote! {
            #[dal(history)]
            struct Bad {
                #[dal(id)] a: i64,
                #[dal(id)] b: i64,
                #[dal(version)] v: String,
                #[dal(length = 10)] n: i64,
                #[dal(on_delete = "cascade")] c: i64,
                #[dal(unique)] body: String,
                history_note: String,
            }
        });
        for needle in [
            "second `#[dal(id)]`",
            "`version` needs an integer",
            "`length` applies to `String`",
            "`on_delete` needs a foreign key",
            "give it a length",
            "reserved for the history table",
        ] {
            assert!(out.contains(needle), "missing {needle:?} in {out}");
        }
    }

    #[test]
    fn suggests_known_options() {
        let out = expand(quote! {
            struct U { #[dal(id)] id: i64, #[dal(lenght = 5)] s: String }
        });
        assert!(out.contains("length"), "{out}");
    }
}
