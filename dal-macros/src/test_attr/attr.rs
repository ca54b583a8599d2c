//! The options of `#[dal::test(...)]`, read from the attribute's tokens. Each
//! option's own form is checked here; rules across options and the function
//! are in `model.rs`.

use darling::ast::NestedMeta;
use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;

use crate::schema::edit_distance;

/// The options a test attribute takes, for messages.
const OPTIONS: [&str; 5] = [
    "backends",
    "entities",
    "migrator",
    "flavor",
    "worker_threads",
];

/// A backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    /// The name of the backend's test function (`name::postgres`).
    pub(crate) fn test_name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }

    /// The backend for a name, its aliases as `DatabaseConfig` takes them included.
    fn from_name(name: &str) -> Option<Backend> {
        match name {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" | "pg" => Some(Backend::Postgres),
            "mysql" | "mariadb" => Some(Backend::MySql),
            _ => None,
        }
    }
}

/// A backend as written in `backends(..)`.
pub(crate) struct BackendName {
    pub backend: Backend,
    pub ident: syn::Ident,
}

/// `flavor = "..."`: tokio's runtime flavors, by tokio's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

/// The options as written; each given at most once.
#[derive(Default)]
pub(crate) struct Options {
    /// `backends(..)`, with the list's span.
    pub backends: Option<(Span, Vec<BackendName>)>,
    pub entities: Vec<syn::Path>,
    pub migrator: Option<syn::Expr>,
    pub flavor: Option<(Flavor, Span)>,
    pub worker_threads: Option<(usize, Span)>,
}

