//! The translation cache: portable SQL is translated once per distinct text, so a
//! repeated statement costs one hash lookup.
//!
//! On PostgreSQL it also keeps each SQL text tied to one set of parameter types.
//! PostgreSQL prepares a statement with fixed parameter types and sqlx caches
//! prepared statements by SQL text alone, so binding an `f64` where the cached
//! statement expects a `BIGINT` would be read as the wrong type. The first
//! parameter-type signature seen for a text uses the text as is; another signature
//! gets its own text (the same SQL plus a marker comment) and so its own prepared
//! statement. Entries are never evicted (that would break the tie); past the
//! capacity, new texts run unprepared.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use dal_schema::Dialect;

use crate::error::Result;

/// Largest number of distinct statements kept.
const CAPACITY: usize = 4096;
/// Largest number of parameter-type variants per statement on PostgreSQL.
const MAX_VARIANTS: usize = 8;

/// A translated statement.
#[derive(Debug)]
pub(crate) struct Statement {
    /// The SQL for the dialect.
    pub sql: Arc<str>,
    /// How many parameters it takes.
    pub param_count: usize,
    /// Starts with INSERT or REPLACE (SQLite reports the last rowid for these).
    pub is_insert: bool,
    /// Cached statements may be prepared and kept on the server.
    pub cached: bool,
    first_signature: AtomicU64,
    variants: Mutex<Vec<(u64, Arc<str>)>>,
}

impl Statement {
    fn new(sql: String, param_count: usize, cached: bool) -> Self {
        let is_insert = {
            let head = sql.trim_start();
            let head = head.get(..7).unwrap_or(head).to_ascii_uppercase();
            head.starts_with("INSERT") || head.starts_with("REPLACE")
        };
        Statement {
            sql: Arc::from(sql),
            param_count,
            is_insert,
            cached,
            first_signature: AtomicU64::new(0),
            variants: Mutex::new(Vec::new()),
        }
    }

    /// The SQL text to prepare for parameter-type `signature` on PostgreSQL, or
    /// `None` when the statement must run unprepared.
    pub(crate) fn pg_sql_for(&self, signature: u64) -> Option<Arc<str>> {
        if !self.cached {
            return None;
        }
        let sig = signature | 1;
        let first = self.first_signature.load(Ordering::Acquire);
        if first == sig {
            return Some(self.sql.clone());
        }
        if first == 0
            && self
                .first_signature
                .compare_exchange(0, sig, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            return Some(self.sql.clone());
        }
        if self.first_signature.load(Ordering::Acquire) == sig {
            return Some(self.sql.clone());
        }
        let mut variants = self.variants.lock().ok()?;
        if let Some((_, s)) = variants.iter().find(|(s, _)| *s == sig) {
            return Some(s.clone());
        }
        if variants.len() >= MAX_VARIANTS {
            return None;
        }
        let text: Arc<str> = Arc::from(format!("{}\n/* dal:{} */", self.sql, variants.len() + 1));
        variants.push((sig, text.clone()));
        Some(text)
    }
}

/// Translated statements by their portable text.
#[derive(Debug)]
pub(crate) struct StatementCache {
    dialect: Dialect,
    map: RwLock<HashMap<Box<str>, Arc<Statement>>>,
}

impl StatementCache {
    pub(crate) fn new(dialect: Dialect) -> Self {
        StatementCache {
            dialect,
            map: RwLock::new(HashMap::with_capacity(64)),
        }
    }

    /// The translated statement for `portable` SQL.
    pub(crate) fn get(&self, portable: &str) -> Result<Arc<Statement>> {
        if let Ok(map) = self.map.read()
            && let Some(s) = map.get(portable)
        {
            return Ok(s.clone());
        }
        let t = dal_schema::translate(portable, self.dialect)?;
        let mut map = match self.map.write() {
            Ok(m) => m,
            Err(_) => return Ok(Arc::new(Statement::new(t.sql, t.param_count, false))),
        };
        if let Some(s) = map.get(portable) {
            return Ok(s.clone());
        }
        if map.len() >= CAPACITY {
            return Ok(Arc::new(Statement::new(t.sql, t.param_count, false)));
        }
        let s = Arc::new(Statement::new(t.sql, t.param_count, true));
        map.insert(portable.into(), s.clone());
        Ok(s)
    }

    /// Number of cached statements.
    #[allow(dead_code)]
    pub(crate) fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_and_counts_parameters() {
        let c = StatementCache::new(Dialect::Postgres);
        let a = c.get("SELECT [a] FROM [t] WHERE [b] = ?").unwrap();
        let b = c.get("SELECT [a] FROM [t] WHERE [b] = ?").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a.sql, "SELECT \"a\" FROM \"t\" WHERE \"b\" = $1");
        assert_eq!(a.param_count, 1);
        assert_eq!(c.len(), 1);
        assert!(c.get("INSERT INTO t VALUES (?)").unwrap().is_insert);
        assert!(c.get("SELECT 'unterminated").is_err());
    }

    #[test]
    fn one_text_per_signature() {
        let s = Statement::new("SELECT $1".into(), 1, true);
        let first = s.pg_sql_for(10).unwrap();
        assert_eq!(&*first, "SELECT $1");
        assert_eq!(&*s.pg_sql_for(10).unwrap(), "SELECT $1");
        let other = s.pg_sql_for(20).unwrap();
        assert_ne!(first, other);
        assert!(other.starts_with("SELECT $1"));
        assert_eq!(s.pg_sql_for(20).unwrap(), other);
        for sig in 30..40 {
            let _ = s.pg_sql_for(sig * 2);
        }
        assert!(s.pg_sql_for(1000).is_none());
    }
}
