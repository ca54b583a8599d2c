//! Projections: what a [`Select`](super::Select) reads ([`Projection`], [`Single`],
//! [`Named`], [`Scalar`], tuples) and how it sorts ([`Ordering`]).

use std::borrow::Cow;
use std::marker::PhantomData;

use super::expr::{Expr, Named, Sorted};
use super::scope::InScope;
use super::scope::table_of;
use crate::codec::Decode;
use crate::entity::Entity;
use crate::entity::query::{Col, Nullability, Order};
use crate::entity::sql::{Param, place, quoted};
use crate::error::Result;
use crate::row::Row;

/// One value of a projection: its SQL (qualifiers in place) and name.
#[doc(hidden)]
pub struct Item {
    pub(super) sql: String,
    pub(super) params: Vec<Param>,
    pub(super) name: Cow<'static, str>,
}

/// What a [`Select`](crate::entity::Select) reads from each row, in scope `S`: a column handle
/// (`User::NAME`), an [`Expr`] (an aggregate, a relation's aggregate), a
/// [`Scalar`] subquery, or a tuple of those (up to twelve). `Out` is the
/// Rust type of a row: a column reads as its field's type, as an `Option`
/// when its entity was left-joined; an aggregate as its [`Expr`] type says.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be selected in this query",
    label = "select column handles, aggregates (`Col::count`, `Col::sum`, ..) or a tuple of them",
    note = "a column or aggregate can only be selected from an entity the query starts from or joins"
)]
pub trait Projection<S, I>: Sized {
    /// The Rust type of one row.
    type Out: Send + 'static;
    /// The values as SQL. Not meant to be called directly.
    #[doc(hidden)]
    fn __items(self, out: &mut Vec<Item>);
    /// Read one row, from column `*at` on. Not meant to be called directly.
    #[doc(hidden)]
    fn __decode(row: &Row<'_>, at: &mut usize) -> Result<Self::Out>;
}

/// A projection of exactly one value of type `Value` (what
/// [`Col::in_subquery`] and [`Select::scalar`](crate::entity::Select::scalar) take).
pub trait Single {
    /// The value's type (without `Option`).
    type Value;
}

impl<X, T, N> Single for Col<X, T, N> {
    type Value = T;
}

impl<X, T, N> Single for Expr<X, T, N> {
    type Value = T;
}

fn decode_at<T: Decode>(row: &Row<'_>, at: &mut usize) -> Result<T> {
    let i = *at;
    *at += 1;
    row.get::<T, usize>(i)
}

impl<S, I, X, T, N> Projection<S, I> for Col<X, T, N>
where
    S: InScope<X, I>,
    X: Entity,
    T: Decode + Send + 'static,
    N: Nullability,
{
    type Out = <<<S as InScope<X, I>>::Null as Nullability>::Or<N> as Nullability>::Of<T>;

    fn __items(self, out: &mut Vec<Item>) {
        out.push(Item {
            sql: format!("{}.{}", table_of::<X>(), quoted(self.name())),
            params: Vec::new(),
            name: Cow::Borrowed(self.name()),
        });
    }

    fn __decode(row: &Row<'_>, at: &mut usize) -> Result<Self::Out> {
        decode_at(row, at)
    }
}

impl<S, I, X, T, N> Projection<S, I> for Expr<X, T, N>
where
    S: InScope<X, I>,
    X: Entity,
    T: Decode + Send + 'static,
    N: Nullability,
{
    type Out = N::Of<T>;

    fn __items(self, out: &mut Vec<Item>) {
        out.push(Item {
            sql: place(&self.sql, &table_of::<X>()),
            params: self.params,
            name: self.name,
        });
    }

    fn __decode(row: &Row<'_>, at: &mut usize) -> Result<Self::Out> {
        decode_at(row, at)
    }
}

impl<S, I, P: Projection<S, I>> Projection<S, I> for Named<P> {
    type Out = P::Out;

    fn __items(self, out: &mut Vec<Item>) {
        let first = out.len();
        self.inner.__items(out);
        if let Some(item) = out.get_mut(first) {
            item.name = self.name;
        }
    }

    fn __decode(row: &Row<'_>, at: &mut usize) -> Result<Self::Out> {
        P::__decode(row, at)
    }
}

impl<P: Single> Single for Named<P> {
    type Value = P::Value;
}

/// `COUNT(*)`, for [`JoinQuery::count`].
pub(super) struct CountRows;

impl<S> Projection<S, Anywhere> for CountRows {
    type Out = i64;

