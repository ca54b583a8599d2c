//! Relations between entities: declared on the structs, checked at compile
//! time, loaded eagerly (one query per level) or lazily (with an N+1
//! detector).
//!
//! A **belongs-to** is declared on the foreign-key field of the child; the
//! parent declares the **has-many** or **has-one** that reads it backwards,
//! and a **many-to-many** goes through a join entity holding two belongs-to:
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use dal::{Db, Entity};
//!
//! #[derive(Entity, Debug, Clone)]
//! #[dal(table = "users", has_many(tasks = Task::OWNER))]
//! struct User {
//!     #[dal(id)]
//!     id: i64,
//!     name: String,
//! }
//!
//! #[derive(Entity, Debug, Clone)]
//! #[dal(table = "tasks")]
//! struct Task {
//!     #[dal(id)]
//!     id: i64,
//!     #[dal(belongs_to = User, on_delete = "cascade")]   // handle Task::OWNER
//!     owner_id: i64,
//!     title: String,
//!     done: bool,
//! }
//!
//! let db = Db::connect_url("sqlite::memory:").await?;
//! User::ensure_schema(&db).await?;
//! Task::ensure_schema(&db).await?;          // with the foreign key and its index
//!
//! let mut ada = User { id: 0, name: "Ada".into() };
//! let mut tasks = vec![
//!     Task { id: 0, owner_id: 0, title: "write".into(), done: false },
//!     Task { id: 0, owner_id: 0, title: "ship".into(), done: true },
//! ];
//! User::TASKS.save(&mut ada, &mut tasks, &db).await?;   // one transaction
//!
//! // eager: one query for the users, one for all their tasks
//! let users = User::find().with(User::TASKS).all(&db).await?;
//! assert_eq!(users[0].related(User::TASKS)?.len(), 2);
//!
//! // lazy
//! let open = ada.tasks().filter(Task::DONE.eq(false)).all(&db).await?;
//! assert_eq!(open.len(), 1);
//! let owner = tasks[0].owner(&db).await?.unwrap();
//! assert_eq!(owner.name, "Ada");
//! # Ok::<(), dal::Error>(()) }).unwrap();
//! ```

mod access;
mod eager;
mod filter;
mod find_with;
mod handles;

#[doc(hidden)]
pub use eager::Loader;
pub use eager::{Include, Loaded, Related, With};
pub(crate) use filter::{alive_in, fresh_alias, sub_name};
pub use find_with::FindWith;
pub use handles::{BelongsTo, HasMany, HasOne, InverseOf, ManyToMany, RelationKey, RelationTarget};
