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
