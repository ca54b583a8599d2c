//! `#[derive(FromRow)]`: parse (darling) -> emit.

use darling::{FromDeriveInput, FromField, ast};
use proc_macro2::TokenStream;
use quote::quote;

#[derive(FromDeriveInput)]
#[darling(attributes(dal), supports(struct_named))]
struct Input {
    ident: syn::Ident,
    generics: syn::Generics,
    data: ast::Data<(), Field>,
}

#[derive(FromField)]
#[darling(attributes(dal))]
struct Field {
    ident: Option<syn::Ident>,
    ty: syn::Type,
    #[darling(default)]
    rename: Option<String>,
    #[darling(default)]
    skip: bool,
    #[darling(default)]
    default: bool,
    #[darling(default)]
    json: bool,
}

/// The error of a derive that needs a struct with named fields, on the token at
/// fault (darling would report it on the derive itself).
pub(crate) fn shape_error(input: &syn::DeriveInput, derive: &str) -> Option<darling::Error> {
    let (what, span) = match &input.data {
        syn::Data::Struct(s) => match &s.fields {
            syn::Fields::Named(_) => return None,
            syn::Fields::Unnamed(f) => ("a tuple struct", f.paren_token.span.join()),
            syn::Fields::Unit => ("a unit struct", input.ident.span()),
        },
        syn::Data::Enum(e) => ("an enum", e.enum_token.span),
        syn::Data::Union(u) => ("a union", u.union_token.span),
    };
    Some(
        darling::Error::custom(format!(
            "`#[derive({derive})]` needs a struct with named fields, not {what}: each field is read from the column of its name, as in `struct {} {{ id: i64, .. }}`",
            input.ident
        ))
        .with_span(&span),
    )
}

/// Expand `#[derive(FromRow)]`.
pub(crate) fn derive_inner(input: TokenStream) -> TokenStream {
    let parsed = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(p) => p,
        Err(e) => return e.to_compile_error(),
    };
    if let Some(e) = shape_error(&parsed, "FromRow") {
        return e.write_errors();
    }
    let input = match Input::from_derive_input(&parsed) {
        Ok(i) => i,
        Err(e) => return e.write_errors(),
    };
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let fields = match &input.data {
        ast::Data::Struct(f) => &f.fields,
        ast::Data::Enum(_) => unreachable!("darling rejects enums"),
    };
    let inits = fields.iter().map(|f| {
        let name = f.ident.as_ref().expect("named field");
        let ty = &f.ty;
        let column = f
            .rename
            .clone()
            .unwrap_or_else(|| name.to_string().trim_start_matches("r#").to_string());
        if f.skip {
            return quote! { #name: ::core::default::Default::default() };
        }
        let read = if f.json {
            quote! { row.get::<::dal::__private::Json<#ty>, _>(#column)?.0 }
        } else {
            quote! { row.get::<#ty, _>(#column)? }
        };
        if f.default {
            let opt = if f.json {
                quote! { row.get_opt::<::dal::__private::Json<#ty>>(#column)?.map(|j| j.0) }
            } else {
                quote! { row.get_opt::<#ty>(#column)? }
            };
            quote! { #name: #opt.unwrap_or_default() }
        } else {
            quote! { #name: #read }
        }
    });
    quote! {
        const _: () = {
            impl #impl_generics ::dal::__private::FromRow for #ident #ty_generics #where_clause {
                #[inline]
                fn from_row(row: &::dal::__private::Row<'_>) -> ::dal::__private::Result<Self> {
                    ::core::result::Result::Ok(Self { #(#inits),* })
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_named_fields() {
        let out = derive_inner(quote! {
            struct User { id: i64, #[dal(rename = "mail")] email: String, #[dal(skip)] cache: u8 }
        })
        .to_string();
        assert!(out.contains("\"mail\""), "{out}");
        assert!(out.contains("Default :: default"), "{out}");
        assert!(out.contains(":: dal :: __private :: FromRow"), "{out}");
    }

    #[test]
    fn rejects_tuple_structs() {
        let out = derive_inner(quote! { struct P(i64); }).to_string();
        assert!(out.contains("compile_error"), "{out}");
    }
}
