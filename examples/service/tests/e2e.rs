//! End to end: the service binary on each backend, driven over HTTP.
//!
//! * Every backend: the service starts while its database is unavailable
//!   (503), comes up when the database does, then create / list / paginate /
//!   update / delete / history / metrics, and a graceful stop on SIGTERM.
//! * PostgreSQL and MariaDB: the connection goes through a relay the test
//!   switches off mid-run: `/healthz` and the data endpoints answer 503 in
//!   bounded time, and everything works again once it is switched back on.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::http::Client;
use support::outage::Relay;
use support::{Service, TestDatabase};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let db = support::sqlite();
    // the file's directory does not exist yet: the database cannot be opened
    let svc = Service::start(&db.url).await;
    let health = svc.wait_health(503, Duration::from_secs(5)).await;
    assert_eq!(health["schema_ready"], false, "{health}");
    assert!(health["error"].is_string(), "{health}");
    let r = svc.client.get("/tasks").await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (503, Some("unavailable"))
    );

    let dir = std::path::Path::new(db.url.trim_start_matches("sqlite://"))
        .parent()
        .unwrap();
    std::fs::create_dir_all(dir).unwrap();
    svc.wait_health(200, Duration::from_secs(10)).await;

    behaviour(&svc.client).await;
    stop(svc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(db) = support::postgres().await else {
        return;
    };
    with_outages(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb() {
    let Some(db) = support::mysql().await else {
        return;
    };
    with_outages(db).await;
}

/// A server backend behind a relay that starts switched off.
async fn with_outages(db: TestDatabase) {
    let relay = Relay::start(db.server(), false).await;
    let svc = Service::start(&db.url_via(relay.addr)).await;
    let c = svc.client;

    // started without a database: it answers, with 503s
    let health = svc.wait_health(503, Duration::from_secs(5)).await;
    assert_eq!(health["status"], "unavailable", "{health}");
    assert_eq!(c.get("/users").await.status, 503);
    // the schema task's first attempt has failed (dal's own connect retries
    // inside one call may otherwise straddle the relay coming up)
    let deadline = Instant::now() + Duration::from_secs(20);
    while !svc
        .logs()
        .iter()
        .any(|e| e["message"] == "database not ready" && e["level"] == "WARN")
    {
        assert!(
            Instant::now() < deadline,
            "no `database not ready` warning within 20 s while the database was down"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    relay.set_up(true).await;
    let health = svc.wait_health(200, Duration::from_secs(15)).await;
    assert_eq!(
        (&health["status"], &health["breaker"]),
        (&json!("ok"), &json!("closed"))
    );

    let ids = behaviour(&c).await;

    // outage: pooled connections are cut, new ones refused
    relay.set_up(false).await;
    let start = Instant::now();
    let health = c.get("/healthz").await;
    assert_eq!(health.status, 503, "{}", health.body);
    let r = c.get(&format!("/tasks/{}", ids.write)).await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (503, Some("unavailable")),
        "{}",
        r.body
    );
    let r = c
        .post("/tasks", &json!({"owner_id": ids.ada, "title": "lost"}))
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    // each call fails within the service's limits (2 s query timeout), not a hang
    assert!(
        start.elapsed() < Duration::from_secs(7),
        "{:?}",
        start.elapsed()
    );
    // repeated failures open the circuit breaker: calls are then refused at once
    let mut breaker = Value::Null;
    for _ in 0..10 {
        breaker = c.get("/healthz").await.json()["breaker"].clone();
        if breaker == "open" {
            break;
        }
    }
    assert_eq!(breaker, "open");

    // recovery
    relay.set_up(true).await;
    svc.wait_health(200, Duration::from_secs(10)).await;
    let r = c
        .post(
            "/tasks",
            &json!({"owner_id": ids.ada, "title": "after the outage"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let list = c.get(&format!("/tasks?owner={}", ids.ada)).await.json();
    assert_eq!(list["total"], 3, "{list}");
    assert_eq!(list["items"][2]["title"], "after the outage");

    let logs = stop(svc).await;
    assert!(
        logs.iter()
            .any(|e| e["message"] == "database not ready" && e["level"] == "WARN"),
        "a warning while the database was down"
    );
    assert!(
        logs.iter()
            .any(|e| e["message"] == "database call failed" && e["status"] == 503),
        "the failed calls are logged"
    );
}

/// Ids the outage checks reuse.
struct Ids {
    ada: i64,
    write: i64,
}

/// Everything but outages, on a service with an empty database.
async fn behaviour(c: &Client) -> Ids {
    // users
    let r = c
        .post(
            "/users",
            &json!({"email": "ada@example.com", "name": "Ada"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let ada = r.json()["id"].as_i64().unwrap();
    let r = c
        .post(
            "/users",
            &json!({"email": "bob@example.com", "name": "Bob"}),
        )
        .await;
    let bob = r.json()["id"].as_i64().unwrap();
    let r = c
        .post(
            "/users",
            &json!({"email": "ada@example.com", "name": "Ada again"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (409, Some("conflict")),
        "{}",
        r.body
    );
    let r = c
        .post("/users", &json!({"email": "nobody", "name": "X"}))
        .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (422, Some("invalid_input"))
    );

    // tasks, and bad requests
    let task = |owner: i64, title: &str, done: bool| {
        let body = json!({"owner_id": owner, "title": title, "done": done});
        async move {
            let r = c
                .send("POST", "/tasks", Some(&body), &[("x-actor", "ada")])
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
            let created = r.json();
            assert_eq!(created["title"], body["title"]);
            created["id"].as_i64().unwrap()
        }
    };
    let write = task(ada, "write docs", false).await;
    let ship = task(ada, "ship", true).await;
    let review = task(ada, "review", false).await;
    let plan = task(bob, "plan", false).await;
    let r = c
        .post("/tasks", &json!({"owner_id": 999_999, "title": "orphan"}))
        .await;
    assert_eq!(r.status, 409, "unknown owner: {}", r.body);
    let r = c
        .post("/tasks", &json!({"owner_id": ada, "title": " "}))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = c.post("/tasks", &json!({"title": "no owner"})).await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (422, Some("bad_request"))
    );
    let r = c.raw("POST", "/tasks", Some("{not json"), &[]).await;
    assert_eq!(r.status, 400, "{}", r.body);

    // one task
    let r = c.get(&format!("/tasks/{ship}")).await;
    assert_eq!((r.status, r.json()["done"].as_bool()), (200, Some(true)));
    assert_eq!(c.get("/tasks/999999").await.status, 404);
    assert_eq!(c.get("/tasks/abc").await.status, 400);

    // list: pages in id order, with the owner's name from the join
    let page = c.get("/tasks?limit=3").await.json();
    assert_eq!(
        (page["total"].as_i64(), page["limit"].as_i64()),
        (Some(4), Some(3))
    );
    assert_eq!(ids_of(&page), [write, ship, review]);
    assert_eq!(page["items"][0]["owner_name"], "Ada");
    let page = c.get("/tasks?limit=3&offset=3").await.json();
    assert_eq!(ids_of(&page), [plan]);
    assert_eq!(page["items"][0]["owner_name"], "Bob");
    assert!(ids_of(&c.get("/tasks?offset=10").await.json()).is_empty());
    let open = c
        .get(&format!("/tasks?owner={ada}&done=false"))
        .await
        .json();
    assert_eq!(
        (open["total"].as_i64(), ids_of(&open)),
        (Some(2), vec![write, review])
    );
    assert_eq!(c.get("/tasks?limit=0").await.status, 422);
    assert_eq!(c.get("/tasks?limit=500").await.status, 422);
    assert_eq!(c.get("/tasks?done=maybe").await.status, 400);
    assert_eq!(c.get("/tasks?colour=red").await.status, 400);

    // partial updates: each writes only its own field
    let path = format!("/tasks/{write}");
    let r = c
        .send(
            "PATCH",
            &path,
            Some(&json!({"done": true})),
            &[("x-actor", "bob")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.json()["done"].as_bool(), r.json()["title"].as_str()),
        (Some(true), Some("write docs"))
    );
    let r = c.patch(&path, &json!({"title": "write the docs"})).await;
    assert_eq!(
        (r.json()["done"].as_bool(), r.json()["title"].as_str()),
        (Some(true), Some("write the docs"))
    );
    assert_eq!(c.patch(&path, &json!({})).await.status, 422);
    assert_eq!(
        c.patch(&path, &json!({"owner_id": 999_999})).await.status,
        409
    );
    assert_eq!(c.patch(&path, &json!({"priority": 1})).await.status, 422);
    assert_eq!(
        c.patch("/tasks/999999", &json!({"done": true}))
            .await
            .status,
        404
    );

    // users with their task counts
    let users = c.get("/users").await.json();
    let counts: Vec<(i64, i64)> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["id"].as_i64().unwrap(), u["tasks"].as_i64().unwrap()))
        .collect();
    assert_eq!(counts, [(ada, 3), (bob, 1)]);
    assert_eq!(
        c.get("/users?limit=1&offset=1").await.json()["items"][0]["name"],
        "Bob"
    );

    // a soft delete: gone from reads and counts, kept in the history
    let r = c
        .send(
            "DELETE",
            &format!("/tasks/{review}"),
            None,
            &[("x-actor", "ada")],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(c.delete(&format!("/tasks/{review}")).await.status, 404);
    assert_eq!(c.get(&format!("/tasks/{review}")).await.status, 404);
    assert_eq!(c.get("/tasks").await.json()["total"], 3);
    assert_eq!(c.get("/users").await.json()["items"][0]["tasks"], 2);

    // history: every version, with who made it
    let versions = c.get(&format!("/tasks/{write}/history")).await.json();
    let summary: Vec<(i64, &str, Option<&str>, &str)> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["operation"].as_str().unwrap(),
                v["actor"].as_str(),
                v["task"]["title"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "insert", Some("ada"), "write docs"),
            (2, "update", Some("bob"), "write docs"),
            (3, "update", None, "write the docs"),
        ]
    );
    let versions = c.get(&format!("/tasks/{review}/history")).await.json();
    let ops: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["insert", "delete"]);
    assert_eq!(c.get("/tasks/999999/history").await.status, 404);

    // metrics: the service's requests and dal's statements
    let r = c.get("/metrics").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let line = |prefix: &str| {
        r.body
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in\n{}", r.body))
            .to_string()
    };
    assert_eq!(
        line(r#"http_requests_total{method="POST",route="/tasks",status="201"}"#),
        r#"http_requests_total{method="POST",route="/tasks",status="201"} 4"#
    );
    let queries: f64 = line(r#"dal_queries_total{db="service"}"#)
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(queries > 20.0, "{queries}");
    line("http_request_duration_seconds");
    line("dal_query_duration_seconds");

    Ids { ada, write }
}

fn ids_of(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a listing: {page}"))
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

/// SIGTERM: the service stops cleanly; every log line was JSON.
async fn stop(svc: Service) -> Vec<Value> {
    let (status, logs) = svc.stop().await;
    assert!(status.success(), "exit status {status}");
    for event in &logs {
        assert!(
            event.is_object(),
            "a log line that is not a JSON object: {event}"
        );
    }
    let messages: Vec<&str> = logs.iter().filter_map(|e| e["message"].as_str()).collect();
    for expected in ["listening", "schema ready", "request", "stopped"] {
        assert!(
            messages.contains(&expected),
            "no `{expected}` in {messages:?}"
        );
    }
    let request = logs.iter().find(|e| e["message"] == "request").unwrap();
    for field in ["method", "path", "route", "status", "duration_ms"] {
        assert!(!request[field].is_null(), "`{field}` in {request}");
    }
    logs
}
