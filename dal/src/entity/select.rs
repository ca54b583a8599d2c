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

use std::borrow::Cow;
use std::marker::PhantomData;

use super::Entity;
use super::executor::Executor;
use super::query::{Col, Cond, Find, NotNull, Nullability, Nullable, Order};
use super::relation::{BelongsTo, HasMany, HasOne, ManyToMany, alive_in, fresh_alias, sub_name};
use super::sql::{MARK, Param, ParamList, Phantom3, place, quoted};
use crate::codec::{Decode, Encode};
use crate::error::{Error, Result};
use crate::row::{FromRow, Row};

/// In the text of an [`On`] condition, where the qualifier of the entity
/// already in the query goes (the joined one uses [`MARK`]).
const MARK2: char = '\u{6}';

// ------------------------------------------------------------------ scopes

/// The scope of a query on `E` alone (no joins).
pub struct Root<E>(PhantomData<fn() -> E>);

/// The scope `S` with entity `X` joined; `N` is [`Nullable`] when `X` may be
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
    /// [`Nullable`] when `X` was left-joined (or joined through an entity that was).
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

/// The query [`join`](JoinQuery::join) gives: `S` widened by the entity
/// relation `R` leads to, missing from rows where `R`'s start may be.
pub type JoinVia<E, S, R, I> =
    JoinQuery<E, Joined<S, <R as JoinRelation>::To, NullIn<S, <R as JoinRelation>::From, I>>>;

/// The query [`join_on`](JoinQuery::join_on) gives: `S` widened by `X`,
/// missing from rows where `Y` may be.
pub type JoinOn<E, S, X, Y, I> = JoinQuery<E, Joined<S, X, NullIn<S, Y, I>>>;

/// The quoted table name an entity is known by in a query.
fn table_of<X: Entity>() -> String {
    quoted(X::INFO.table)
}

/// `sql` with the joined entity's marks ([`MARK`]) and the other entity's
/// ([`MARK2`]) put in place.
fn place_on(sql: &str, joined: &str, other: &str) -> String {
    place(&sql.replace(MARK2, &format!("{other}.")), joined)
}

// ------------------------------------------------------------------ expressions

/// A value computed in the database over entity `X`'s rows: an aggregate
/// (`Task::HOURS.sum()`), a relation's aggregate (`User::TASKS.count()`),
/// or a column under another name. `T` is the value's Rust type and `N`
/// whether it can be NULL ([`Nullable`]: it reads as `Option<T>`).
///
/// Compare it ([`gt`](Expr::gt), ...) to filter groups with
/// [`Select::having`]; sort by it with [`asc`](Expr::asc) /
/// [`desc`](Expr::desc).
pub struct Expr<X, T, N = NotNull> {
    sql: String,
    params: Vec<Param>,
    name: Cow<'static, str>,
    _marker: Phantom3<X, T, N>,
}

impl<X, T, N> Clone for Expr<X, T, N> {
    fn clone(&self) -> Self {
        Expr {
            sql: self.sql.clone(),
            params: self.params.clone(),
            name: self.name.clone(),
            _marker: PhantomData,
        }
    }
}

impl<X, T, N> std::fmt::Debug for Expr<X, T, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expr")
            .field("sql", &self.sql.replace(MARK, ""))
            .field("name", &self.name)
            .finish()
    }
}

impl<X, T, N> Expr<X, T, N> {
    fn new(sql: String, params: Vec<Param>, name: String) -> Self {
        Expr {
            sql,
            params,
            name: Cow::Owned(name),
            _marker: PhantomData,
        }
    }

    /// Read the value under column name `name` (what a `#[derive(FromRow)]`
    /// struct's field is called; see [`Select::all_as`]).
    pub fn alias(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// Ascending order on this value (`Select::order_by`).
    pub fn asc(self) -> Sorted<X> {
        Sorted {
            sql: self.sql,
            params: self.params,
            descending: false,
            _marker: PhantomData,
        }
    }

    /// Descending order on this value.
    pub fn desc(self) -> Sorted<X> {
        Sorted {
            sql: self.sql,
            params: self.params,
            descending: true,
            _marker: PhantomData,
        }
    }

    fn compare(self, op: &str, v: Param) -> Cond<X> {
        let mut params = self.params;
        params.push(v);
        Cond::raw(format!("{} {op} ?", self.sql), params)
    }
}

impl<X, T: Encode + 'static, N> Expr<X, T, N> {
    /// `value = v` (a value of type `T`, or one that converts into it: see
    /// [`ColumnValue`](super::ColumnValue)).
    pub fn eq(self, v: impl super::ColumnValue<T>) -> Cond<X> {
        self.compare("=", v.into_param())
    }

    /// `value <> v`.
    pub fn ne(self, v: impl super::ColumnValue<T>) -> Cond<X> {
        self.compare("<>", v.into_param())
    }

    /// `value < v`.
    pub fn lt(self, v: impl super::ColumnValue<T>) -> Cond<X> {
        self.compare("<", v.into_param())
    }

    /// `value <= v`.
    pub fn le(self, v: impl super::ColumnValue<T>) -> Cond<X> {
        self.compare("<=", v.into_param())
    }

    /// `value > v`.
    pub fn gt(self, v: impl super::ColumnValue<T>) -> Cond<X> {
        self.compare(">", v.into_param())
    }

