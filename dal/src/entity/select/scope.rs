//! The scope of a query: which entities it can name ([`Root`], [`Joined`],
//! [`InScope`]) and whether each may be missing from its rows; the
//! qualifier markers of join conditions.

use std::marker::PhantomData;

use crate::entity::Entity;
use crate::entity::query::{NotNull, Nullability};
use crate::entity::sql::{Phantom3, place, quoted};

/// In the text of an [`On`] condition, where the qualifier of the entity
/// already in the query goes (the joined one uses [`MARK`]).
pub(super) const MARK2: char = '\u{6}';

// ------------------------------------------------------------------ scopes

/// The scope of a query on `E` alone (no joins).
pub struct Root<E>(PhantomData<fn() -> E>);

/// The scope `S` with entity `X` joined; `N` is [`Nullable`](crate::entity::Nullable) when `X` may be
/// missing from a row (a left join), [`NotNull`] otherwise.
pub struct Joined<S, X, N>(Phantom3<S, X, N>);

/// Where an entity sits in a scope: the last one joined. Inferred, never
/// written.
pub struct Here;

/// Where an entity sits in a scope: further in than `I`. Inferred, never
/// written.
pub struct There<I>(PhantomData<fn() -> I>);

/// Scope `Self` contains entity `X` (at position `I`, inferred). `Null` says
/// whether `X`'s columns may be missing from a row (it was left-joined).
#[diagnostic::on_unimplemented(
    message = "`{X}` is not part of this query",
    label = "this names `{X}`, which the query neither starts from nor joins",
    note = "join it first: `.join(Relation)`, `.left_join(Relation)` or `.join_on(..)`"
)]
pub trait InScope<X, I> {
    /// [`Nullable`](crate::entity::Nullable) when `X` was left-joined (or joined through an entity that was).
    type Null: Nullability;
}

impl<E> InScope<E, Here> for Root<E> {
    type Null = NotNull;
}

impl<S, X, N: Nullability> InScope<X, Here> for Joined<S, X, N> {
    type Null = N;
}

impl<S, X, N, Y, I> InScope<Y, There<I>> for Joined<S, X, N>
where
    S: InScope<Y, I>,
{
    type Null = <S as InScope<Y, I>>::Null;
}

/// Whether entity `X` may be missing from the rows of scope `S`
/// ([`InScope::Null`]).
pub type NullIn<S, X, I> = <S as InScope<X, I>>::Null;

/// The quoted table name an entity is known by in a query.
pub(super) fn table_of<X: Entity>() -> String {
    quoted(X::INFO.table)
}

/// `sql` with the joined entity's marks ([`MARK`]) and the other entity's
/// ([`MARK2`]) put in place.
pub(super) fn place_on(sql: &str, joined: &str, other: &str) -> String {
    place(&sql.replace(MARK2, &format!("{other}.")), joined)
}

// ------------------------------------------------------------------ expressions
