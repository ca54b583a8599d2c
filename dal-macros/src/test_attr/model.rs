//! The test as the expansion reads it: the options and the function, checked
//! together. Every problem is reported at once, spanned on what is wrong.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;

use super::attr::{self, Backend, Flavor};

/// The runtime the body runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Runtime {
    CurrentThread,
    /// With this many workers, or tokio's default.
    MultiThread(Option<usize>),
}

/// A checked `#[dal::test]` function.
pub(crate) struct TestFn {
    /// The function as written, without its attributes.
    pub func: syn::ItemFn,
    /// The argument's type (`dal::Db`, `dal::testing::TestDatabase`).
    pub arg_ty: syn::Type,
    /// Where a wrong result type is reported: the return type, else the name.
    pub result_span: Span,
    /// The function's attributes, sorted by where they go.
    pub attrs: Attrs,
    /// `#[should_panic]`: the database is removed when the body panics.
    pub expect_panic: bool,
    /// In the order written, at least one; SQLite when not given.
    pub backends: Vec<Backend>,
    pub entities: Vec<syn::Path>,
    pub migrator: Option<syn::Expr>,
    pub runtime: Runtime,
}

/// The function's attributes.
#[derive(Default)]
pub(crate) struct Attrs {
    /// `#[ignore]`, `#[should_panic]`: on each generated test.
    pub per_test: Vec<syn::Attribute>,
    /// `#[cfg(..)]`: on everything generated.
    pub cfg: Vec<syn::Attribute>,
    /// Docs, lints and the rest: on the function holding the body.
    pub other: Vec<syn::Attribute>,
}

/// Parse and check the attribute's options and the function.
pub(crate) fn build(args: TokenStream, item: TokenStream) -> darling::Result<TestFn> {
    let mut errors = darling::Error::accumulator();
    let options = attr::parse(args, &mut errors);
    let func = match syn::parse2::<syn::ItemFn>(item) {
        Ok(f) => f,
        Err(_) => {
            errors.push(darling::Error::custom(
                "`#[dal::test]` goes on an `async fn` taking a database: `async fn name(db: dal::Db)`",
            ));
            return Err(errors.finish().expect_err("an error was pushed"));
        }
    };
    let sig = &func.sig;

    // the body runs on a runtime the attribute starts: it must be a future
    if sig.asyncness.is_none() {
        errors.push(
            darling::Error::custom(
                "`#[dal::test]` functions must be `async`: `async fn name(db: dal::Db)`",
            )
            .with_span(&sig.fn_token),
        );
    }
    // one runtime call site cannot name type or const parameters
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(
            darling::Error::custom("`#[dal::test]` functions cannot be generic")
                .with_span(&sig.generics),
        );
    }
    if let syn::Safety::Unsafe(unsafety) = &sig.safety {
        errors.push(
            darling::Error::custom("`#[dal::test]` functions cannot be `unsafe`")
                .with_span(unsafety),
        );
    }
    let args_form = "a `#[dal::test]` function takes one argument, its database: `db: dal::Db` (the pool) or `t: dal::testing::TestDatabase` (the pool with its URL and name)";
    let arg_ty = match sig.inputs.iter().collect::<Vec<_>>().as_slice() {
        [syn::FnArg::Typed(pt)] => Some((*pt.ty).clone()),
        [syn::FnArg::Receiver(r)] => {
            errors.push(darling::Error::custom(args_form).with_span(r));
            None
        }
        [] => {
            errors.push(darling::Error::custom(args_form).with_span(&sig.ident));
            None
        }
        [_, extra @ ..] => {
            let extra: Vec<&syn::FnArg> = extra.to_vec();
            errors.push(darling::Error::custom(args_form).with_span(&extra[0]));
            None
        }
    };
    let result_span = match &sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => sig.ident.span(),
    };

    let mut attrs = Attrs::default();
    let mut expect_panic = false;
    for a in &func.attrs {
        let last = a.path().segments.last().map(|s| s.ident.to_string());
        match last.as_deref() {
            // `#[test]`, `#[tokio::test]`: a second test of the same function
            Some("test") => errors.push(
                darling::Error::custom(
                    "remove this attribute: `#[dal::test]` makes the test itself (and starts its runtime)",
                )
                .with_span(a),
            ),
            Some("should_panic") if a.path().get_ident().is_some() => {
                expect_panic = true;
                attrs.per_test.push(a.clone());
            }
            Some("ignore") if a.path().get_ident().is_some() => attrs.per_test.push(a.clone()),
            Some("cfg") if a.path().get_ident().is_some() => attrs.cfg.push(a.clone()),
            _ => attrs.other.push(a.clone()),
        }
    }

    let runtime = match (options.flavor, options.worker_threads) {
        (None | Some((Flavor::CurrentThread, _)), None) => Runtime::CurrentThread,
        (Some((Flavor::MultiThread, _)), None) => Runtime::MultiThread(None),
        (None | Some((Flavor::MultiThread, _)), Some((n, _))) => Runtime::MultiThread(Some(n)),
        // a current-thread runtime has no workers to count
        (Some((Flavor::CurrentThread, _)), Some((_, span))) => {
            errors.push(
                darling::Error::custom(
                    "`worker_threads` needs the multi-threaded runtime: remove `flavor = \"current_thread\"`",
                )
                .with_span(&span),
            );
            Runtime::CurrentThread
        }
    };
    let backends = match &options.backends {
        Some((_, list)) => list.iter().map(|b| b.backend).collect(),
        None => vec![Backend::Sqlite],
    };

    // every `None` above pushed its error
    errors.finish()?;
    let mut func = func;
    func.attrs.clear();
    Ok(TestFn {
        func,
        arg_ty: arg_ty.expect("an argument error was reported"),
        result_span,
        attrs,
        expect_panic,
        backends,
        entities: options.entities,
        migrator: options.migrator,
        runtime,
    })
}