    /// `value >= v`.
    pub fn ge(self, v: impl super::ColumnValue<T>) -> Cond<X> {
        self.compare(">=", v.into_param())
    }
}

/// An ordering on a computed value ([`Expr::asc`], [`Expr::desc`]).
pub struct Sorted<X> {
    sql: String,
    params: Vec<Param>,
    descending: bool,
    _marker: PhantomData<fn() -> X>,
}

impl<X> std::fmt::Debug for Sorted<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}",
            self.sql.replace(MARK, ""),
            if self.descending { "DESC" } else { "ASC" }
        )
    }
}

/// The type the sum of a column of `Self` reads as: wide enough for any sum
/// of its values (`i64` for integers up to 32 bits, [`rust_decimal::Decimal`]
/// for 64-bit integers and decimals, `f64` for floats).
#[diagnostic::on_unimplemented(
    message = "a `{Self}` column cannot be summed",
    label = "`sum` and `avg` take integer, float and decimal columns"
)]
pub trait Summable {
    /// The sum's type.
    type Sum: Decode + Encode + Send + 'static;
    /// The average's type: `f64`, or `Decimal` for decimals.
    type Avg: Decode + Encode + Send + 'static;
    /// Whether the average is taken in floating point (MySQL would
    /// otherwise average integers as a decimal of four places).
    #[doc(hidden)]
    const FLOAT_AVG: bool;
}

macro_rules! summable {
    ($sum:ty, $avg:ty, $float:literal: $($t:ty),*) => {$(
        impl Summable for $t {
            type Sum = $sum;
            type Avg = $avg;
            const FLOAT_AVG: bool = $float;
        }
    )*};
}
summable!(i64, f64, true: i8, i16, i32, u8, u16, u32);
summable!(rust_decimal::Decimal, f64, true: i64, u64, isize, usize);
summable!(f64, f64, true: f32, f64);
summable!(rust_decimal::Decimal, rust_decimal::Decimal, false: rust_decimal::Decimal);

impl<X, T, N> Col<X, T, N> {
    fn aggregate<U, M>(self, func: &str, distinct: bool) -> Expr<X, U, M> {
        Expr::new(
            format!(
                "{func}({}{MARK}{})",
                if distinct { "DISTINCT " } else { "" },
                quoted(self.name())
            ),
            Vec::new(),
            format!("{}_{}", func.to_ascii_lowercase(), self.name()),
        )
    }

    /// `COUNT(column)`: how many rows have a value (not NULL) in this column
    /// (per group with [`Select::group_by`]). Counting the id counts rows; on a
    /// left-joined entity, a row without a match counts 0.
    pub fn count(self) -> Expr<X, i64, NotNull> {
        self.aggregate("COUNT", false)
    }

    /// `COUNT(DISTINCT column)`: how many different values the column holds.
    pub fn count_distinct(self) -> Expr<X, i64, NotNull> {
        self.aggregate("COUNT", true)
            .alias(format!("count_distinct_{}", self.name()))
    }

    /// `MIN(column)`: the smallest value; `None` over no rows (or only NULLs).
    pub fn min(self) -> Expr<X, T, Nullable> {
        self.aggregate("MIN", false)
    }

    /// `MAX(column)`: the largest value; `None` over no rows (or only NULLs).
    pub fn max(self) -> Expr<X, T, Nullable> {
        self.aggregate("MAX", false)
    }

    /// The column under column name `name` in a projection (see
    /// [`Select::all_as`]); it reads as the column itself does.
    pub fn alias(self, name: impl Into<Cow<'static, str>>) -> Named<Self> {
        Named {
            inner: self,
            name: name.into(),
        }
    }

    /// `column = other` between a column of the entity being joined and one
    /// of an entity already in the query: the condition of
    /// [`join_on`](Find::join_on) (`Task::OWNER_ID.eq_col(User::ID)` joins
    /// tasks to a query on users). The columns hold the same type.
    pub fn eq_col<Y, M>(self, other: Col<Y, T, M>) -> On<X, Y> {
        On {
            sql: format!(
                "{MARK}{} = {MARK2}{}",
                quoted(self.name()),
                quoted(other.name())
            ),
            params: Vec::new(),
            _marker: PhantomData,
        }
    }

    /// `column IN (subquery)`: the value is one the subquery reads (an
    /// uncorrelated [`Select`] of one value of the column's type). A subquery
    /// that reads no row matches nothing; MySQL and MariaDB refuse a `LIMIT`
    /// in it.
    pub fn in_subquery<S, P, I, E2: Entity>(self, sub: Select<E2, S, P, I>) -> Cond<X>
    where
        P: Projection<S, I> + Single<Value = T>,
    {
        let (sql, params) = sub.render(false);
        Cond::raw(format!("{MARK}{} IN ({sql})", quoted(self.name())), params)
    }

    /// `column NOT IN (subquery)`: the value is none the subquery reads. (A
    /// NULL among the subquery's values makes SQL's `NOT IN` match nothing:
    /// read a column that holds no NULLs.)
    pub fn not_in_subquery<S, P, I, E2: Entity>(self, sub: Select<E2, S, P, I>) -> Cond<X>
    where
        P: Projection<S, I> + Single<Value = T>,
    {
        let (sql, params) = sub.render(false);
        Cond::raw(
            format!("{MARK}{} NOT IN ({sql})", quoted(self.name())),
            params,
        )
    }
}

