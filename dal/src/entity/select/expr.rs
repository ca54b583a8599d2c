//! Expressions over columns: aggregates ([`Expr`]), sort keys ([`Sorted`]),
//! join conditions ([`On`]) and the relations a query can join along
//! ([`JoinRelation`]), with the relation aggregates of [`HasMany`] and
//! [`ManyToMany`].

use std::borrow::Cow;
use std::marker::PhantomData;

use super::scope::{MARK2, table_of};
use crate::codec::{Decode, Encode};
use crate::entity::Entity;
use crate::entity::query::{Col, Cond, NotNull, Nullable};
use crate::entity::relation::{
    BelongsTo, HasMany, HasOne, ManyToMany, alive_in, fresh_alias, sub_name,
};
use crate::entity::sql::{MARK, Param, Phantom3, place, quoted};

/// A value computed in the database over entity `X`'s rows: an aggregate
/// (`Task::HOURS.sum()`), a relation's aggregate (`User::TASKS.count()`),
/// or a column under another name. `T` is the value's Rust type and `N`
/// whether it can be NULL ([`Nullable`]: it reads as `Option<T>`).
///
/// Compare it ([`gt`](Expr::gt), ...) to filter groups with
/// [`Select::having`](crate::entity::Select::having); sort by it with [`asc`](Expr::asc) /
/// [`desc`](Expr::desc).
pub struct Expr<X, T, N = NotNull> {
    pub(super) sql: String,
    pub(super) params: Vec<Param>,
    pub(super) name: Cow<'static, str>,
    pub(super) _marker: Phantom3<X, T, N>,
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
    /// struct's field is called; see [`Select::all_as`](crate::entity::Select::all_as)).
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
    /// [`ColumnValue`](crate::entity::ColumnValue)).
    pub fn eq(self, v: impl crate::entity::ColumnValue<T>) -> Cond<X> {
        self.compare("=", v.into_param())
    }

    /// `value <> v`.
    pub fn ne(self, v: impl crate::entity::ColumnValue<T>) -> Cond<X> {
        self.compare("<>", v.into_param())
    }

    /// `value < v`.
    pub fn lt(self, v: impl crate::entity::ColumnValue<T>) -> Cond<X> {
        self.compare("<", v.into_param())
    }

    /// `value <= v`.
    pub fn le(self, v: impl crate::entity::ColumnValue<T>) -> Cond<X> {
        self.compare("<=", v.into_param())
    }

    /// `value > v`.
    pub fn gt(self, v: impl crate::entity::ColumnValue<T>) -> Cond<X> {
        self.compare(">", v.into_param())
    }

    /// `value >= v`.
    pub fn ge(self, v: impl crate::entity::ColumnValue<T>) -> Cond<X> {
        self.compare(">=", v.into_param())
    }
}

/// An ordering on a computed value ([`Expr::asc`], [`Expr::desc`]).
pub struct Sorted<X> {
    pub(super) sql: String,
    pub(super) params: Vec<Param>,
    pub(super) descending: bool,
    pub(super) _marker: PhantomData<fn() -> X>,
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
    /// (per group with [`Select::group_by`](crate::entity::Select::group_by)). Counting the id counts rows; on a
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
    /// [`Select::all_as`](crate::entity::Select::all_as)); it reads as the column itself does.
    pub fn alias(self, name: impl Into<Cow<'static, str>>) -> Named<Self> {
        Named {
            inner: self,
            name: name.into(),
        }
    }

    /// `column = other` between a column of the entity being joined and one
    /// of an entity already in the query: the condition of
    /// [`join_on`](crate::entity::Find::join_on) (`Task::OWNER_ID.eq_col(User::ID)` joins
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

/// A join condition ([`Find::join_on`](crate::entity::Find::join_on)): between the entity being joined,
/// `X`, and one already in the query, `Y`. Made by [`Col::eq_col`]; add
/// conditions on the joined entity with [`and`](On::and).
pub struct On<X, Y> {
    pub(super) sql: String,
    pub(super) params: Vec<Param>,
    pub(super) _marker: PhantomData<fn() -> (X, Y)>,
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

/// A projected column under another name ([`Col::alias`]).
#[derive(Debug, Clone)]
pub struct Named<P> {
    pub(super) inner: P,
    pub(super) name: Cow<'static, str>,
}
