//! Joins, projections, aggregates, grouping and subqueries: the part of
//! the typed query language that reads something other than whole rows of
//! one entity.
//!
//! A query starts as [`Find`]; [`join`](Find::join) (along a declared
//! relation) or [`join_on`](Find::join_on) (on typed columns) widens it to a
//! [`JoinQuery`] over several entities, and [`select`](Find::select) names what
//! to read, giving a [`Select`] whose rows are tuples of Rust values (or a
//! `#[derive(FromRow)]` struct, with [`Select::all_as`]).
//!
//! Which entities a query can name is tracked in its type (its *scope*), so
//! selecting or filtering on a column of an entity the query does not join
//! does not compile, and a column of a left-joined entity reads as an
//! `Option`:
//!
//! ```compile_fail
//! # use dal::Entity;
//! #[derive(Entity)]
//! struct User { #[dal(id)] id: i64, name: String }
//! #[derive(Entity)]
//! struct Task { #[dal(id)] id: i64, title: String }
//! // Task is not part of a query on users
//! let _ = User::find().select((User::NAME, Task::TITLE));
//! ```

mod builder;
mod expr;
mod join;
mod projection;
mod scope;

pub use builder::Select;
pub use expr::{Expr, JoinRelation, Named, On, Sorted, Summable};
pub use join::{JoinOn, JoinQuery, JoinVia};
pub use projection::{Anywhere, Ordering, Projection, Scalar, Single};
pub use scope::{Here, InScope, Joined, NullIn, Root, There};