impl<X, T: Summable, N> Col<X, T, N> {
    /// `SUM(column)`, widened so it cannot overflow its type: `i64` for
    /// columns of integers up to 32 bits, `Decimal` for 64-bit integers and
    /// decimals, `f64` for floats. `None` over no rows.
    pub fn sum(self) -> Expr<X, T::Sum, Nullable> {
        self.aggregate("SUM", false)
    }

    /// `AVG(column)`: `f64` for integers and floats, `Decimal` for decimals
    /// (SQLite computes it in floating point). `None` over no rows.
    pub fn avg(self) -> Expr<X, T::Avg, Nullable> {
        if T::FLOAT_AVG {
            // `+ 0E0` makes the values doubles on MySQL (and SQLite); on
            // PostgreSQL a numeric, whose average keeps every digit a
            // double can hold
            Expr::new(
                format!("AVG({MARK}{} + 0E0)", quoted(self.name())),
                Vec::new(),
                format!("avg_{}", self.name()),
            )
        } else {
            self.aggregate("AVG", false)
        }
    }
}

/// A join condition ([`Find::join_on`]): between the entity being joined,
/// `X`, and one already in the query, `Y`. Made by [`Col::eq_col`]; add
/// conditions on the joined entity with [`and`](On::and).
pub struct On<X, Y> {
    sql: String,
    params: Vec<Param>,
    _marker: PhantomData<fn() -> (X, Y)>,
}

impl<X, Y> std::fmt::Debug for On<X, Y> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "On({})", self.sql.replace([MARK, MARK2], ""))
    }
}

impl<X, Y> On<X, Y> {
    /// Both conditions: another pair of columns (`eq_col`), or a condition
    /// on the joined entity (`Tag::LABEL.ne("")`).
    pub fn and(mut self, other: impl Into<On<X, Y>>) -> Self {
        let other = other.into();
        self.sql = format!("({}) AND ({})", self.sql, other.sql);
        self.params.extend(other.params);
        self
    }
}

impl<X, Y> From<Cond<X>> for On<X, Y> {
    fn from(c: Cond<X>) -> Self {
        let (sql, params) = c.into_parts();
        On {
            sql,
            params,
            _marker: PhantomData,
        }
    }
}

// ------------------------------------------------------------------ relations as joins and subqueries

/// A declared relation a query can join along: from an entity in the
/// query (`From`) to the one it adds (`To`). Implemented by
/// [`BelongsTo`], [`HasMany`], [`HasOne`] and [`ManyToMany`] handles.
pub trait JoinRelation: Copy {
    /// The entity the relation starts from (already in the query).
    type From: Entity;
    /// The entity the join adds.
    type To: Entity;
    /// The join clause's table and `ON` condition. Not meant to be called directly.
    #[doc(hidden)]
    fn __join_target(self) -> (String, String);
}

impl<C: Entity, P: Entity> JoinRelation for BelongsTo<C, P> {
    type From = C;
    type To = P;
    fn __join_target(self) -> (String, String) {
        let p = table_of::<P>();
        (
            p.clone(),
            format!(
                "{}{p}.{} = {}.{}",
                alive_in::<P>(&p),
                quoted(P::INFO.id_column),
                table_of::<C>(),
                quoted(self.key_column())
            ),
        )
    }
}

fn join_children<P: Entity, C: Entity>(inverse: BelongsTo<C, P>) -> (String, String) {
    let c = table_of::<C>();
    (
        c.clone(),
        format!(
            "{}{c}.{} = {}.{}",
            alive_in::<C>(&c),
            quoted(inverse.key_column()),
            table_of::<P>(),
            quoted(P::INFO.id_column)
        ),
    )
}

impl<P: Entity, C: Entity> JoinRelation for HasMany<P, C> {
    type From = P;
    type To = C;
    fn __join_target(self) -> (String, String) {
        join_children(self.inverse_of())
    }
}

impl<P: Entity, C: Entity> JoinRelation for HasOne<P, C> {
    type From = P;
    type To = C;
    fn __join_target(self) -> (String, String) {
        join_children(self.inverse_of())
    }
}

impl<L: Entity, R: Entity, J: Entity> JoinRelation for ManyToMany<L, R, J> {
    type From = L;
    type To = R;
    fn __join_target(self) -> (String, String) {
        let (left, right) = self.sides();
        let r = table_of::<R>();
        let j = quoted("dal_j");
        let link = quoted("dal_link");
        // the linked rows with the key they link from, under the linked
        // table's name (a join row or a linked row soft-deleted links nothing)
        (
            format!(
                "(SELECT {j}.{} AS {link}, {r}.* FROM {} {j} INNER JOIN {r} ON {r}.{} = {j}.{} WHERE {}{}1 = 1) {r}",
                quoted(left.key_column()),
                quoted(J::INFO.table),
                quoted(R::INFO.id_column),
                quoted(right.key_column()),
                alive_in::<J>(&j),
                alive_in::<R>(&r),
            ),
            format!(
                "{r}.{link} = {}.{}",
                table_of::<L>(),
                quoted(L::INFO.id_column)
            ),
        )
    }
}

