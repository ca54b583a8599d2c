//! The code `#[dal::test]` generates: `#[test]` functions building a
//! `dal::testing::TestRun`. Generated code names only `::dal::__private::testing`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::attr::Backend;
use super::model::{Runtime, TestFn};

/// One backend: the function becomes a `#[test]` of the same name with the
/// body inside (a plain function, unused, in builds without `--test`). Several: a module of that name with one `#[test]` per
/// backend, each calling a function of that name which holds the body.
pub(crate) fn expand(t: &TestFn) -> TokenStream {
    let ident = &t.func.sig.ident;
    let vis = &t.func.vis;
    let body_fn = &t.func;
    // the test attributes only where `#[test]` is, so a build without
    // `--test` (`cargo check`, doctests, trybuild) still type-checks the
    // function instead of dropping it
    let per_test: Vec<TokenStream> = t
        .attrs
        .per_test
        .iter()
        .map(|a| {
            let meta = &a.meta;
            quote!(#[cfg_attr(test, #meta)])
        })
        .collect();
    let cfg = &t.attrs.cfg;
    let other = &t.attrs.other;
    if let [backend] = t.backends.as_slice() {
        let run = run(t, dialect(*backend), quote!(::core::option::Option::None));
        return quote! {
            #(#cfg)*
            #(#other)*
            #(#per_test)*
            #[cfg_attr(test, ::core::prelude::v1::test)]
            #[cfg_attr(not(test), allow(dead_code))]
            #vis fn #ident() {
                #body_fn
                let _ = #run;
            }
        };
    }
    let backend = format_ident!("__dal_backend");
    let run = run(
        t,
        quote!(#backend),
        quote!(::core::option::Option::Some(#backend.name())),
    );
    let tests = t.backends.iter().map(|b| {
        let name = format_ident!("{}", b.test_name());
        let d = dialect(*b);
        quote! {
            #(#per_test)*
            #[::core::prelude::v1::test]
            fn #name() {
                super::#ident(#d)
            }
        }
    });
    quote! {
        #(#cfg)*
        #(#other)*
        #[allow(dead_code)]
        #vis fn #ident(#backend: ::dal::__private::testing::Dialect) {
            #body_fn
            let _ = #run;
        }

        #(#cfg)*
        #vis mod #ident {
            #(#tests)*
        }
    }
}

/// `::dal::Dialect::X`.
fn dialect(b: Backend) -> TokenStream {
    match b {
        Backend::Sqlite => quote!(::dal::__private::testing::Dialect::Sqlite),
        Backend::Postgres => quote!(::dal::__private::testing::Dialect::Postgres),
        Backend::MySql => quote!(::dal::__private::testing::Dialect::MySql),
    }
}

/// The `TestRun` expression running the body (a function named like the
/// test, in scope where this expression goes).
fn run(t: &TestFn, dialect: TokenStream, backend_name: TokenStream) -> TokenStream {
    let ident = &t.func.sig.ident;
    let name = ident.to_string();
    // the migrator lays the schema down, then each entity completes it
    let migrator = t
        .migrator
        .iter()
        .map(|m| quote_spanned!(m.span()=> .migrator(#m)));
    let entities = t
        .entities
        .iter()
        .map(|e| quote_spanned!(e.span()=> .entity::<#e>()));
    let runtime = match t.runtime {
        Runtime::CurrentThread => quote!(),
        Runtime::MultiThread(None) => quote!(.multi_thread()),
        Runtime::MultiThread(Some(n)) => quote!(.worker_threads(#n)),
    };
    let expect_panic = t.expect_panic.then(|| quote!(.expect_panic()));
    let ty = &t.arg_ty;
    // spanned so a wrong argument or result type is reported where it is written
    let argument = quote_spanned! {ty.span()=>
        <#ty as ::dal::__private::testing::TestArgument>::from_test_database
    };
    // the result's own tokens carry the span too: the error points at its type
    let outcome = quote_spanned! {t.result_span=>
        ::dal::__private::testing::outcome(__dal_test_result)
    };
    quote! {
        ::dal::__private::testing::TestRun::new(
            #dialect,
            ::dal::__private::testing::test_name(::core::module_path!(), #name, #backend_name),
        )
        #(#migrator)*
        #(#entities)*
        #runtime
        #expect_panic
        .run(|__dal_test_db: ::dal::__private::testing::TestDatabase| {
            let __dal_test_arg = #argument(__dal_test_db);
            async move {
                let __dal_test_result = #ident(__dal_test_arg).await;
                #outcome
            }
        })
    }
}
