//! `#[derive(DbEnum)]`: a fieldless enum stored as text, each variant under a
//! name (snake_case of the variant by default), with the column an
//! enumeration (`ENUM(..)` on the MySQL family, a checked `VARCHAR` elsewhere).

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::spanned::Spanned;

/// How variant names become stored names.
#[derive(Clone, Copy)]
enum Case {
    Snake,
    ScreamingSnake,
    Kebab,
    Lower,
    Upper,
    Camel,
    Pascal,
}

const CASES: &str = "`snake_case`, `SCREAMING_SNAKE_CASE`, `kebab-case`, `lowercase`, `UPPERCASE`, `camelCase`, `PascalCase`";

impl Case {
    fn parse(s: &str) -> Option<Case> {
        Some(match s {
            "snake_case" => Case::Snake,
            "SCREAMING_SNAKE_CASE" => Case::ScreamingSnake,
            "kebab-case" => Case::Kebab,
            "lowercase" => Case::Lower,
            "UPPERCASE" => Case::Upper,
            "camelCase" => Case::Camel,
            "PascalCase" => Case::Pascal,
            _ => return None,
        })
    }

    /// The words of a Rust variant name (`HttpError` -> `http`, `error`).
    fn words(ident: &str) -> Vec<String> {
        let chars: Vec<char> = ident.chars().collect();
        let mut words: Vec<String> = Vec::new();
        let mut cur = String::new();
        for (i, &c) in chars.iter().enumerate() {
            if c == '_' {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                continue;
            }
            if c.is_uppercase() && !cur.is_empty() {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
                if prev.is_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_uppercase() && next_lower)
                {
                    words.push(std::mem::take(&mut cur));
                }
            }
            cur.extend(c.to_lowercase());
        }
        if !cur.is_empty() {
            words.push(cur);
        }
        words
    }

    fn apply(self, ident: &str) -> String {
        let words = Case::words(ident);
        let cap = |w: &String| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        };
        match self {
            Case::Snake => words.join("_"),
            Case::ScreamingSnake => words.join("_").to_uppercase(),
            Case::Kebab => words.join("-"),
            Case::Lower => words.concat(),
            Case::Upper => words.concat().to_uppercase(),
            Case::Pascal => words.iter().map(cap).collect(),
            Case::Camel => words
                .iter()
                .enumerate()
                .map(|(i, w)| if i == 0 { w.clone() } else { cap(w) })
                .collect(),
        }
    }
}

/// `#[dal(key = "value")]` pairs of one attribute list.
fn dal_options(
    attrs: &[syn::Attribute],
    errors: &mut Vec<syn::Error>,
) -> Vec<(syn::Path, syn::Lit)> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("dal")) {
        let r = attr.parse_nested_meta(|meta| {
            let value = meta.value()?;
            let lit: syn::Lit = value.parse()?;
            out.push((meta.path.clone(), lit));
            Ok(())
        });
        if let Err(e) = r {
            errors.push(syn::Error::new(
                e.span(),
                format!("{e}: options are written `#[dal(name = \"value\")]`"),
            ));
        }
    }
    out
}

fn string_of(lit: &syn::Lit, what: &str, errors: &mut Vec<syn::Error>) -> Option<String> {
    match lit {
        syn::Lit::Str(s) => Some(s.value()),
        other => {
            errors.push(syn::Error::new(
                other.span(),
                format!("`{what}` takes a string, like `{what} = \"...\"`"),
            ));
            None
        }
    }
}

/// Expand `#[derive(DbEnum)]`.
pub(crate) fn derive_inner(input: TokenStream) -> TokenStream {
    let parsed = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(p) => p,
        Err(e) => return e.to_compile_error(),
    };
    match expand(&parsed) {
        Ok(t) => t,
        Err(errors) => errors.iter().map(syn::Error::to_compile_error).collect(),
    }
}

