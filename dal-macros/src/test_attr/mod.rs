//! `#[dal::test]`: `attr` (the attribute's options, as written) -> `model`
//! (options and function checked together) -> `expand` (the `#[test]`
//! functions calling `dal::testing::TestRun`).

mod attr;
mod expand;
mod model;

use proc_macro2::TokenStream;

/// Expand `#[dal::test(args)] item`.
pub(crate) fn test_inner(args: TokenStream, item: TokenStream) -> TokenStream {
    match model::build(args, item.clone()) {
        Ok(test) => expand::expand(&test),
        Err(e) => {
            // the function as written, so its body is still checked and the
            // rest of the file does not fail on a missing name
            let mut out = e.write_errors();
            out.extend(item);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn expand(args: TokenStream, item: TokenStream) -> String {
        test_inner(args, item).to_string()
    }

    fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
        let item = syn::parse2::<syn::ItemFn>(item).unwrap();
        match model::build(args, quote!(#item)) {
            Ok(_) => Vec::new(),
            Err(e) => e.flatten().into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn one_backend_is_one_test_function() {
        let out = expand(
            quote!(entities(User, crate::Task), migrator = crate::migrator()),
            quote! {
                /// Saves.
                #[ignore]
                async fn saves(db: dal::Db) -> dal::Result<()> { Ok(()) }
            },
        );
        assert!(
            out.contains("# [cfg_attr (test , :: core :: prelude :: v1 :: test)]"),
            "{out}"
        );
        assert!(
            out.contains("# [cfg_attr (not (test) , allow (dead_code))] fn saves ()"),
            "{out}"
        );
        assert!(
            out.contains("async fn saves (db : dal :: Db) -> dal :: Result < () >"),
            "{out}"
        );
        assert!(out.contains("# [cfg_attr (test , ignore)]"), "{out}");
        assert!(out.contains("Dialect :: Sqlite"), "{out}");
        // the migrator first, then the entities in order
        let m = out.find(". migrator (crate :: migrator ())").expect(&out);
        let u = out.find(". entity :: < User > ()").expect(&out);
        let t = out.find(". entity :: < crate :: Task > ()").expect(&out);
        assert!(m < u && u < t, "{out}");
        assert!(!out.contains("worker_threads"), "{out}");
    }

    #[test]
    fn several_backends_make_a_module() {
        let out = expand(
            quote!(backends(sqlite, postgresql, mariadb), worker_threads = 2),
            quote! {
                #[should_panic]
                async fn round_trip(t: dal::testing::TestDatabase) {}
            },
        );
        assert!(
            out.contains(
                "fn round_trip (__dal_backend : :: dal :: __private :: testing :: Dialect)"
            ),
            "{out}"
        );
        assert!(out.contains("mod round_trip"), "{out}");
        for b in ["sqlite", "postgres", "mysql"] {
            assert!(out.contains(&format!("fn {b} ()")), "{b}: {out}");
        }
        assert!(out.contains("Dialect :: MySql"), "{out}");
        assert!(out.contains(". worker_threads (2usize)"), "{out}");
        assert!(out.contains(". expect_panic ()"), "{out}");
        assert_eq!(
            out.matches("# [cfg_attr (test , should_panic)]").count(),
            3,
            "{out}"
        );
    }

    #[test]
    fn flavor_alone_is_multi_thread_with_tokio_defaults() {
        let out = expand(
            quote!(flavor = "multi_thread"),
            quote!(
                async fn t(db: dal::Db) {}
            ),
        );
        assert!(out.contains(". multi_thread ()"), "{out}");
    }

    #[test]
    fn misuse_is_reported_all_at_once() {
        let e = errors(
            quote!(
                backend(sqlite),
                backends(sqlite, oracle, sqlite),
                flavor = "threaded"
            ),
            quote!(
                fn t(a: dal::Db, b: dal::Db) {}
            ),
        );
        let all = e.join("\n");
        assert!(
            all.contains("unknown `#[dal::test]` option `backend`"),
            "{all}"
        );
        assert!(all.contains("did you mean `backends`"), "{all}");
        assert!(all.contains("unknown backend `oracle`"), "{all}");
        assert!(all.contains("`sqlite` is listed twice"), "{all}");
        assert!(all.contains("unknown runtime flavor `threaded`"), "{all}");
        assert!(all.contains("must be `async`"), "{all}");
        assert!(all.contains("takes one argument"), "{all}");
        assert_eq!(e.len(), 6, "{all}");
    }

    #[test]
    fn conflicting_options() {
        let e = errors(
            quote!(
                flavor = "current_thread",
                worker_threads = 2,
                migrator = a,
                migrator = b,
                backends()
            ),
            quote!(
                async fn t(db: dal::Db) {}
            ),
        );
        let all = e.join("\n");
        assert!(
            all.contains("`worker_threads` needs the multi-threaded runtime"),
            "{all}"
        );
        assert!(all.contains("`migrator` is given twice"), "{all}");
        assert!(all.contains("list at least one backend"), "{all}");
    }

    #[test]
    fn a_second_test_attribute_is_refused() {
        let e = errors(
            quote!(),
            quote!(
                #[tokio::test]
                async fn t(db: dal::Db) {}
            ),
        );
        assert!(e.join("\n").contains("makes the test itself"), "{e:?}");
    }
}