    fn __items(self, out: &mut Vec<Item>) {
        out.push(Item {
            sql: "COUNT(*)".into(),
            params: Vec::new(),
            name: Cow::Borrowed("count"),
        });
    }

    fn __decode(row: &Row<'_>, at: &mut usize) -> Result<Self::Out> {
        decode_at(row, at)
    }
}

/// Where a [`Scalar`] subquery sits in a scope: anywhere (it names no
/// entity of the outer query). Inferred, never written.
pub struct Anywhere;

/// An uncorrelated subquery that reads one value ([`Select::scalar`](crate::entity::Select::scalar)), to
/// select beside other values: reads as `Option<T>` (`None` when the
/// subquery reads no row).
pub struct Scalar<T> {
    pub(super) sql: String,
    pub(super) params: Vec<Param>,
    pub(super) name: Cow<'static, str>,
    pub(super) _marker: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Scalar<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scalar({})", self.sql)
    }
}

impl<T> Scalar<T> {
    /// Read the value under column name `name` (see [`Select::all_as`](crate::entity::Select::all_as)).
    pub fn alias(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<S, T: Decode + Send + 'static> Projection<S, Anywhere> for Scalar<T> {
    type Out = Option<T>;

    fn __items(self, out: &mut Vec<Item>) {
        out.push(Item {
            sql: format!("({})", self.sql),
            params: self.params,
            name: self.name,
        });
    }

    fn __decode(row: &Row<'_>, at: &mut usize) -> Result<Self::Out> {
        decode_at(row, at)
    }
}

macro_rules! tuple_projection {
    ($($p:ident $i:ident $v:ident),+) => {
        impl<S, $($p, $i),+> Projection<S, ($($i,)+)> for ($($p,)+)
        where
            $($p: Projection<S, $i>),+
        {
            type Out = ($($p::Out,)+);

            fn __items(self, out: &mut Vec<Item>) {
                let ($($v,)+) = self;
                $($v.__items(out);)+
            }

            fn __decode(row: &Row<'_>, at: &mut usize) -> Result<Self::Out> {
                Ok(($($p::__decode(row, at)?,)+))
            }
        }
    };
}
tuple_projection!(A IA a);
tuple_projection!(A IA a, B IB b);
tuple_projection!(A IA a, B IB b, C IC c);
tuple_projection!(A IA a, B IB b, C IC c, D ID d);
tuple_projection!(A IA a, B IB b, C IC c, D ID d, E IE e);
tuple_projection!(A IA a, B IB b, C IC c, D ID d, E IE e, F IF f);
tuple_projection!(A IA a, B IB b, C IC c, D ID d, E IE e, F IF f, G IG g);
tuple_projection!(A IA a, B IB b, C IC c, D ID d, E IE e, F IF f, G IG g, H IH h);
tuple_projection!(A IA a, B IB b, C IC c, D ID d, E IE e, F IF f, G IG g, H IH h, J IJ j);
tuple_projection!(A IA a, B IB b, C IC c, D ID d, E IE e, F IF f, G IG g, H IH h, J IJ j, K IK k);
tuple_projection!(A IA a, B IB b, C IC c, D ID d, E IE e, F IF f, G IG g, H IH h, J IJ j, K IK k, L IL l);
tuple_projection!(A IA a, B IB b, C IC c, D ID d, E IE e, F IF f, G IG g, H IH h, J IJ j, K IK k, L IL l, M IM m);

/// An ordering in scope `S`: a column's ([`Col::asc`]) or a computed
/// value's ([`Expr::asc`]), of an entity in the query.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot order this query",
    label = "order by `Col::asc()`/`desc()` or `Expr::asc()`/`desc()` of an entity in the query"
)]
pub trait Ordering<S, I> {
    /// The ordering as SQL. Not meant to be called directly.
    #[doc(hidden)]
    fn __order(self) -> (String, Vec<Param>);
}

impl<S, I, X: Entity> Ordering<S, I> for Order<X>
where
    S: InScope<X, I>,
{
    fn __order(self) -> (String, Vec<Param>) {
        (
            format!(
                "{}.{}{}",
                table_of::<X>(),
                quoted(self.column),
                if self.descending { " DESC" } else { "" }
            ),
            Vec::new(),
        )
    }
}

impl<S, I, X: Entity> Ordering<S, I> for Sorted<X>
where
    S: InScope<X, I>,
{
    fn __order(self) -> (String, Vec<Param>) {
        (
            format!(
                "{}{}",
                place(&self.sql, &table_of::<X>()),
                if self.descending { " DESC" } else { "" }
            ),
            self.params,
        )
    }
}