impl<P: Entity, C: Entity> HasMany<P, C> {
    /// How many (not soft-deleted) children each parent has, as a value to
    /// select or compare: a correlated subquery
    /// (`User::find().select((User::NAME, User::TASKS.count()))`).
    pub fn count(self) -> Expr<P, i64, NotNull> {
        self.aggregate(Col::<C, C::Id>::new(C::INFO.id_column).count())
            .alias(format!("{}_count", self.name()))
    }

    /// An aggregate over each parent's (not soft-deleted) children, as a value
    /// to select or compare (`User::TASKS.aggregate(Task::HOURS.sum())`); a
    /// correlated subquery. `COUNT` over no children is 0, other aggregates
    /// `None`.
    pub fn aggregate<T, N>(self, expr: Expr<C, T, N>) -> Expr<P, T, N> {
        let inverse = self.inverse_of();
        let (from, alias) = sub_name(C::INFO.table, &expr.sql);
        Expr {
            sql: format!(
                "(SELECT {} FROM {from} WHERE {}{alias}.{} = {MARK}{})",
                place(&expr.sql, &alias),
                alive_in::<C>(&alias),
                quoted(inverse.key_column()),
                quoted(P::INFO.id_column),
            ),
            params: expr.params,
            name: expr.name,
            _marker: PhantomData,
        }
    }
}

impl<L: Entity, R: Entity, J: Entity> ManyToMany<L, R, J> {
    /// How many (not soft-deleted) rows each left row is linked to, as a
    /// value to select or compare (a correlated subquery).
    pub fn count(self) -> Expr<L, i64, NotNull> {
        self.aggregate(Col::<R, R::Id>::new(R::INFO.id_column).count())
            .alias(format!("{}_count", self.name()))
    }

    /// An aggregate over each left row's linked rows (a correlated subquery).
    pub fn aggregate<T, N>(self, expr: Expr<R, T, N>) -> Expr<L, T, N> {
        let (left, right) = self.sides();
        let (from, alias) = sub_name(R::INFO.table, &expr.sql);
        let j = fresh_alias("dal_j", &expr.sql);
        Expr {
            sql: format!(
                "(SELECT {} FROM {from} WHERE {}{alias}.{} IN (SELECT {j}.{} FROM {} {j} WHERE {}{j}.{} = {MARK}{}))",
                place(&expr.sql, &alias),
                alive_in::<R>(&alias),
                quoted(R::INFO.id_column),
                quoted(right.key_column()),
                quoted(J::INFO.table),
                alive_in::<J>(&j),
                quoted(left.key_column()),
                quoted(L::INFO.id_column),
            ),
            params: expr.params,
            name: expr.name,
            _marker: PhantomData,
        }
    }
}

// ------------------------------------------------------------------ projections

/// One value of a projection: its SQL (qualifiers in place) and name.
#[doc(hidden)]
pub struct Item {
    sql: String,
    params: Vec<Param>,
    name: Cow<'static, str>,
}

/// What a [`Select`] reads from each row, in scope `S`: a column handle
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
/// [`Col::in_subquery`] and [`Select::scalar`] take).
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

/// A projected column under another name ([`Col::alias`]).
#[derive(Debug, Clone)]
pub struct Named<P> {
    inner: P,
    name: Cow<'static, str>,
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
struct CountRows;

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

/// An uncorrelated subquery that reads one value ([`Select::scalar`]), to
/// select beside other values: reads as `Option<T>` (`None` when the
/// subquery reads no row).
pub struct Scalar<T> {
    sql: String,
    params: Vec<Param>,
    name: Cow<'static, str>,
    _marker: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Scalar<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scalar({})", self.sql)
    }
}

impl<T> Scalar<T> {
    /// Read the value under column name `name` (see [`Select::all_as`]).
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

// ------------------------------------------------------------------ JoinQuery

/// A query over several entities: [`Find`] on `E` with joins (its scope `S`
/// lists the entities it can name). Filter and order it on any of them, then
/// [`select`](JoinQuery::select) what to read.
pub struct JoinQuery<E: Entity, S> {
    find: Find<E>,
    /// The tables in the query, quoted (a table joined twice is refused).
    tables: Vec<String>,
    joins: String,
    join_params: Vec<Param>,
    conds: Vec<String>,
    cond_params: Vec<Param>,
    order: Vec<String>,
    order_params: Vec<Param>,
    error: Option<String>,
    _marker: PhantomData<fn() -> S>,
}

impl<E: Entity, S> std::fmt::Debug for JoinQuery<E, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinQuery")
            .field("find", &self.find)
            .field("joins", &self.joins)
            .finish()
    }
}

impl<E: Entity, S> Clone for JoinQuery<E, S> {
    fn clone(&self) -> Self {
        JoinQuery {
            find: self.find.clone(),
            tables: self.tables.clone(),
            joins: self.joins.clone(),
            join_params: self.join_params.clone(),
            conds: self.conds.clone(),
            cond_params: self.cond_params.clone(),
            order: self.order.clone(),
            order_params: self.order_params.clone(),
            error: self.error.clone(),
            _marker: PhantomData,
        }
    }
}

