//! Filters through relations: conditions on a query that look at related
//! rows (`EXISTS` subqueries), and the SQL helpers joins and subqueries share.

use super::handles::{BelongsTo, HasMany, HasOne, ManyToMany};
use crate::entity::Entity;
use crate::entity::query::Cond;
use crate::entity::sql::{MARK, place};

// ------------------------------------------------------------------ filters through relations

impl<C: Entity, P: Entity> BelongsTo<C, P> {
    /// The foreign-key column on `C`.
    pub(crate) fn key_column(self) -> &'static str {
        self.column
    }
}

impl<P: Entity, C: Entity> HasMany<P, C> {
    /// The belongs-to relation it is the inverse of.
    pub(crate) fn inverse_of(self) -> BelongsTo<C, P> {
        self.inverse
    }
}

impl<P: Entity, C: Entity> HasOne<P, C> {
    /// The belongs-to relation it is the inverse of.
    pub(crate) fn inverse_of(self) -> BelongsTo<C, P> {
        self.inverse
    }
}

impl<L: Entity, R: Entity, J: Entity> ManyToMany<L, R, J> {
    /// The join entity's relations to the left and right entities.
    pub(crate) fn sides(self) -> (BelongsTo<J, L>, BelongsTo<J, R>) {
        (self.left, self.right)
    }
}

/// `[alias].[deleted_at] IS NULL AND ` when `E` has soft deletes.
pub(crate) fn alive_in<E: Entity>(alias: &str) -> String {
    match E::INFO.column(dal_schema::entity::ColumnRole::DeletedAt) {
        Some(c) => format!(
            "{alias}.{} IS NULL AND ",
            crate::entity::sql::quoted(c.name)
        ),
        None => String::new(),
    }
}

/// How the subquery names its table: `(from, alias)`. Always by an alias,
/// one the condition nested in it (`inner`) does not use, so that a
/// relation of an entity to itself, nested any number of times, still tells
/// each level's rows apart.
pub(crate) fn sub_name(table: &'static str, inner: &str) -> (String, String) {
    let q = crate::entity::sql::quoted;
    let alias = fresh_alias("dal_s", inner);
    (format!("{} {alias}", q(table)), alias)
}

/// `[{stem}{n}]` for the smallest `n` that `sql` does not contain.
pub(crate) fn fresh_alias(stem: &str, sql: &str) -> String {
    (1..)
        .map(|n| format!("[{stem}{n}]"))
        .find(|a| !sql.contains(a.as_str()))
        .expect("some alias is free")
}

/// `EXISTS (SELECT 1 FROM child WHERE child.fk = parent.id AND ..)`, or
/// its negation.
pub(super) fn exists_children<P: Entity, C: Entity>(
    inverse: BelongsTo<C, P>,
    cond: Option<Cond<C>>,
    negate: bool,
) -> Cond<P> {
    let q = crate::entity::sql::quoted;
    let given = cond.is_some();
    let (sql, params) = cond.map(Cond::into_parts).unwrap_or_default();
    let (from, alias) = sub_name(C::INFO.table, &sql);
    let extra = if given {
        format!(" AND ({})", place(&sql, &alias))
    } else {
        String::new()
    };
    Cond::raw(
        format!(
            "{}EXISTS (SELECT 1 FROM {from} WHERE {}{alias}.{} = {MARK}{}{extra})",
            if negate { "NOT " } else { "" },
            alive_in::<C>(&alias),
            q(inverse.column),
            q(P::INFO.id_column),
        ),
        params,
    )
}

impl<P: Entity, C: Entity> HasMany<P, C> {
    /// A filter on the parents: at least one of its (not soft-deleted)
    /// children matches `cond`, as an `EXISTS` subquery
    /// (`User::find().filter(User::TASKS.any(Task::DONE.eq(false)))`).
    pub fn any(self, cond: Cond<C>) -> Cond<P> {
        exists_children(self.inverse, Some(cond), false)
    }

    /// A filter on the parents: none of its children matches `cond`.
    pub fn none(self, cond: Cond<C>) -> Cond<P> {
        exists_children(self.inverse, Some(cond), true)
    }

    /// A filter on the parents: it has at least one child.
    pub fn exists(self) -> Cond<P> {
        exists_children(self.inverse, None, false)
    }

    /// A filter on the parents: it has no children.
    pub fn is_empty(self) -> Cond<P> {
        exists_children(self.inverse, None, true)
    }
}

impl<P: Entity, C: Entity> HasOne<P, C> {
    /// A filter on the parents: its child exists and matches `cond`.
    pub fn has(self, cond: Cond<C>) -> Cond<P> {
        exists_children(self.inverse, Some(cond), false)
    }

    /// A filter on the parents: it has a child.
    pub fn exists(self) -> Cond<P> {
        exists_children(self.inverse, None, false)
    }
}

impl<C: Entity, P: Entity> BelongsTo<C, P> {
    /// A filter on the children: the (not soft-deleted) parent it points at
    /// matches `cond` (`Task::find().filter(Task::OWNER.has(User::NAME.eq("Ada")))`).
    pub fn has(self, cond: Cond<P>) -> Cond<C> {
        let q = crate::entity::sql::quoted;
        let (sql, params) = cond.into_parts();
        let (from, alias) = sub_name(P::INFO.table, &sql);
        Cond::raw(
            format!(
                "EXISTS (SELECT 1 FROM {from} WHERE {}{alias}.{} = {MARK}{} AND ({}))",
                alive_in::<P>(&alias),
                q(P::INFO.id_column),
                q(self.column),
                place(&sql, &alias),
            ),
            params,
        )
    }
}

impl<L: Entity, R: Entity, J: Entity> ManyToMany<L, R, J> {
    /// A filter on the left rows: at least one linked (not soft-deleted) row
    /// matches `cond` (`Post::find().filter(Post::TAGS.any(Tag::LABEL.eq("rust")))`).
    pub fn any(self, cond: Cond<R>) -> Cond<L> {
        self.linked(Some(cond), false)
    }

    /// A filter on the left rows: no linked row matches `cond`.
    pub fn none(self, cond: Cond<R>) -> Cond<L> {
        self.linked(Some(cond), true)
    }

    /// A filter on the left rows: at least one row is linked.
    pub fn exists(self) -> Cond<L> {
        self.linked(None, false)
    }

    fn linked(self, cond: Option<Cond<R>>, negate: bool) -> Cond<L> {
        let q = crate::entity::sql::quoted;
        let given = cond.is_some();
        let (sql, params) = cond.map(Cond::into_parts).unwrap_or_default();
        let (from, alias) = sub_name(R::INFO.table, &sql);
        let extra = if given {
            format!(" AND ({})", place(&sql, &alias))
        } else {
            String::new()
        };
        let j = fresh_alias("dal_j", &sql);
        Cond::raw(
            format!(
                "{}EXISTS (SELECT 1 FROM {} {j} WHERE {}{j}.{} = {MARK}{} AND {j}.{} IN (SELECT {alias}.{} FROM {from} WHERE {}1 = 1{extra}))",
                if negate { "NOT " } else { "" },
                q(J::INFO.table),
                alive_in::<J>(&j),
                q(self.left.column),
                q(L::INFO.id_column),
                q(self.right.column),
                q(R::INFO.id_column),
                alive_in::<R>(&alias),
            ),
            params,
        )
    }
}
