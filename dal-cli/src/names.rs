//! Rust names for database names: struct, enum, variant, module and field
//! identifiers made from table, column and enum-value names.

/// Rust's strict and reserved keywords (2024 edition), which cannot be field
/// or module names as written.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Type names a generated struct or enum must not take: the generated files
/// name these (prelude types, the derives, the field types).
const TAKEN_TYPE_NAMES: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "Vec",
    "String",
    "Box",
    "Default",
    "Clone",
    "Debug",
    "Copy",
    "PartialEq",
    "Eq",
    "Entity",
    "DbEnum",
    "Value",
    "Decimal",
    "Uuid",
    "Utc",
    "DateTime",
    "NaiveDate",
    "NaiveTime",
    "NaiveDateTime",
    "Self",
];

/// True for a Rust keyword.
pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// The words of a name: split at `_`, `-`, spaces and other punctuation, and
/// at lower-to-upper case changes (`createdAt` is `created`, `at`).
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A snake_case identifier for a column or table name: `createdAt` gives
/// `created_at`, `type` gives `type_` (the derive names column handles after
/// the field, so a raw identifier `r#type` is not used), `2fa` gives `n2fa`.
pub fn snake_ident(s: &str) -> String {
    let mut out = words(s).join("_");
    if out.is_empty() {
        out = "column".into();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'n');
    }
    if is_keyword(&out) {
        out.push('_');
    }
    out
}

/// A CamelCase type name: `order_items` gives `OrderItems`.
pub fn camel_ident(s: &str) -> String {
    let mut out: String = words(s)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect();
    if out.is_empty() {
        out = "Unnamed".into();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    if TAKEN_TYPE_NAMES.contains(&out.as_str()) {
        out.push_str("Row");
    }
    out
}

/// A naive English singular of a snake_case table name, word by word only at
/// the end: `categories` → `category`, `addresses` → `address`, `boxes` →
/// `box`, `users` → `user`; `status`, `news`-like words ending in `ss`, `us`
/// or `is` are kept.
pub fn singular(name: &str) -> String {
    let n = name;
    if let Some(stem) = n.strip_suffix("ies")
        && !stem.is_empty()
    {
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes", "zes"] {
        if let Some(stem) = n.strip_suffix(suffix) {
            return format!("{stem}{}", &suffix[..suffix.len() - 2]);
        }
    }
    if n.ends_with("ss") || n.ends_with("us") || n.ends_with("is") {
        return n.to_string();
    }
    match n.strip_suffix('s') {
        Some(stem) if !stem.is_empty() => stem.to_string(),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(snake_ident("createdAt"), "created_at");
        assert_eq!(snake_ident("type"), "type_");
        assert_eq!(snake_ident("2fa"), "n2fa");
        assert_eq!(snake_ident("user id"), "user_id");
        assert_eq!(camel_ident("order_items"), "OrderItems");
        assert_eq!(camel_ident("options"), "Options");
        assert_eq!(camel_ident("option"), "OptionRow");
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("boxes"), "box");
        assert_eq!(singular("users"), "user");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("data"), "data");
    }
}