fn expand(input: &syn::DeriveInput) -> Result<TokenStream, Vec<syn::Error>> {
    let ident = &input.ident;
    let data = match &input.data {
        syn::Data::Enum(e) => e,
        syn::Data::Struct(s) => {
            return Err(vec![syn::Error::new(
                s.struct_token.span,
                "`#[derive(DbEnum)]` maps a fieldless enum to a text column (`enum Status { Open, Done }`); a struct is stored with `#[derive(Entity)]`, or as JSON with `#[dal(json)]`",
            )]);
        }
        syn::Data::Union(u) => {
            return Err(vec![syn::Error::new(
                u.union_token.span,
                "`#[derive(DbEnum)]` maps a fieldless enum to a text column, not a union",
            )]);
        }
    };
    let mut errors = Vec::new();
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new(
            input.generics.span(),
            "`#[derive(DbEnum)]` does not take generic parameters: each variant is one fixed stored name",
        ));
    }
    if data.variants.is_empty() {
        errors.push(syn::Error::new(
            ident.span(),
            format!("`{ident}` has no variants: a column of it could hold no value"),
        ));
    }

    let mut case = Case::Snake;
    let mut krate: TokenStream = quote!(::dal);
    for (path, lit) in dal_options(&input.attrs, &mut errors) {
        if path.is_ident("rename_all") {
            if let Some(s) = string_of(&lit, "rename_all", &mut errors) {
                match Case::parse(&s) {
                    Some(c) => case = c,
                    None => errors.push(syn::Error::new(
                        lit.span(),
                        format!("unknown case `{s}`: expected one of {CASES}"),
                    )),
                }
            }
        } else if path.is_ident("crate") {
            if let Some(s) = string_of(&lit, "crate", &mut errors) {
                match syn::parse_str::<syn::Path>(&s) {
                    Ok(p) => krate = p.to_token_stream(),
                    Err(_) => errors.push(syn::Error::new(
                        lit.span(),
                        format!("`{s}` is not a path to the dal crate"),
                    )),
                }
            }
        } else {
            errors.push(syn::Error::new(
                path.span(),
                format!(
                    "unknown option `{}` of `#[derive(DbEnum)]`: expected `rename_all` or `crate` (and `rename` on a variant)",
                    path.to_token_stream()
                ),
            ));
        }
    }

    let mut names: Vec<(syn::Ident, String)> = Vec::new();
    let mut seen: HashMap<String, syn::Ident> = HashMap::new();
    for v in &data.variants {
        if !matches!(v.fields, syn::Fields::Unit) {
            errors.push(syn::Error::new(
                v.fields.span(),
                format!(
                    "variant `{}` carries data: `#[derive(DbEnum)]` stores fieldless variants only (store data with `#[dal(json)]`)",
                    v.ident
                ),
            ));
            continue;
        }
        let mut name = case.apply(&v.ident.to_string());
        for (path, lit) in dal_options(&v.attrs, &mut errors) {
            if path.is_ident("rename") {
                if let Some(s) = string_of(&lit, "rename", &mut errors) {
                    if s.is_empty() || s.len() > 255 {
                        errors.push(syn::Error::new(
                            lit.span(),
                            "a stored name must be 1 to 255 bytes long",
                        ));
                    }
                    name = s;
                }
            } else {
                errors.push(syn::Error::new(
                    path.span(),
                    format!(
                        "unknown variant option `{}`: expected `rename = \"...\"`",
                        path.to_token_stream()
                    ),
                ));
            }
        }
        if let Some(first) = seen.get(&name) {
            errors.push(syn::Error::new(
                v.ident.span(),
                format!(
                    "variants `{first}` and `{}` are both stored as \"{name}\": give one a `#[dal(rename = \"...\")]`",
                    v.ident
                ),
            ));
        } else {
            seen.insert(name.clone(), v.ident.clone());
        }
        names.push((v.ident.clone(), name));
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let p = quote!(#krate::__private);
    let idents: Vec<&syn::Ident> = names.iter().map(|(i, _)| i).collect();
    let stored: Vec<&String> = names.iter().map(|(_, n)| n).collect();
    let expected = stored
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let type_name = ident.to_string();
    Ok(quote! {
        impl #ident {
            /// The stored names of the variants, in declaration order.
            pub const VARIANTS: &'static [&'static str] = &[#(#stored),*];

            /// The name this variant is stored under.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    #(Self::#idents => #stored,)*
                }
            }

            /// The variant stored under `name`, if any.
            pub fn from_stored(name: &str) -> ::core::option::Option<Self> {
                match name {
                    #(#stored => ::core::option::Option::Some(Self::#idents),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl #p::Encode for #ident {
            fn encode<'q>(&'q self, out: &mut #p::Arguments<'q>) -> #p::Result<()> {
                out.push_str(self.as_str())
            }
            fn encode_null(out: &mut #p::Arguments<'_>) -> #p::Result<()> {
                out.push_null_of(#p::SqlKind::Text)
            }
        }

        impl #p::Decode for #ident {
            fn decode(value: #p::ValueRef<'_>) -> #p::Result<Self> {
                let text = <::std::string::String as #p::Decode>::decode(value)?;
                Self::from_stored(&text).ok_or_else(|| {
                    #p::Error::decode(
                        "",
                        ::std::format!(
                            "the stored value {:?} is not a variant of `{}` (expected one of {})",
                            text, #type_name, #expected
                        ),
                    )
                })
            }
        }

        impl #p::SqlType for #ident {
            fn column_type() -> #p::ColumnType {
                #p::ColumnType::Enumeration {
                    variants: ::std::vec![#(::std::string::String::from(#stored)),*],
                }
            }
        }
    })
}