impl<E: Entity> From<Find<E>> for JoinQuery<E, Root<E>> {
    fn from(mut find: Find<E>) -> Self {
        let root = table_of::<E>();
        let order = std::mem::take(&mut find.order)
            .into_iter()
            .map(|o| {
                format!(
                    "{root}.{}{}",
                    quoted(o.column),
                    if o.descending { " DESC" } else { "" }
                )
            })
            .collect();
        JoinQuery {
            find,
            tables: vec![root],
            joins: String::new(),
            join_params: Vec::new(),
            conds: Vec::new(),
            cond_params: Vec::new(),
            order,
            order_params: Vec::new(),
            error: None,
            _marker: PhantomData,
        }
    }
}

impl<E: Entity, S> JoinQuery<E, S> {
    fn widen<T>(self) -> JoinQuery<E, T> {
        JoinQuery {
            find: self.find,
            tables: self.tables,
            joins: self.joins,
            join_params: self.join_params,
            conds: self.conds,
            cond_params: self.cond_params,
            order: self.order,
            order_params: self.order_params,
            error: self.error,
            _marker: PhantomData,
        }
    }

    fn add_join(&mut self, left: bool, table: &str, target: String, on: String) {
        if self.tables.iter().any(|t| t == table) {
            self.error.get_or_insert_with(|| {
                format!(
                    "the query names table {table} twice (an entity joined to itself, or joined twice): filter through a relation of an entity to itself with `.any(..)`/`.has(..)` instead"
                )
            });
        }
        self.tables.push(table.to_string());
        self.joins
            .push_str(if left { " LEFT JOIN " } else { " INNER JOIN " });
        self.joins.push_str(&target);
        self.joins.push_str(" ON ");
        self.joins.push_str(&on);
    }

    /// Join the entity `rel` leads to (`Task::OWNER`, `User::TASKS`,
    /// `Post::TAGS`): only rows that have a match, one row per match.
    /// Soft-deleted rows of the joined entity do not match.
    pub fn join<R, I>(mut self, rel: R) -> JoinVia<E, S, R, I>
    where
        R: JoinRelation,
        S: InScope<R::From, I>,
    {
        let (target, on) = rel.__join_target();
        self.add_join(false, &table_of::<R::To>(), target, on);
        self.widen()
    }

    /// Join the entity `rel` leads to, keeping rows without a match (its
    /// columns read as `None` there).
    pub fn left_join<R, I>(mut self, rel: R) -> JoinQuery<E, Joined<S, R::To, Nullable>>
    where
        R: JoinRelation,
        S: InScope<R::From, I>,
    {
        let (target, on) = rel.__join_target();
        self.add_join(true, &table_of::<R::To>(), target, on);
        self.widen()
    }

    fn join_on_with<X: Entity, Y: Entity>(&mut self, left: bool, on: On<X, Y>) {
        let x = table_of::<X>();
        let cond = format!(
            "{}({})",
            alive_in::<X>(&x),
            place_on(&on.sql, &x, &table_of::<Y>())
        );
        self.join_params.extend(on.params);
        self.add_join(left, &x.clone(), x, cond);
    }

    /// Join entity `X` on a condition between its columns and those of an
    /// entity already in the query (`Task::OWNER_ID.eq_col(User::ID)`), for
    /// what no declared relation says. Soft-deleted rows of `X` do not match.
    pub fn join_on<X: Entity, Y: Entity, I>(mut self, on: On<X, Y>) -> JoinOn<E, S, X, Y, I>
    where
        S: InScope<Y, I>,
    {
        self.join_on_with(false, on);
        self.widen()
    }

    /// [`join_on`](JoinQuery::join_on), keeping rows without a match.
    pub fn left_join_on<X: Entity, Y: Entity, I>(
        mut self,
        on: On<X, Y>,
    ) -> JoinQuery<E, Joined<S, X, Nullable>>
    where
        S: InScope<Y, I>,
    {
        self.join_on_with(true, on);
        self.widen()
    }

    /// Keep rows matching `cond`, a condition on any entity in the query
    /// (several calls are ANDed).
    pub fn filter<X: Entity, I>(mut self, cond: Cond<X>) -> Self
    where
        S: InScope<X, I>,
    {
        let (sql, params) = cond.into_parts();
        self.conds.push(place(&sql, &table_of::<X>()));
        self.cond_params.extend(params);
        self
    }

    /// Sort by a column of any entity in the query (several calls sort by
    /// each in turn).
    pub fn order_by<O: Ordering<S, I>, I>(mut self, order: O) -> Self {
        let (sql, params) = order.__order();
        self.order.push(sql);
        self.order_params.extend(params);
        self
    }

