//! The HTTP endpoints: one handler per route, each a few dal calls.

use std::time::Instant;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use dal::{Audit, Entity};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::model::{Task, TaskRow, User, UserSummary};

type ApiResult<T> = Result<T, ApiError>;

/// Every route, with request logging and HTTP metrics.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/tasks", get(list_tasks).post(create_task))
        .route(
            "/tasks/{id}",
            get(get_task).patch(update_task).delete(delete_task),
        )
        .route("/tasks/{id}/history", get(task_history))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        // a route layer sees the matched route (`/tasks/{id}`), a bounded label
        .route_layer(middleware::from_fn(observe))
        .with_state(state)
}

/// One log event and two metrics per request.
async fn observe(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("-", MatchedPath::as_str)
        .to_string();
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let elapsed = start.elapsed();
    metrics::counter!("http_requests_total",
        "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
    .increment(1);
    metrics::histogram!("http_request_duration_seconds",
        "method" => method.clone(), "route" => route.clone())
    .record(elapsed.as_secs_f64());
    tracing::info!(
        method,
        path,
        route,
        status,
        duration_ms = elapsed.as_secs_f64() * 1e3,
        "request"
    );
    response
}

/// Who is making the change (the `x-actor` header), for the task's history.
fn audit(headers: &HeaderMap) -> Audit {
    match headers.get("x-actor").and_then(|v| v.to_str().ok()) {
        Some(actor) if !actor.is_empty() => Audit::by(actor),
        _ => Audit::default(),
    }
}

/// `limit` (1..=100, default 20) and `offset` (default 0).
fn page(limit: Option<u64>, offset: Option<u64>) -> ApiResult<(u64, u64)> {
    let limit = limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(dal::Error::invalid_input("limit", "must be between 1 and 100").into());
    }
    Ok((limit, offset.unwrap_or(0)))
}

