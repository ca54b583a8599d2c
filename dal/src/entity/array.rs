//! Filters on array columns (`Vec<T>` fields, see [`ArrayElement`]):
//! [`contains`](Col::contains), [`any`](Col::any),
//! [`contains_all`](Col::contains_all), [`is_empty`](Col::is_empty) and the
//! length comparisons.
//!
//! Each backend stores an array its own way (a native array on PostgreSQL, a
//! JSON array elsewhere), so each filter is written once per dialect and the
//! statement keeps the form of the database it runs on (see
//! `crate::dialect_sql`). The values are bound as parameters, never spliced:
//! an element on PostgreSQL and its JSON text on MySQL, MariaDB and SQLite; a
//! list of values as a PostgreSQL array, or a JSON array.
//!
//! | Filter | PostgreSQL | MySQL / MariaDB | SQLite |
//! |---|---|---|---|
//! | `contains(v)` | `? = ANY(col)` | `JSON_CONTAINS(col, ?)` | `json_each(col)` holds `v` |
//! | `any(vs)` | `col && ?` | `JSON_OVERLAPS(col, ?)` (MariaDB 10.9+, MySQL 8.0.17+) | `json_each(col)` meets `json_each(?)` |
//! | `contains_all(vs)` | `col @> ?` | `JSON_CONTAINS(col, ?)` | every `json_each(?)` value is in `json_each(col)` |
//! | `is_empty()`, `len_*(n)` | `cardinality(col)` | `JSON_LENGTH(col)` | `json_array_length(col)` |
//!
//! A NULL array (an `Option<Vec<T>>` field holding `None`) matches none of
//! these filters, and neither does their negation (SQL's NULL logic, the same
//! on every backend).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use dal::Entity;
//!
//! #[derive(Entity, Debug, Clone, PartialEq)]
//! #[dal(table = "articles")]
//! struct Article {
//!     #[dal(id)]
//!     id: i64,
//!     tags: Vec<String>,
//! }
//!
//! let db = dal::Db::connect_url("sqlite::memory:").await?;
//! Article::ensure_schema(&db).await?;
//! for tags in [vec!["rust", "sql"], vec!["go"], vec![]] {
//!     let tags = tags.into_iter().map(String::from).collect();
//!     Article { id: 0, tags }.save(&db).await?;
//! }
//! let rust = Article::find().filter(Article::TAGS.contains("rust")).all(&db).await?;
//! assert_eq!(rust.len(), 1);
//! let some = Article::find().filter(Article::TAGS.any(["go", "sql"])).count(&db).await?;
//! assert_eq!(some, 2);
//! let untagged = Article::find().filter(Article::TAGS.is_empty()).count(&db).await?;
//! assert_eq!(untagged, 1);
//! # Ok::<(), dal::Error>(()) }).unwrap();
//! ```

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::query::{Col, Cond};
use super::sql::Param;
use crate::codec::{ArrayElement, ElementProbe};
use crate::dialect_sql::per_dialect;

/// A value an array column holding `T` elements can be searched for: a `T`;
/// text (`&str`, `&String`, `Box<str>`, `Cow<str>`, `char`) for `Vec<String>`;
/// a narrower integer for an integer element; a narrower integer or `f32` for
/// a float element. Every conversion is lossless.
///
/// ```
/// # #[derive(dal::Entity)] struct Post { #[dal(id)] id: i64, tags: Vec<String>, scores: Vec<i64> }
/// use dal::Entity;
/// let _ = Post::TAGS.contains("rust");   // &str for Vec<String>
/// let _ = Post::SCORES.contains(7i32);   // i32 for Vec<i64>
/// ```
#[diagnostic::on_unimplemented(
    message = "an array of `{T}` cannot be searched for a `{Self}`",
    label = "expected a `{T}` (or a value that converts into one without loss)",
    note = "an array of `{T}` takes a `{T}`; also text for `Vec<String>`, narrower integers for integer arrays, narrower integers and `f32` for float arrays"
)]
pub trait ArrayValue<T>: Sized {
    /// The value as an element. Not meant to be called directly.
    #[doc(hidden)]
    fn into_element(self) -> T;
}