    /// Return at most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.find.limit = Some(n);
        self
    }

    /// Skip the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.find.offset = Some(n);
        self
    }

    /// How many rows the join gives (one per match; honouring limit and
    /// offset).
    pub fn count<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<i64>> + Send + 'a
    where
        Self: 'a,
    {
        let windowed = self.find.limit.is_some() || self.find.offset.is_some();
        let mut sel = self.select(CountRows);
        let session = ex.__into_session();
        async move {
            sel.check()?;
            if windowed {
                sel.items = vec![Item {
                    sql: "1".into(),
                    params: Vec::new(),
                    name: Cow::Borrowed("one"),
                }];
            }
            let (inner, params) = sel.render(false);
            let sql = if windowed {
                format!("SELECT COUNT(*) FROM ({inner}) [counted]")
            } else {
                inner
            };
            let stmt = session.db.inner.statements.get(&sql)?;
            let opts = session.options();
            let rows: Vec<(i64,)> = session
                .read(&stmt, &ParamList(&params), Some(1), opts)
                .await?;
            Ok(rows.first().map_or(0, |r| r.0))
        }
    }

    /// Read `projection` from each row: a column handle, an aggregate, or a
    /// tuple of them. See [`Select`].
    pub fn select<P: Projection<S, I>, I>(self, projection: P) -> Select<E, S, P, I> {
        let mut items = Vec::new();
        projection.__items(&mut items);
        Select {
            query: self,
            items,
            distinct: false,
            group: Vec::new(),
            group_params: Vec::new(),
            having: Vec::new(),
            having_params: Vec::new(),
            _marker: PhantomData,
        }
    }
}

impl<E: Entity> Find<E> {
    /// Join the entity relation `rel` leads to: a [`JoinQuery`] over both (only
    /// rows with a match; one row per match). See [`JoinQuery::join`].
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use dal::{Db, Entity};
    ///
    /// #[derive(Entity, Debug, Clone)]
    /// #[dal(table = "owners", has_many(pets = Pet::OWNER))]
    /// struct Owner {
    ///     #[dal(id)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// #[derive(Entity, Debug, Clone)]
    /// #[dal(table = "pets")]
    /// struct Pet {
    ///     #[dal(id)]
    ///     id: i64,
    ///     #[dal(belongs_to = Owner)]
    ///     owner_id: i64,
    ///     name: String,
    ///     kg: i32,
    /// }
    ///
    /// let db = Db::connect_url("sqlite::memory:").await?;
    /// Owner::ensure_schema(&db).await?;
    /// Pet::ensure_schema(&db).await?;
    /// let mut ada = Owner { id: 0, name: "Ada".into() };
    /// ada.save(&db).await?;
    /// let mut bob = Owner { id: 0, name: "Bob".into() };
    /// bob.save(&db).await?;
    /// for (name, kg) in [("Rex", 30), ("Tom", 4)] {
    ///     Pet { id: 0, owner_id: ada.id, name: name.into(), kg }.save(&db).await?;
    /// }
    ///
    /// // each pet with its owner's name
    /// let rows: Vec<(String, String)> = Pet::find()
    ///     .join(Pet::OWNER)
    ///     .order_by(Pet::NAME.asc())
    ///     .select((Pet::NAME, Owner::NAME))
    ///     .all(&db)
    ///     .await?;
    /// assert_eq!(rows[0], ("Rex".to_string(), "Ada".to_string()));
    ///
    /// // every owner with the number and weight of their pets
    /// let report: Vec<(String, i64, Option<i64>)> = Owner::find()
    ///     .left_join(Owner::PETS)
    ///     .select((Owner::NAME, Pet::ID.count(), Pet::KG.sum()))
    ///     .group_by((Owner::ID, Owner::NAME))
    ///     .order_by(Owner::NAME.asc())
    ///     .all(&db)
    ///     .await?;
    /// assert_eq!(report, vec![("Ada".into(), 2, Some(34)), ("Bob".into(), 0, None)]);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub fn join<R, I>(self, rel: R) -> JoinVia<E, Root<E>, R, I>
    where
        R: JoinRelation,
        Root<E>: InScope<R::From, I>,
    {
        JoinQuery::from(self).join(rel)
    }

    /// Join the entity `rel` leads to, keeping rows without a match. See
    /// [`JoinQuery::left_join`].
    pub fn left_join<R, I>(self, rel: R) -> JoinQuery<E, Joined<Root<E>, R::To, Nullable>>
    where
        R: JoinRelation,
        Root<E>: InScope<R::From, I>,
    {
        JoinQuery::from(self).left_join(rel)
    }

    /// Join entity `X` on typed columns. See [`JoinQuery::join_on`].
    pub fn join_on<X: Entity>(self, on: On<X, E>) -> JoinQuery<E, Joined<Root<E>, X, NotNull>> {
        JoinQuery::from(self).join_on(on)
    }

    /// Join entity `X` on typed columns, keeping rows without a match. See
    /// [`JoinQuery::left_join_on`].
    pub fn left_join_on<X: Entity>(
        self,
        on: On<X, E>,
    ) -> JoinQuery<E, Joined<Root<E>, X, Nullable>> {
        JoinQuery::from(self).left_join_on(on)
    }

