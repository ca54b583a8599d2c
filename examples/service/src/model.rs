//! The service's data: two entities and the rows its list endpoints read.

use chrono::{DateTime, Utc};
use dal::{Entity, FromRow};
use serde::Serialize;

/// Someone who owns tasks. `User::TASKS` reads their tasks (soft-deleted ones
/// left out); `User::TASKS.count()` counts them in a query.
#[derive(Entity, Debug, Clone, Default, Serialize)]
#[dal(table = "svc_users", timestamps, has_many(tasks = Task::OWNER))]
pub struct User {
    #[dal(id)]
    pub id: i64,
    #[dal(length = 200, unique)]
    pub email: String,
    #[dal(length = 100)]
    pub name: String,
    #[dal(created_at)]
    pub created_at: DateTime<Utc>,
    #[dal(updated_at)]
    pub updated_at: DateTime<Utc>,
}

/// A task of one user. Every change is kept in `svc_tasks_history`
/// (`history`), and deleting only sets `deleted_at` (`soft_delete`).
#[derive(Entity, Debug, Clone, Default, Serialize)]
#[dal(table = "svc_tasks", history, soft_delete, timestamps)]
pub struct Task {
    #[dal(id)]
    pub id: i64,
    /// `Task::OWNER`, a foreign key to `svc_users.id` with its index.
    #[dal(belongs_to = User, on_delete = "cascade")]
    pub owner_id: i64,
    #[dal(length = 200)]
    pub title: String,
    #[dal(index)]
    pub done: bool,
    #[dal(created_at)]
    pub created_at: DateTime<Utc>,
    #[dal(updated_at)]
    pub updated_at: DateTime<Utc>,
}

/// A row of `GET /users`: a user and how many live tasks they have.
#[derive(FromRow, Debug, Serialize)]
pub struct UserSummary {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub tasks: i64,
}

/// A row of `GET /tasks`: a task joined with its owner's name.
#[derive(FromRow, Debug, Serialize)]
pub struct TaskRow {
    pub id: i64,
    pub owner_id: i64,
    pub owner_name: String,
    pub title: String,
    pub done: bool,
    pub updated_at: DateTime<Utc>,
}

/// Create the tables (and the history table) when they are missing.
pub async fn ensure_schema(db: &dal::Db) -> dal::Result<()> {
    User::ensure_schema(db).await?;
    Task::ensure_schema(db).await?;
    Ok(())
}