impl<T: ArrayElement> ArrayValue<T> for T {
    fn into_element(self) -> T {
        self
    }
}

macro_rules! array_values {
    ($elem:ty: $($v:ty),*) => {$(
        impl ArrayValue<$elem> for $v {
            fn into_element(self) -> $elem {
                <$elem>::from(self)
            }
        }
    )*};
}
array_values!(String: &str, &String, Box<str>, std::borrow::Cow<'_, str>, char);
array_values!(i16: i8, u8);
array_values!(i32: i8, i16, u8, u16);
array_values!(i64: i8, i16, i32, u8, u16, u32);
array_values!(f32: i8, i16, u8, u16);
array_values!(f64: f32, i8, i16, i32, u8, u16, u32);

// the element types themselves, by reference
macro_rules! ref_values {
    ($($t:ty),*) => {$(
        impl ArrayValue<$t> for &$t {
            fn into_element(self) -> $t {
                self.clone()
            }
        }
    )*};
}
ref_values!(
    i16,
    i32,
    i64,
    f32,
    f64,
    bool,
    Uuid,
    NaiveDate,
    NaiveTime,
    NaiveDateTime,
    DateTime<Utc>,
    Decimal
);

impl<E, T: ArrayElement, N> Col<E, Vec<T>, N> {
    /// The array holds `value` (PostgreSQL `? = ANY(col)`, MySQL/MariaDB
    /// `JSON_CONTAINS`, SQLite `json_each`). Takes a `T` or a value that
    /// converts into one without loss ([`ArrayValue`]: `&str` for
    /// `Vec<String>`, `i32` for `Vec<i64>`).
    ///
    /// ```
    /// # #[derive(dal::Entity)] struct Post { #[dal(id)] id: i64, tags: Vec<String>, scores: Vec<i64> }
    /// use dal::Entity;
    /// let tagged = Post::find().filter(Post::TAGS.contains("rust"));
    /// let scored = Post::find().filter(Post::SCORES.contains(10) & !Post::SCORES.contains(0));
    /// ```
    pub fn contains(self, value: impl ArrayValue<T>) -> Cond<E> {
        let c = self.marked();
        let sql = per_dialect(
            &format!("? = ANY({c})"),
            &format!("JSON_CONTAINS({c}, ?)"),
            &format!(
                "CASE WHEN {c} IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM json_each({c}) AS dal_e \
                 WHERE dal_e.value = json_extract(?, '$')) END"
            ),
        );
        Cond::raw(
            sql,
            vec![Arc::new(ElementProbe(value.into_element())) as Param],
        )
    }

    /// The array holds at least one of `values` (PostgreSQL `col && ?`,
    /// MySQL/MariaDB `JSON_OVERLAPS`, SQLite `json_each`). No values match
    /// nothing. Each value is an [`ArrayValue`].
    ///
    /// ```
    /// # #[derive(dal::Entity)] struct Post { #[dal(id)] id: i64, tags: Vec<String> }
    /// use dal::Entity;
    /// let either = Post::find().filter(Post::TAGS.any(["rust", "sql"]));
    /// let none = Post::find().filter(Post::TAGS.any(Vec::<String>::new())); // matches no row
    /// ```
    #[doc(alias = "overlaps")]
    pub fn any<I, V>(self, values: I) -> Cond<E>
    where
        I: IntoIterator<Item = V>,
        V: ArrayValue<T>,
    {
        let values: Vec<T> = values.into_iter().map(ArrayValue::into_element).collect();
        if values.is_empty() {
            return Cond::raw("1 = 0".into(), Vec::new());
        }
        let c = self.marked();
        let sql = per_dialect(
            &format!("{c} && ?"),
            &format!("JSON_OVERLAPS({c}, ?)"),
            &format!(
                "CASE WHEN {c} IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM json_each({c}) AS dal_e \
                 WHERE dal_e.value IN (SELECT dal_w.value FROM json_each(?) AS dal_w)) END"
            ),
        );
        Cond::raw(sql, vec![Arc::new(values) as Param])
    }

    /// The array holds every one of `values` (PostgreSQL `col @> ?`,
    /// MySQL/MariaDB `JSON_CONTAINS`, SQLite `json_each`). No values match
    /// every array that is not NULL.
    ///
    /// ```
    /// # #[derive(dal::Entity)] struct Post { #[dal(id)] id: i64, tags: Vec<String> }
    /// use dal::Entity;
    /// let both = Post::find().filter(Post::TAGS.contains_all(["rust", "sql"]));
    /// ```
    pub fn contains_all<I, V>(self, values: I) -> Cond<E>
    where
        I: IntoIterator<Item = V>,
        V: ArrayValue<T>,
    {
        let values: Vec<T> = values.into_iter().map(ArrayValue::into_element).collect();
        let c = self.marked();
        let sql = per_dialect(
            &format!("{c} @> ?"),
            &format!("JSON_CONTAINS({c}, ?)"),
            &format!(
                "CASE WHEN {c} IS NULL THEN NULL ELSE NOT EXISTS (SELECT 1 FROM json_each(?) AS dal_w \
                 WHERE dal_w.value NOT IN (SELECT dal_e.value FROM json_each({c}) AS dal_e)) END"
            ),
        );
        Cond::raw(sql, vec![Arc::new(values) as Param])
    }

    /// The array has no elements (a NULL array is not empty: it matches
    /// neither this nor its negation).
    ///
    /// ```
    /// # #[derive(dal::Entity)] struct Post { #[dal(id)] id: i64, tags: Vec<String> }
    /// use dal::Entity;
    /// let untagged = Post::find().filter(Post::TAGS.is_empty());
    /// let tagged = Post::find().filter(!Post::TAGS.is_empty());
    /// ```
    pub fn is_empty(self) -> Cond<E> {
        self.len_cmp("=", 0)
    }

    /// The array has exactly `n` elements.
    ///
    /// ```
    /// # #[derive(dal::Entity)] struct Post { #[dal(id)] id: i64, tags: Vec<String> }
    /// use dal::Entity;
    /// let pairs = Post::find().filter(Post::TAGS.len_eq(2));
    /// ```
    pub fn len_eq(self, n: usize) -> Cond<E> {
        self.len_cmp("=", n)
    }

    /// The array has more than `n` elements.
    ///
    /// ```
    /// # #[derive(dal::Entity)] struct Post { #[dal(id)] id: i64, tags: Vec<String> }
    /// use dal::Entity;
    /// let busy = Post::find().filter(Post::TAGS.len_gt(3));
    /// ```
    pub fn len_gt(self, n: usize) -> Cond<E> {
        self.len_cmp(">", n)
    }

    /// The array has fewer than `n` elements.
    ///
    /// ```
    /// # #[derive(dal::Entity)] struct Post { #[dal(id)] id: i64, tags: Vec<String> }
    /// use dal::Entity;
    /// let few = Post::find().filter(Post::TAGS.len_lt(3));
    /// ```
    pub fn len_lt(self, n: usize) -> Cond<E> {
        self.len_cmp("<", n)
    }

    fn len_cmp(self, op: &str, n: usize) -> Cond<E> {
        let c = self.marked();
        let sql = per_dialect(
            &format!("cardinality({c}) {op} ?"),
            &format!("JSON_LENGTH({c}) {op} ?"),
            &format!("json_array_length({c}) {op} ?"),
        );
        // an array longer than i64::MAX cannot exist: the saturated bound
        // compares the same
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        Cond::raw(sql, vec![Arc::new(n) as Param])
    }
}