    /// Read `projection` from each matching row instead of whole entities:
    /// some columns (`(User::ID, User::NAME)`), aggregates
    /// (`User::ID.count()`), or a tuple of them. See [`Select`].
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # use dal::{Db, Entity};
    /// #[derive(Entity, Debug, Clone)]
    /// #[dal(table = "items")]
    /// struct Item {
    ///     #[dal(id)]
    ///     id: i64,
    ///     kind: String,
    ///     price: i32,
    ///     note: Option<String>,
    /// }
    /// let db = Db::connect_url("sqlite::memory:").await?;
    /// Item::ensure_schema(&db).await?;
    /// for (kind, price) in [("tea", 3), ("tea", 5), ("cake", 4)] {
    ///     Item { id: 0, kind: kind.into(), price, note: None }.save(&db).await?;
    /// }
    /// // columns into tuples, with the field types (an Option field stays one)
    /// let names: Vec<(String, Option<String>)> =
    ///     Item::find().select((Item::KIND, Item::NOTE)).all(&db).await?;
    /// assert_eq!(names.len(), 3);
    /// // aggregates per group, filtered by HAVING
    /// let per_kind: Vec<(String, i64, Option<i64>, Option<f64>)> = Item::find()
    ///     .select((Item::KIND, Item::ID.count(), Item::PRICE.sum(), Item::PRICE.avg()))
    ///     .group_by(Item::KIND)
    ///     .having(Item::ID.count().gt(1))
    ///     .all(&db)
    ///     .await?;
    /// assert_eq!(per_kind, vec![("tea".into(), 2, Some(8), Some(4.0))]);
    /// // one value
    /// let top: Option<i32> = Item::find().select(Item::PRICE.max()).one(&db).await?;
    /// assert_eq!(top, Some(5));
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub fn select<P: Projection<Root<E>, I>, I>(self, projection: P) -> Select<E, Root<E>, P, I> {
        JoinQuery::from(self).select(projection)
    }
}

// ------------------------------------------------------------------ Select

/// A query that reads projections (made by [`Find::select`] or
/// [`JoinQuery::select`]): group, filter groups, sort, then run it with
/// [`all`](Select::all), [`one`](Select::one), [`optional`](Select::optional)
/// (rows as `P::Out`: a value or a tuple) or [`all_as`](Select::all_as)
/// (rows as a `#[derive(FromRow)]` struct, read by the values' names).
pub struct Select<E: Entity, S, P, I> {
    query: JoinQuery<E, S>,
    items: Vec<Item>,
    distinct: bool,
    group: Vec<String>,
    group_params: Vec<Param>,
    having: Vec<String>,
    having_params: Vec<Param>,
    _marker: PhantomData<fn() -> (P, I)>,
}

impl<E: Entity, S, P, I> std::fmt::Debug for Select<E, S, P, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Select")
            .field("query", &self.query)
            .field(
                "items",
                &self.items.iter().map(|i| &i.sql).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// One row of a [`Select`], decoded by its projection.
struct Decoded<P, S, I>(<P as Projection<S, I>>::Out)
where
    P: Projection<S, I>;

impl<P: Projection<S, I>, S, I> FromRow for Decoded<P, S, I> {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        let mut at = 0;
        P::__decode(row, &mut at).map(Decoded)
    }
}

impl<E: Entity, S, P: Projection<S, I>, I> Select<E, S, P, I> {
    /// Only distinct rows (`SELECT DISTINCT`).
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    /// Group rows by `columns` (a column handle or a tuple of them, of any
    /// entity in the query): aggregates then compute per group. Every
    /// selected value that is not an aggregate should be grouped by
    /// (PostgreSQL refuses it otherwise).
    pub fn group_by<G: Projection<S, J>, J>(mut self, columns: G) -> Self {
        let mut items = Vec::new();
        columns.__items(&mut items);
        for item in items {
            self.group.push(item.sql);
            self.group_params.extend(item.params);
        }
        self
    }

    /// Keep only groups matching `cond`, a condition on aggregates
    /// (`Task::ID.count().gt(3)`) or grouped columns (several calls are ANDed).
    pub fn having<X: Entity, J>(mut self, cond: Cond<X>) -> Self
    where
        S: InScope<X, J>,
    {
        let (sql, params) = cond.into_parts();
        self.having.push(place(&sql, &table_of::<X>()));
        self.having_params.extend(params);
        self
    }

    /// Sort by a column or a computed value (`Task::ID.count().desc()`)
    /// (several calls sort by each in turn).
    pub fn order_by<O: Ordering<S, J>, J>(mut self, order: O) -> Self {
        self.query = self.query.order_by(order);
        self
    }

