//! The `schema!` language: its syntax tree ([`tree`](mod@tree)) and its printer
//! ([`print`](mod@print)), shared by the `dal-macros` parser (which builds the tree from
//! tokens) and `dal::autogen` (which builds it from a schema diff and prints it
//! as migration source).
//!
//! Every node carries a position of type `S`: the macro uses
//! `proc_macro2::Span` so each error points at the token that is wrong;
//! autogen, which has no source to point into, uses `()`.
//!
//! ```
//! use dal_schema::dsl::{ColumnDef, Name, Statement, TableItem};
//!
//! let create: Statement<()> = Statement::Create {
//!     table: Name::new("users"),
//!     items: vec![
//!         TableItem::Column(ColumnDef::new("id", None, vec![])),
//!         TableItem::Column(ColumnDef::new("string", Some(Name::new("email")), vec![150u32.into()])),
//!     ],
//! };
//! assert_eq!(create.to_string(), "create users {\n    id();\n    string(email, 150);\n}\n");
//! ```

pub mod from_model;
pub mod print;
pub mod tree;

pub use from_model::{add_check, column_def, table_items};
pub use print::{float_literal, name_literal, string_literal, write_statements};
pub use tree::{
    ALTER_ITEMS, AlterItem, Arg, Bool, ColumnDef, HistoryAction, IndexDef, Lit, Modifier, Name,
    Number, STATEMENTS, Statement, Str, TABLE_ITEMS, TableItem, Word, is_rust_ident,
};
