//! `schema! { ... }`: `parse` (a plain `syn::Parse` syntax tree) -> `lower`
//! (names resolved, every rule checked, the blueprints built and validated with
//! `dal_schema` exactly as the runtime builds them) -> `expand` (an expression
//! that builds the `Script` through the fluent builder).
//!
//! The grammar is documented on `dal::schema!` (dal/src/lib.rs).

mod expand;
mod lower;
mod parse;

use proc_macro2::{Span, TokenStream};
use quote::quote;

/// Expand `schema! { ... }`.
pub(crate) fn schema_inner(input: TokenStream) -> TokenStream {
    let parsed = match syn::parse2::<parse::SchemaInput>(input) {
        Ok(p) => p,
        Err(e) => return errors_expr(e),
    };
    match lower::lower(&parsed) {
        Ok(model) => expand::expand(&model),
        Err(e) => errors_expr(e),
    }
}

/// Every error as one expression (`schema!` is used in expression position, where
/// several `compile_error!` invocations in a row would not parse).
fn errors_expr(errors: syn::Error) -> TokenStream {
    let mut each: Vec<TokenStream> = errors.into_iter().map(|e| e.to_compile_error()).collect();
    // the last one is the block's value, so the block takes any type
    let last = each.pop();
    quote!({ #(#each;)* (#last) })
}

/// An error covering the tokens from `start` to `end` (e.g. `decimal(price)`).
pub(crate) fn error_between(start: Span, end: Span, message: impl std::fmt::Display) -> syn::Error {
    let mut tokens = TokenStream::new();
    tokens.extend([
        proc_macro2::TokenTree::Ident(proc_macro2::Ident::new("start", start)),
        proc_macro2::TokenTree::Ident(proc_macro2::Ident::new("end", end)),
    ]);
    syn::Error::new_spanned(tokens, message)
}

/// `unknown {what} `{got}``, followed by the closest valid name ("did you mean") or,
/// when nothing is close, the list of valid names.
pub(crate) fn unknown_name(
    what: &str,
    got: &str,
    valid: &[&str],
    aliases: &[(&str, &str)],
) -> String {
    let head = format!("unknown {what} `{got}`");
    match did_you_mean(got, valid.iter().copied()).or_else(|| {
        aliases
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(got))
            .map(|(_, real)| *real)
    }) {
        Some(s) => format!("{head}: did you mean `{s}`?"),
        None => format!("{head}; expected one of: {}", valid.join(", ")),
    }
}

/// The candidate closest to `got` by edit distance (transpositions count once),
/// when it is close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a>(
    got: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let got_lower = got.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&got_lower, c), c))
        .filter(|(d, c)| *d > 0 || got != *c)
        .filter(|(d, c)| *d <= (got.len().max(c.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance (insertions, deletions, substitutions
/// and adjacent transpositions each cost one), from `strsim`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(input: &str) -> String {
        schema_inner(input.parse().expect("tokens")).to_string()
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("string", "string"), 0);
        assert_eq!(edit_distance("strng", "string"), 1);
        assert_eq!(edit_distance("nullabel", "nullable"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(did_you_mean("strng", ["string", "text"]), Some("string"));
        assert_eq!(did_you_mean("zzz", ["string", "text"]), None);
        assert_eq!(did_you_mean("Cascade", ["cascade"]), Some("cascade"));
    }

    #[test]
    fn unknown_names_suggest_or_list() {
        assert_eq!(
            unknown_name("modifier", "nullabel", &["nullable", "unique"], &[]),
            "unknown modifier `nullabel`: did you mean `nullable`?"
        );
        assert_eq!(
            unknown_name("modifier", "zap", &["nullable", "unique"], &[]),
            "unknown modifier `zap`; expected one of: nullable, unique"
        );
        assert_eq!(
            unknown_name("column type", "bool", &["boolean"], &[("bool", "boolean")]),
            "unknown column type `bool`: did you mean `boolean`?"
        );
    }

    #[test]
    fn expands_to_builder_calls_on_private_paths() {
        let out = expand(
            r#"create users { id(); string(email, 150).unique(); boolean(active).default(true);
                              enumeration(role, ["admin", "user"]).default("user"); timestamps(); soft_deletes(); }
               create posts { id(); foreign_id(user_id).references(users).on_delete(cascade); string(title); index(title); }
               alter users { add string(nick, 40).nullable(); add_index(nick); }
               rename posts to articles;
               drop articles;"#,
        );
        assert!(!out.contains("compile_error"), "{out}");
        for needle in [
            ":: dal :: __private :: Script :: new ()",
            ":: dal :: __private :: Table :: build (\"users\"",
            ". string (\"email\" , 150u32) . unique ()",
            ". default (true)",
            ". enumeration (\"role\" , [\"admin\" , \"user\"]) . default (\"user\")",
            ". references (\"users\") . on_delete (:: dal :: __private :: ReferentialAction :: Cascade)",
            ". string (\"title\" , 255u32)",
            ". index ([\"title\"])",
            ". add_to_table (\"users\"",
            ". rename_table (\"posts\" , \"articles\")",
            ". drop_table (\"articles\")",
        ] {
            assert!(out.contains(needle), "missing {needle:?} in {out}");
        }
        // nothing outside `::dal::__private` is named
        let mut without_private = out.clone();
        for item in [
            "Script ::",
            "Table ::",
            "ReferentialAction ::",
            "DefaultValue ::",
            "",
        ] {
            without_private =
                without_private.replace(&format!(":: dal :: __private :: {item}"), "");
        }
        assert!(!without_private.contains("::"), "{out}");
    }

    #[test]
    fn an_empty_schema_is_an_empty_script() {
        assert_eq!(expand(""), ":: dal :: __private :: Script :: new ()");
    }

    #[test]
    fn reports_every_problem_at_once() {
        let out = expand(
            r#"create users { id(); strng(email); boolean(active).default("yes").nullabel(); }
               create users { id(); }
               create posts { id(); foreign_id(user_id).references(teams); index(titel); }"#,
        );
        for needle in [
            "unknown column type `strng`: did you mean `string`?",
            "unknown modifier `.nullabel()`: did you mean `.nullable()`?",
            "boolean column `active`",
            "table `users` is already created above",
            "table `teams` is not created in this `schema!`",
            "unknown column `titel`",
        ] {
            assert!(out.contains(needle), "missing {needle:?} in {out}");
        }
    }

    #[test]
    fn syntax_errors_of_several_items_are_all_reported() {
        let out = expand(
            r#"create users { id(); primary(); check(); string(email) 5; }
               drop users users;"#,
        );
        for needle in [
            "`primary` needs at least one column",
            "`check` takes one string",
            "expected `;`",
        ] {
            assert!(out.contains(needle), "missing {needle:?} in {out}");
        }
        assert_eq!(out.matches("compile_error").count(), 4, "{out}");
    }
}