/// A text field that must be present and at most `max` characters long.
fn required_text(field: &str, value: &str, max: usize) -> ApiResult<()> {
    if value.trim().is_empty() {
        return Err(dal::Error::invalid_input(field, "must not be empty").into());
    }
    if value.chars().count() > max {
        return Err(dal::Error::invalid_input(field, format!("at most {max} characters")).into());
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    email: String,
    name: String,
}

async fn create_user(
    State(app): State<AppState>,
    body: Result<Json<NewUser>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let Json(body) = body?;
    required_text("email", &body.email, 200)?;
    required_text("name", &body.name, 100)?;
    if !body.email.contains('@') {
        return Err(dal::Error::invalid_input("email", "is not an email address").into());
    }
    let mut user = User {
        email: body.email,
        name: body.name,
        ..User::default()
    };
    user.save(app.db()?).await?; // a taken email is a unique violation: 409
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<u64>,
    offset: Option<u64>,
}

#[derive(Serialize)]
struct Listing<T> {
    items: Vec<T>,
    total: i64,
    limit: u64,
    offset: u64,
}

async fn list_users(
    State(app): State<AppState>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Json<Listing<UserSummary>>> {
    let Query(q) = query?;
    let (limit, offset) = page(q.limit, q.offset)?;
    let db = app.db()?;
    let total = User::find().count(db).await?;
    // the task count is a correlated subquery; soft-deleted tasks do not count
    let items: Vec<UserSummary> = User::find()
        .order_by(User::ID.asc())
        .limit(limit)
        .offset(offset)
        .select((
            User::ID,
            User::EMAIL,
            User::NAME,
            User::TASKS.count().alias("tasks"),
        ))
        .all_as(db)
        .await?;
    Ok(Json(Listing {
        items,
        total,
        limit,
        offset,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTask {
    owner_id: i64,
    title: String,
    #[serde(default)]
    done: bool,
}

async fn create_task(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<NewTask>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Task>)> {
    let Json(body) = body?;
    required_text("title", &body.title, 200)?;
    let mut task = Task {
        owner_id: body.owner_id,
        title: body.title,
        done: body.done,
        ..Task::default()
    };
    // an unknown owner is a foreign-key violation: 409
    task.save_with(app.db()?, &audit(&headers)).await?;
    Ok((StatusCode::CREATED, Json(task)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskQuery {
    owner: Option<i64>,
    done: Option<bool>,
    limit: Option<u64>,
    offset: Option<u64>,
}

async fn list_tasks(
    State(app): State<AppState>,
    query: Result<Query<TaskQuery>, QueryRejection>,
) -> ApiResult<Json<Listing<TaskRow>>> {
    let Query(q) = query?;
    let (limit, offset) = page(q.limit, q.offset)?;
    let db = app.db()?;
    let mut find = Task::find();
    if let Some(owner) = q.owner {
        find = find.filter(Task::OWNER_ID.eq(owner));
    }
    if let Some(done) = q.done {
        find = find.filter(Task::DONE.eq(done));
    }
    let total = find.clone().count(db).await?;
    let items: Vec<TaskRow> = find
        .join(Task::OWNER)
        .order_by(Task::ID.asc())
        .limit(limit)
        .offset(offset)
        .select((
            Task::ID,
            Task::OWNER_ID,
            User::NAME.alias("owner_name"),
            Task::TITLE,
            Task::DONE,
            Task::UPDATED_AT,
        ))
        .all_as(db)
        .await?;
    Ok(Json(Listing {
        items,
        total,
        limit,
        offset,
    }))
}

async fn get_task(
    State(app): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult<Json<Task>> {
    let Path(id) = id?;
    let task = Task::get(app.db()?, id).await?;
    task.map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no task {id}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskPatch {
    title: Option<String>,
    done: Option<bool>,
    owner_id: Option<i64>,
}

/// Write only the fields given: a concurrent change to another field is kept.
async fn update_task(
    State(app): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Json<TaskPatch>, JsonRejection>,
) -> ApiResult<Json<Task>> {
    let (Path(id), Json(patch)) = (id?, body?);
    let db = app.db()?;
    let mut update = Task::update_by_id(id).audit(audit(&headers));
    if let Some(title) = patch.title {
        required_text("title", &title, 200)?;
        update = update.set(Task::TITLE, title);
    }
    if let Some(done) = patch.done {
        update = update.set(Task::DONE, done);
    }
    if let Some(owner) = patch.owner_id {
        update = update.set(Task::OWNER_ID, owner);
    }
    // NotFound (404) for a missing or deleted task, InvalidInput (422) for an empty patch
    update.run(db).await?;
    let task = Task::get(db, id).await?;
    task.map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no task {id}")))
}

/// A soft delete: the row stays (with `deleted_at`), and so does its history.
async fn delete_task(
    State(app): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult<StatusCode> {
    let Path(id) = id?;
    let db = app.db()?;
    let mut task = Task::get(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no task {id}")))?;
    task.delete_with(db, &audit(&headers)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct Version {
    version: i64,
    operation: &'static str,
    actor: Option<String>,
    comment: Option<String>,
    at: chrono::DateTime<chrono::Utc>,
    task: Task,
}

async fn task_history(
    State(app): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult<Json<Vec<Version>>> {
    let Path(id) = id?;
    let versions = Task::history(app.db()?, id).await?;
    if versions.is_empty() {
        return Err(ApiError::not_found(format!("no task {id}")));
    }
    let versions = versions
        .into_iter()
        .map(|v| Version {
            version: v.version,
            operation: v.operation.as_str(),
            actor: v.actor,
            comment: v.comment,
            at: v.at,
            task: v.entity,
        })
        .collect();
    Ok(Json(versions))
}

/// 200 when the database answers a round trip (and the schema is in place),
/// 503 otherwise; the body says why.
async fn healthz(State(app): State<AppState>) -> (StatusCode, Json<Value>) {
    let health = app.db.health().await;
    let ready = app.schema_ready();
    let status = if health.healthy && ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if status == StatusCode::OK { "ok" } else { "unavailable" },
        "schema_ready": ready,
        "latency_ms": health.latency.as_secs_f64() * 1e3,
        "error": health.error,
        "pool": { "size": health.pool.size, "in_use": health.pool.in_use, "max": health.pool.max },
        "breaker": health.breaker.to_string(),
    });
    (status, Json(body))
}

/// Prometheus text: dal's `dal_*` series and this service's `http_*` ones.
async fn metrics(State(app): State<AppState>) -> Response {
    match &app.metrics {
        Some(handle) => (
            [("content-type", "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => ApiError::not_found("no metrics recorder installed").into_response(),
    }
}
