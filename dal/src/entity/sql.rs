//! SQL text pieces shared by the query builder and the write paths: quoted
//! portable names and erased parameters.

use crate::codec::{Arguments, Encode};
use crate::error::Result;
use crate::params::Params;

/// A parameter of a statement built at run time.
pub(crate) type Param = std::sync::Arc<dyn Encode>;

/// A name in portable SQL (`[name]`, `]` doubled).
pub(crate) fn quoted(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 2);
    s.push('[');
    for c in name.chars() {
        if c == ']' {
            s.push(']');
        }
        s.push(c);
    }
    s.push(']');
    s
}

/// Stands, in the text of a condition or expression on one entity, where
/// that entity's qualifier goes (`\u{1}[name]`); [`place`] puts it there.
/// Conditions are written before it is known which name the table has in
/// the statement they end up in (its own, an alias in a subquery).
pub(crate) const MARK: char = '\u{1}';

/// `sql` with every [`MARK`] replaced by `qualifier.` (a quoted name).
pub(crate) fn place(sql: &str, qualifier: &str) -> String {
    if !sql.contains(MARK) {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8 * qualifier.len());
    for (i, part) in sql.split(MARK).enumerate() {
        if i > 0 {
            out.push_str(qualifier);
            out.push('.');
        }
        out.push_str(part);
    }
    out
}

/// The marker field of a type generic over three types it holds none of.
pub(crate) type Phantom3<A, B, C> = std::marker::PhantomData<fn() -> (A, B, C)>;

/// A list of [`Param`]s bound in order.
pub(crate) struct ParamList<'a>(pub(crate) &'a [Param]);

impl Params for ParamList<'_> {
    fn bind<'q>(&'q self, args: &mut Arguments<'q>) -> Result<()> {
        for p in self.0 {
            p.encode(args)?;
        }
        Ok(())
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}