/// Read the options, reporting every problem to `errors` and keeping the
/// options that are well formed (so rules across options still apply).
pub(crate) fn parse(args: TokenStream, errors: &mut darling::error::Accumulator) -> Options {
    let out = Options::default();
    let Some(items) = errors.handle(NestedMeta::parse_meta_list(args).map_err(Into::into)) else {
        return out;
    };
    let mut out = Options::default();
    let mut seen: Vec<String> = Vec::new();
    for item in &items {
        let meta = match item {
            NestedMeta::Meta(m) => m,
            NestedMeta::Lit(lit) => {
                errors.push(
                    darling::Error::custom(format!(
                        "expected an option of `#[dal::test]` ({})",
                        listed(&OPTIONS)
                    ))
                    .with_span(lit),
                );
                continue;
            }
            NestedMeta::NameValueInvalidExpr(invalid) => {
                errors.push(
                    darling::Error::custom(format!(
                        "`{}` takes an expression here",
                        quote::ToTokens::to_token_stream(&invalid.path)
                    ))
                    .with_span(&invalid.value),
                );
                continue;
            }
        };
        let Some(key) = meta.path().get_ident().map(|i| i.to_string()) else {
            let path = meta.path();
            errors.push(unknown(
                path,
                &quote::quote!(#path).to_string().replace(' ', ""),
            ));
            continue;
        };
        if !OPTIONS.contains(&key.as_str()) {
            errors.push(unknown(meta.path(), &key));
            continue;
        }
        // an option given twice: the second is reported, the first kept
        if seen.contains(&key) {
            errors.push(
                darling::Error::custom(format!("`{key}` is given twice")).with_span(meta.path()),
            );
            continue;
        }
        seen.push(key.clone());
        match key.as_str() {
            "backends" => {
                if let Some(b) = errors.handle(backends(meta)) {
                    out.backends = Some(b);
                }
            }
            "entities" => {
                if let Some(e) = errors.handle(entities(meta)) {
                    out.entities = e;
                }
            }
            "migrator" => match meta {
                syn::Meta::NameValue(nv) => out.migrator = Some(nv.value.clone()),
                _ => errors.push(
                    darling::Error::custom(
                        "`migrator` takes an expression giving a `dal::migrate::Migrator`: `migrator = crate::migrator()`",
                    )
                    .with_span(meta),
                ),
            },
            "flavor" => {
                if let Some(f) = errors.handle(flavor(meta)) {
                    out.flavor = Some(f);
                }
            }
            _ => {
                if let Some(n) = errors.handle(worker_threads(meta)) {
                    out.worker_threads = Some(n);
                }
            }
        }
    }
    out
}

/// `a`, `b` or `c`, each in backticks.
fn listed(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// An unknown option, with the closest known one when it is a likely typo.
fn unknown(path: &syn::Path, name: &str) -> darling::Error {
    let hint = OPTIONS
        .iter()
        .map(|o| (edit_distance(name, o), o))
        .min()
        .filter(|(d, _)| *d <= 3)
        .map(|(_, o)| format!("; did you mean `{o}`?"))
        .unwrap_or_default();
    darling::Error::custom(format!(
        "unknown `#[dal::test]` option `{name}`{hint} (the options are {})",
        listed(&OPTIONS)
    ))
    .with_span(path)
}

/// The items of `name(..)`, or an error showing the form.
fn list_items(meta: &syn::Meta, form: &str) -> darling::Result<Vec<NestedMeta>> {
    match meta {
        syn::Meta::List(list) => Ok(NestedMeta::parse_meta_list(list.tokens.clone())?),
        _ => Err(darling::Error::custom(format!("expected {form}")).with_span(meta)),
    }
}

/// `backends(sqlite, postgres, mysql)`.
fn backends(meta: &syn::Meta) -> darling::Result<(Span, Vec<BackendName>)> {
    let items = list_items(
        meta,
        "a list of backends: `backends(sqlite, postgres, mysql)`",
    )?;
    let mut errors = darling::Error::accumulator();
    let mut out: Vec<BackendName> = Vec::new();
    for item in &items {
        let ident = match item {
            NestedMeta::Meta(syn::Meta::Path(p)) => p.get_ident(),
            _ => None,
        };
        let Some(ident) = ident else {
            errors.push(
                darling::Error::custom("expected a backend: `sqlite`, `postgres` or `mysql`")
                    .with_span(item),
            );
            continue;
        };
        let Some(backend) = Backend::from_name(&ident.to_string()) else {
            errors.push(
                darling::Error::custom(format!(
                    "unknown backend `{ident}`; expected `sqlite`, `postgres` or `mysql` (`postgresql`, `pg` and `mariadb` are aliases)"
                ))
                .with_span(ident),
            );
            continue;
        };
        // a backend twice would make two tests of one name
        if let Some(first) = out.iter().find(|b| b.backend == backend) {
            let same = if first.ident == *ident {
                String::new()
            } else {
                format!(" (as `{}`)", first.ident)
            };
            errors.push(
                darling::Error::custom(format!(
                    "`{}` is listed twice in `backends(..)`{same}",
                    backend.test_name()
                ))
                .with_span(ident),
            );
            continue;
        }
        out.push(BackendName {
            backend,
            ident: ident.clone(),
        });
    }
    if items.is_empty() {
        errors.push(
            darling::Error::custom(
                "list at least one backend: `backends(sqlite, postgres, mysql)`",
            )
            .with_span(meta),
        );
    }
    errors.finish_with((meta.span(), out))
}

/// `entities(User, crate::Task)`.
fn entities(meta: &syn::Meta) -> darling::Result<Vec<syn::Path>> {
    let items = list_items(meta, "a list of entities: `entities(User, Task)`")?;
    let mut errors = darling::Error::accumulator();
    let mut out = Vec::new();
    for item in &items {
        match item {
            NestedMeta::Meta(syn::Meta::Path(p)) => out.push(p.clone()),
            _ => errors.push(
                darling::Error::custom("expected an entity type: `entities(User, Task)`")
                    .with_span(item),
            ),
        }
    }
    errors.finish_with(out)
}

/// `flavor = "current_thread"` or `"multi_thread"`.
fn flavor(meta: &syn::Meta) -> darling::Result<(Flavor, Span)> {
    let form = "expected `flavor = \"current_thread\"` or `flavor = \"multi_thread\"`";
    let syn::Meta::NameValue(nv) = meta else {
        return Err(darling::Error::custom(form).with_span(meta));
    };
    let syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(s),
        ..
    }) = &nv.value
    else {
        return Err(darling::Error::custom(form).with_span(&nv.value));
    };
    match s.value().as_str() {
        "current_thread" => Ok((Flavor::CurrentThread, s.span())),
        "multi_thread" => Ok((Flavor::MultiThread, s.span())),
        other => Err(darling::Error::custom(format!(
            "unknown runtime flavor `{other}`; expected `\"current_thread\"` or `\"multi_thread\"`"
        ))
        .with_span(s)),
    }
}

/// `worker_threads = 2`.
fn worker_threads(meta: &syn::Meta) -> darling::Result<(usize, Span)> {
    let form = "expected a number of threads: `worker_threads = 2`";
    let syn::Meta::NameValue(nv) = meta else {
        return Err(darling::Error::custom(form).with_span(meta));
    };
    let syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Int(n),
        ..
    }) = &nv.value
    else {
        return Err(darling::Error::custom(form).with_span(&nv.value));
    };
    match n.base10_parse::<usize>() {
        Ok(0) => Err(darling::Error::custom("`worker_threads` must be at least 1").with_span(n)),
        Ok(v) => Ok((v, n.span())),
        Err(e) => Err(darling::Error::custom(e.to_string()).with_span(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("backend", "backends"), 1);
        assert_eq!(edit_distance("entites", "entities"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
    }

    #[test]
    fn lists() {
        assert_eq!(listed(&["a"]), "`a`");
        assert_eq!(listed(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
