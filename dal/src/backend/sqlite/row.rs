//! SQLite's row decoding: a running statement's current row copied into
//! dal's reusable row buffer ([`SqliteRow`], whose cells are the scalar form).

use crate::error::{Error, Result};
use crate::row::{Cell, SqliteRow};

impl SqliteRow {
    /// Replace the contents with the current row of a running statement.
    pub(crate) fn fill(&mut self, r: &rusqlite::Row<'_>) -> Result<()> {
        use rusqlite::types::ValueRef as V;
        self.cells.clear();
        self.data.clear();
        for i in 0..self.columns.len() {
            let v = r
                .get_ref(i)
                .map_err(|e| Error::decode(i.to_string(), e.to_string()))?;
            let cell = match v {
                V::Null => Cell::Null,
                V::Integer(x) => Cell::Integer(x),
                V::Real(x) => Cell::Real(x),
                V::Text(t) => {
                    let start = self.data.len();
                    self.data.extend_from_slice(t);
                    Cell::Text(start, t.len())
                }
                V::Blob(b) => {
                    let start = self.data.len();
                    self.data.extend_from_slice(b);
                    Cell::Blob(start, b.len())
                }
            };
            self.cells.push(cell);
        }
        Ok(())
    }
}