    /// Return at most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.query.find.limit = Some(n);
        self
    }

    /// Skip the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.query.find.offset = Some(n);
        self
    }

    /// This query as a value to select beside others (an uncorrelated
    /// subquery reading one value, `None` when it reads no row).
    pub fn scalar(self) -> Scalar<P::Value>
    where
        P: Single,
    {
        let name = self
            .items
            .first()
            .map_or(Cow::Borrowed("scalar"), |i| i.name.clone());
        let (sql, params) = self.render(false);
        Scalar {
            sql,
            params,
            name,
            _marker: PhantomData,
        }
    }

    /// `EXISTS (this query)`, as a condition on any entity (true when the
    /// query reads a row).
    pub fn exists<X>(self) -> Cond<X> {
        let (sql, params) = self.render(false);
        Cond::raw(format!("EXISTS ({sql})"), params)
    }

    /// `NOT EXISTS (this query)`.
    pub fn not_exists<X>(self) -> Cond<X> {
        let (sql, params) = self.render(false);
        Cond::raw(format!("NOT EXISTS ({sql})"), params)
    }

    /// The statement text (portable SQL) and its parameters, in order.
    fn render(self, lock: bool) -> (String, Vec<Param>) {
        let Select {
            query,
            items,
            distinct,
            group,
            group_params,
            having,
            having_params,
            ..
        } = self;
        let JoinQuery {
            mut find,
            joins,
            join_params,
            conds,
            cond_params,
            order,
            order_params,
            ..
        } = query;
        let mut params: Vec<Param> = Vec::new();
        let mut sql = String::from(if distinct {
            "SELECT DISTINCT "
        } else {
            "SELECT "
        });
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&item.sql);
            sql.push_str(" AS ");
            sql.push_str(&quoted(&item.name));
            params.extend(item.params);
        }
        let root = table_of::<E>();
        if find.as_of.is_some() {
            sql.push_str(&format!(" FROM {} {root}", quoted(E::INFO.history_table)));
        } else {
            sql.push_str(&format!(" FROM {root}"));
        }
        sql.push_str(&joins);
        params.extend(join_params);
        let mut where_sql = String::new();
        let cond = find.cond.take();
        find.where_clause(&mut where_sql, &mut params, cond, &root);
        if !conds.is_empty() {
            where_sql.push_str(if where_sql.is_empty() {
                " WHERE "
            } else {
                " AND "
            });
            let wrapped: Vec<String> = conds.iter().map(|c| format!("({c})")).collect();
            where_sql.push_str(&wrapped.join(" AND "));
            params.extend(cond_params);
        }
        sql.push_str(&where_sql);
        if !group.is_empty() {
            sql.push_str(" GROUP BY ");
            sql.push_str(&group.join(", "));
            params.extend(group_params);
        }
        if !having.is_empty() {
            let wrapped: Vec<String> = having.iter().map(|c| format!("({c})")).collect();
            sql.push_str(" HAVING ");
            sql.push_str(&wrapped.join(" AND "));
            params.extend(having_params);
        }
        if !order.is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(&order.join(", "));
            params.extend(order_params);
        }
        find.window_and_lock(&mut sql, &mut params, lock);
        (sql, params)
    }

    fn check(&self) -> Result<()> {
        self.query.find.check_as_of()?;
        if let Some(e) = &self.query.error {
            return Err(Error::invalid_input("join", e.clone()));
        }
        Ok(())
    }

    async fn run<'a, R: FromRow + Send>(
        self,
        session: super::executor::Session<'a>,
        limit: Option<usize>,
    ) -> Result<Vec<R>> {
        self.check()?;
        let lock = session.dialect().capabilities().row_locking;
        let (sql, params) = self.render(lock);
        let stmt = session.db.inner.statements.get(&sql)?;
        let opts = session.options();
        session.read(&stmt, &ParamList(&params), limit, opts).await
    }

    /// Every row.
    pub fn all<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Vec<P::Out>>> + Send + 'a
    where
        Self: 'a,
    {
        let session = ex.__into_session();
        async move {
            let rows: Vec<Decoded<P, S, I>> = self.run(session, None).await?;
            Ok(rows.into_iter().map(|d| d.0).collect())
        }
    }

    /// The first row, if any.
    pub fn optional<'a, X: Executor<'a>>(
        mut self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Option<P::Out>>> + Send + 'a
    where
        Self: 'a,
    {
        self.query.find.limit = Some(1);
        let session = ex.__into_session();
        async move {
            let rows: Vec<Decoded<P, S, I>> = self.run(session, Some(1)).await?;
            Ok(rows.into_iter().next().map(|d| d.0))
        }
    }

    /// The first row; [`Error::NotFound`] when there is none.
    pub fn one<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<P::Out>> + Send + 'a
    where
        Self: 'a,
    {
        let f = self.optional(ex);
        async move {
            f.await?
                .ok_or_else(|| Error::NotFound(format!("no {} matches the query", E::INFO.table)))
        }
    }

    /// Every row as `R`, a `#[derive(FromRow)]` struct whose fields are read
    /// by the selected values' names: a column's own name, an aggregate's
    /// `{function}_{column}` (`count_id`, `sum_price`), or the name given
    /// with `alias`. Name the struct with a turbofish
    /// (`.all_as::<ByRegion>(&db)`) or on the variable.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # use dal::{Db, Entity, FromRow};
    /// #[derive(Entity, Debug, Clone)]
    /// #[dal(table = "sales")]
    /// struct Sale {
    ///     #[dal(id)]
    ///     id: i64,
    ///     region: String,
    ///     cents: i64,
    /// }
    ///
    /// #[derive(FromRow, Debug, PartialEq)]
    /// struct ByRegion {
    ///     region: String,
    ///     sales: i64,
    ///     total: Option<rust_decimal::Decimal>,
    /// }
    ///
    /// let db = Db::connect_url("sqlite::memory:").await?;
    /// Sale::ensure_schema(&db).await?;
    /// Sale { id: 0, region: "north".into(), cents: 250 }.save(&db).await?;
    /// let rows: Vec<ByRegion> = Sale::find()
    ///     .select((Sale::REGION, Sale::ID.count().alias("sales"), Sale::CENTS.sum().alias("total")))
    ///     .group_by(Sale::REGION)
    ///     .all_as(&db)
    ///     .await?;
    /// assert_eq!(rows[0].sales, 1);
    /// assert_eq!(rows[0].total, Some(250.into()));
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub fn all_as<'a, R: FromRow + Send + 'a>(
        self,
        ex: impl Executor<'a>,
    ) -> impl std::future::Future<Output = Result<Vec<R>>> + Send + 'a
    where
        Self: 'a,
    {
        let session = ex.__into_session();
        async move { self.run(session, None).await }
    }
}
