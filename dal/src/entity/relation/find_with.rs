//! [`FindWith`]: a query with relations to load eagerly ([`Find::with`](crate::entity::Find::with)).

use super::eager::{Include, Loaded, Loader};
use crate::entity::Entity;
use crate::entity::executor::{Executor, Session};
use crate::entity::query::Find;
use crate::error::{Error, Result};

// ------------------------------------------------------------------ FindWith

/// A query with relations to load eagerly: `User::find().with(User::TASKS)`.
/// Runs the query, then one query per relation and level (the keys bound as
/// one array on PostgreSQL, elsewhere IN-lists chunked at the dialect's bind
/// limit), never one per row.
pub struct FindWith<E: Entity> {
    pub(super) find: Find<E>,
    pub(super) loaders: Vec<Box<dyn Loader<E>>>,
}

impl<E: Entity> std::fmt::Debug for FindWith<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FindWith")
            .field("find", &self.find)
            .field("relations", &self.loaders.len())
            .finish()
    }
}

impl<E: Entity> Find<E> {
    /// Load `relation` (a handle like `User::TASKS`, or one with options:
    /// `User::TASKS.filter(..).with(Task::TAGS)`) for every row the query
    /// returns.
    pub fn with<R: Include<E>>(self, relation: R) -> FindWith<E> {
        FindWith {
            find: self,
            loaders: vec![relation.__loader()],
        }
    }
}

impl<E: Entity> FindWith<E> {
    /// Load one more relation.
    pub fn with<R: Include<E>>(mut self, relation: R) -> Self {
        self.loaders.push(relation.__loader());
        self
    }

    async fn run(self, session: &mut Session<'_>, rows: Vec<E>) -> Result<Vec<Loaded<E>>> {
        let mut rows: Vec<Loaded<E>> = rows.into_iter().map(Loaded::new).collect();
        if rows.is_empty() {
            return Ok(rows);
        }
        let as_of = self.find.as_of_instant();
        for l in &self.loaders {
            l.load(&mut rows, session, as_of).await?;
        }
        Ok(rows)
    }

    /// Every matching row, with its relations.
    pub fn all<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Vec<Loaded<E>>>> + Send + 'a
    where
        Self: 'a,
    {
        let mut session = ex.__into_session();
        async move {
            let rows = self.find.clone().select_on(&mut session).await?;
            self.run(&mut session, rows).await
        }
    }

    /// The first matching row, if any, with its relations.
    pub fn optional<'a, X: Executor<'a>>(
        mut self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Option<Loaded<E>>>> + Send + 'a
    where
        Self: 'a,
    {
        self.find = self.find.limit(1);
        let all = self.all(ex);
        async move { Ok(all.await?.into_iter().next()) }
    }

    /// The first matching row with its relations; [`Error::NotFound`] when
    /// there is none.
    pub fn one<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Loaded<E>>> + Send + 'a
    where
        Self: 'a,
    {
        let first = self.optional(ex);
        async move {
            first.await?.ok_or_else(|| {
                Error::NotFound(format!("no `{}` row matches the query", E::INFO.table))
            })
        }
    }
}
