//! What the autogenerator takes besides a diff ([`RenderContext`]) and what it
//! gives back ([`Generated`]): plain data, below the renderer that fills it.

use dal_schema::entity::EntityShape;
use dal_schema::{Dialect, Schema};

/// A generated migration.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Generated {
    /// The Rust source of the migration file.
    pub source: String,
    /// How many changes of the diff the `up` script makes (0: nothing to do).
    pub changes: usize,
    /// The destructive changes left out, one line each (`drop column users.age`).
    pub skipped_destructive: Vec<String>,
    /// Things to review: steps written as raw SQL for one database, columns
    /// added as NOT NULL without a default, down steps that cannot restore data.
    pub warnings: Vec<String>,
}

impl Generated {
    /// True when the live schema already matches (nothing to write).
    pub fn is_empty(&self) -> bool {
        self.changes == 0
    }
}

/// What [`render`](super::render) needs besides the diff.
///
/// ```
/// use dal::autogen::RenderContext;
/// let ctx = RenderContext::new(dal::Dialect::MySql).include_destructive(true);
/// assert!(ctx.include_destructive);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RenderContext {
    /// The database the diff was made against: raw SQL steps are written for it.
    pub dialect: Dialect,
    /// The live schema the diff was made against: the `down` script restores
    /// what the `up` script drops or changes from it.
    pub live: Schema,
    /// Entities whose history is written by triggers: their triggers are
    /// (re)created after their tables change.
    pub history: Vec<EntityShape>,
    /// Include the destructive changes.
    pub include_destructive: bool,
}

impl RenderContext {
    /// A context for `dialect` with an empty live schema.
    pub fn new(dialect: Dialect) -> RenderContext {
        RenderContext {
            dialect,
            live: Schema::new(),
            history: Vec::new(),
            include_destructive: false,
        }
    }

    /// Set the live schema.
    pub fn live(mut self, live: Schema) -> RenderContext {
        self.live = live;
        self
    }

    /// Set the entities that keep a history.
    pub fn history(mut self, history: Vec<EntityShape>) -> RenderContext {
        self.history = history;
        self
    }

    /// Set [`include_destructive`](Self::include_destructive).
    pub fn include_destructive(mut self, yes: bool) -> RenderContext {
        self.include_destructive = yes;
        self
    }
}
