//! Connection failures without a working server: refused ports, a server that
//! accepts TCP and never answers, unreadable SQLite paths. These need no
//! database, so they run once (not per backend).

use std::time::{Duration, Instant};

use dal::{DatabaseConfig, Db, Error, TimeoutKind};
use tokio::net::TcpListener;

/// A TCP endpoint that accepts connections and never says a word.
async fn black_hole() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    (format!("127.0.0.1:{}", addr.port()), task)
}

/// A port nothing listens on.
async fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("127.0.0.1:{port}")
}

pub async fn net_test_connection_is_false_when_down() {
    let addr = closed_port().await;
    for url in [
        format!("postgres://postgres:hunter2-SECRET@{addr}/db"),
        format!("mysql://root:hunter2-SECRET@{addr}/db"),
        "sqlite:///nonexistent-dir-for-dal-tests/x.db?mode=rw".to_string(),
    ] {
        let config = DatabaseConfig::builder(&url)
            .connect_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let db = Db::connect_lazy(config.clone()).unwrap();
        assert!(!db.test_connection().await, "{url}");
        let err = Db::connect(config).await.unwrap_err();
        let text = format!("{err} {err:?} {db:?}");
        assert!(!text.contains("hunter2"), "secret leaked: {text}");
        assert!(
            matches!(
                err,
                Error::ConnectionLost { .. } | Error::Database { .. } | Error::Driver(_)
            ),
            "{url}: {err:?}"
        );
    }
}

pub async fn net_connect_timeout_is_its_own_kind() {
    let (addr, task) = black_hole().await;
    for scheme in ["postgres", "mysql"] {
        let config = DatabaseConfig::builder(format!("{scheme}://u:p@{addr}/db"))
            .connect_timeout(Duration::from_millis(300))
            .pool_creation_timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let start = Instant::now();
        let err = Db::connect(config).await.unwrap_err();
        assert!(
            matches!(err, Error::Timeout { kind: TimeoutKind::Connect, budget: TimeoutKind::Connect, after, .. } if after == Duration::from_millis(300)),
            "{scheme}: {err:?}"
        );
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(err.never_reached_server());
    }
    task.abort();
}

pub async fn net_pool_creation_timeout_is_its_own_kind() {
    let (addr, task) = black_hole().await;
    for scheme in ["postgres", "mysql"] {
        let config = DatabaseConfig::builder(format!("{scheme}://u:p@{addr}/db"))
            .connect_timeout(Duration::from_secs(10))
            .pool_creation_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let start = Instant::now();
        let err = Db::connect(config).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Timeout {
                    kind: TimeoutKind::PoolCreation,
                    ..
                }
            ),
            "{scheme}: {err:?}"
        );
        assert!(start.elapsed() < Duration::from_secs(5));
    }
    task.abort();
}

pub async fn net_bad_config_is_a_config_error() {
    let err = Db::connect_url("oracle://scott:tiger@host/db")
        .await
        .unwrap_err();
    match err {
        Error::Config(problems) => {
            assert!(!problems.0.is_empty());
            assert!(!problems.to_string().contains("tiger"));
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    let err = DatabaseConfig::builder("postgres://u@h/db")
        .max_connections(0)
        .min_connections(5)
        .acquire_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    match err {
        Error::Config(problems) => assert!(problems.0.len() >= 3, "{problems}"),
        other => panic!("expected a config error, got {other:?}"),
    }
}

macro_rules! network_tests {
    () => {
        #[tokio::test]
        async fn net_test_connection_is_false_when_down() {
            crate::suite::network::net_test_connection_is_false_when_down().await
        }
        #[tokio::test]
        async fn net_connect_timeout_is_its_own_kind() {
            crate::suite::network::net_connect_timeout_is_its_own_kind().await
        }
        #[tokio::test]
        async fn net_pool_creation_timeout_is_its_own_kind() {
            crate::suite::network::net_pool_creation_timeout_is_its_own_kind().await
        }
        #[tokio::test]
        async fn net_bad_config_is_a_config_error() {
            crate::suite::network::net_bad_config_is_a_config_error().await
        }
    };
}
