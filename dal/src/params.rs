//! Statement parameters: anything implementing [`Params`] — `()`, tuples, arrays,
//! slices and vectors of [`Encode`] values, and the [`params!`](crate::params!) macro.

use crate::codec::{Arguments, Encode};
use crate::error::Result;

/// A list of statement parameters, bound in order to the `?` placeholders.
///
/// ```
/// use dal::Params;
/// assert_eq!((1, "two", 3.0).len(), 3);
/// assert_eq!(().len(), 0);
/// assert_eq!(vec![1i64, 2, 3].len(), 3);
/// let name = String::from("x");
/// assert_eq!(dal::params![1, &name, None::<i32>].len(), 3);
/// ```
pub trait Params: Send + Sync {
    /// Push every parameter onto `args`.
    fn bind<'q>(&'q self, args: &mut Arguments<'q>) -> Result<()>;
    /// Number of parameters.
    fn len(&self) -> usize;
    /// True when there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Params for () {
    fn bind<'q>(&'q self, _args: &mut Arguments<'q>) -> Result<()> {
        Ok(())
    }
    fn len(&self) -> usize {
        0
    }
}

impl<P: Params + ?Sized> Params for &P {
    fn bind<'q>(&'q self, args: &mut Arguments<'q>) -> Result<()> {
        (**self).bind(args)
    }
    fn len(&self) -> usize {
        (**self).len()
    }
}

impl<T: Encode> Params for [T] {
    fn bind<'q>(&'q self, args: &mut Arguments<'q>) -> Result<()> {
        for v in self {
            v.encode(args)?;
        }
        Ok(())
    }
    fn len(&self) -> usize {
        <[T]>::len(self)
    }
}

impl<T: Encode, const N: usize> Params for [T; N] {
    fn bind<'q>(&'q self, args: &mut Arguments<'q>) -> Result<()> {
        for v in self {
            v.encode(args)?;
        }
        Ok(())
    }
    fn len(&self) -> usize {
        N
    }
}

impl<T: Encode> Params for Vec<T> {
    fn bind<'q>(&'q self, args: &mut Arguments<'q>) -> Result<()> {
        self.as_slice().bind(args)
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

macro_rules! tuple_params {
    ($n:expr; $($t:ident $i:tt),+) => {
        impl<$($t: Encode),+> Params for ($($t,)+) {
            fn bind<'q>(&'q self, args: &mut Arguments<'q>) -> Result<()> {
                $(self.$i.encode(args)?;)+
                Ok(())
            }
            fn len(&self) -> usize { $n }
        }
    };
}
tuple_params!(1; A 0);
tuple_params!(2; A 0, B 1);
tuple_params!(3; A 0, B 1, C 2);
tuple_params!(4; A 0, B 1, C 2, D 3);
tuple_params!(5; A 0, B 1, C 2, D 3, E 4);
tuple_params!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple_params!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_params!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_params!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_params!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_params!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_params!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple_params!(13; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple_params!(14; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
tuple_params!(15; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
tuple_params!(16; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);

/// Build a parameter list of mixed types: `params![1, "a", &name, None::<i64>]`.
///
/// Expands to an array of `&dyn Encode`, which implements [`Params`].
#[macro_export]
macro_rules! params {
    () => { () };
    ($($v:expr),+ $(,)?) => {
        [$(&$v as &dyn $crate::Encode),+]
    };
}
