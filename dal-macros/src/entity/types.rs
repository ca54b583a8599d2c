//! Reading Rust types by their syntax, only where the compiler cannot answer for
//! us: unwrapping `Option<T>` for column handles and guessing column types for
//! compile-time checks. Whether a type can really be stored is left to trait
//! bounds (`SqlType`), so aliases and paths work.

use dal_schema::ColumnType;

fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        syn::Type::Group(g) => last_segment(&g.elem),
        syn::Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// `T` when `ty` is written `Option<T>` (or `std::option::Option<T>`).
pub(crate) fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let seg = last_segment(ty)?;
    if seg.ident != "Option" {
        return None;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first()? {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// The name of the type's last path segment (`String`, `i64`, `DateTime`, `Vec`).
pub(crate) fn type_name(ty: &syn::Type) -> Option<String> {
    last_segment(ty).map(|s| s.ident.to_string())
}

/// Whether the type is a primitive integer.
pub(crate) fn is_integer(ty: &syn::Type) -> bool {
    matches!(
        type_name(ty).as_deref(),
        Some("i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "isize" | "usize")
    )
}

/// Whether the type is `String`.
pub(crate) fn is_string(ty: &syn::Type) -> bool {
    type_name(ty).as_deref() == Some("String")
}

/// The type argument of a one-argument generic type (`T` of `Vec<T>`).
fn single_argument(ty: &syn::Type) -> Option<&syn::Type> {
    match &last_segment(ty)?.arguments {
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first()? {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// The column type of a well-known type (as `dal::SqlType` maps it), by name:
/// `Vec<u8>` is binary data, `Vec<T>` of a scalar an array of it.
pub(crate) fn known_column_type(ty: &syn::Type) -> Option<ColumnType> {
    if type_name(ty).as_deref() == Some("Vec") {
        let element = single_argument(ty)?;
        if type_name(element).as_deref() == Some("u8") {
            return Some(ColumnType::Binary);
        }
        let element = known_column_type(element)?;
        return element
            .is_array_element()
            .then(|| ColumnType::array(element));
    }
    Some(match type_name(ty)?.as_str() {
        "i8" | "u8" | "i16" => ColumnType::SmallInteger,
        "u16" | "i32" => ColumnType::Integer,
        "i64" | "isize" => ColumnType::BigInteger,
        "u32" => ColumnType::UnsignedInteger,
        "u64" | "usize" => ColumnType::UnsignedBigInteger,
        "f32" => ColumnType::Float,
        "f64" => ColumnType::Double,
        "bool" => ColumnType::Boolean,
        "String" => ColumnType::Text,
        "NaiveDate" => ColumnType::Date,
        "NaiveTime" => ColumnType::Time,
        "NaiveDateTime" => ColumnType::Timestamp,
        "DateTime" => ColumnType::TimestampTz,
        "Uuid" => ColumnType::Uuid,
        "Decimal" => ColumnType::Decimal {
            precision: 20,
            scale: 6,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_options() {
        let t: syn::Type = syn::parse_str("Option<String>").unwrap();
        assert!(is_string(option_inner(&t).unwrap()));
        let t: syn::Type = syn::parse_str("std::option::Option<i64>").unwrap();
        assert!(is_integer(option_inner(&t).unwrap()));
        let t: syn::Type = syn::parse_str("Vec<u8>").unwrap();
        assert!(option_inner(&t).is_none());
    }

    #[test]
    fn vectors_are_bytes_or_arrays() {
        let ty = |s: &str| known_column_type(&syn::parse_str(s).unwrap());
        assert_eq!(ty("Vec<u8>"), Some(ColumnType::Binary));
        assert_eq!(
            ty("Vec<i64>"),
            Some(ColumnType::array(ColumnType::BigInteger))
        );
        assert_eq!(
            ty("std::vec::Vec<String>"),
            Some(ColumnType::array(ColumnType::Text))
        );
        assert_eq!(ty("Vec<Vec<i64>>"), None);
        assert_eq!(ty("Vec<u64>"), None);
        assert_eq!(ty("Vec<MyType>"), None);
    }
}
