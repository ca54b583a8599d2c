//! Fault-injection suite: dal behind a TCP proxy that can delay, black-hole,
//! reset or cut connections at run time (`support::proxy`).
//!
//! * `proxy_selftest`: the proxy's own behaviour against a local echo server
//!   (no database needed).
//! * `proxy_servers`: the proxy carrying real PostgreSQL and MariaDB/MySQL
//!   connections (skipped with a message when a server does not answer, failing
//!   instead when `DAL_TEST_REQUIRE_SERVERS=1`).
//!
//! Database fault scenarios go in their own modules below these.

#[macro_use]
mod support;

/// The proxy's own tests: every mode, reset_all, stop/restart, counters and
/// task clean-up, against a local echo server.
mod proxy_selftest {
    use std::io::ErrorKind;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::{JoinHandle, JoinSet};
    use tokio::time::timeout;

    use crate::support::proxy::{Mode, Proxy, upstream_of};

    /// What the echo server sends first on every connection (like a MySQL
    /// handshake: the server speaks first).
    const BANNER: &[u8] = b"HELLO\n";
    /// Long enough for anything that should happen "at once" on loopback.
    const PROMPT: Duration = Duration::from_secs(2);
    /// How long a read waits to show that nothing arrives.
    const SILENCE: Duration = Duration::from_millis(300);

    /// A TCP server that sends [`BANNER`] and then echoes every byte back until
    /// EOF. Aborted (with all its connections) on drop.
    struct Echo {
        addr: String,
        accepted: Arc<AtomicUsize>,
        task: JoinHandle<()>,
    }

    impl Echo {
        async fn start() -> Echo {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            let accepted = Arc::new(AtomicUsize::new(0));
            let counter = accepted.clone();
            let task = tokio::spawn(async move {
                let mut connections = JoinSet::new();
                while let Ok((mut sock, _)) = listener.accept().await {
                    counter.fetch_add(1, Ordering::SeqCst);
                    connections.spawn(async move {
                        if sock.write_all(BANNER).await.is_err() {
                            return;
                        }
                        let (mut r, mut w) = sock.split();
                        let _ = tokio::io::copy(&mut r, &mut w).await;
                    });
                    while connections.try_join_next().is_some() {}
                }
            });
            Echo {
                addr,
                accepted,
                task,
            }
        }

        fn accepted(&self) -> usize {
            self.accepted.load(Ordering::SeqCst)
        }
    }

    impl Drop for Echo {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    /// Connect to `addr` and read the banner.
    async fn connect(addr: &str) -> TcpStream {
        let mut sock = timeout(PROMPT, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect");
        let mut banner = [0u8; BANNER.len()];
        timeout(PROMPT, sock.read_exact(&mut banner))
            .await
            .expect("banner timed out")
            .expect("banner");
        assert_eq!(&banner, BANNER);
        sock
    }

    /// Send `msg` and read the same bytes back, returning how long it took.
    async fn round_trip(sock: &mut TcpStream, msg: &[u8]) -> Duration {
        let started = Instant::now();
        sock.write_all(msg).await.unwrap();
        let mut back = vec![0u8; msg.len()];
        timeout(PROMPT, sock.read_exact(&mut back))
            .await
            .expect("echo timed out")
            .expect("echo");
        assert_eq!(back, msg);
        started.elapsed()
    }

    /// Whether a read on `sock` shows the connection was reset (RST), not
    /// merely closed, within [`PROMPT`].
    async fn assert_reset(sock: &mut TcpStream) {
        let mut buf = [0u8; 64];
        let read = timeout(PROMPT, sock.read(&mut buf))
            .await
            .expect("a reset connection must fail promptly, not hang");
        match read {
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e:?}"),
            Ok(n) => panic!("expected a connection reset, read {n} bytes"),
        }
    }

    /// Whether the peer closed `sock` (EOF or reset) within [`PROMPT`].
    async fn assert_closed(sock: &mut TcpStream) {
        let mut buf = [0u8; 64];
        let read = timeout(PROMPT, sock.read(&mut buf))
            .await
            .expect("the connection should have been closed");
        assert!(
            matches!(read, Ok(0) | Err(_)),
            "connection still open: {read:?}"
        );
    }

    /// Wait until `f` holds, failing after [`PROMPT`].
    async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + PROMPT;
        while !f() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn alive_tasks() -> usize {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    }

    #[tokio::test]
    async fn pass_forwards_bytes_both_ways() {
        let echo = Echo::start().await;
        let proxy = Proxy::start(&echo.addr).await.unwrap();
        assert_eq!(proxy.mode(), Mode::Pass);
        assert!(proxy.addr().starts_with("127.0.0.1:"));
        assert_ne!(proxy.addr(), echo.addr);

        // The server speaks first (banner), then the client: both directions.
        let mut sock = connect(&proxy.addr()).await;
        round_trip(&mut sock, b"ping").await;

        // A megabyte of every byte value, written and read concurrently, comes
        // back identical.
        let payload: Vec<u8> = (0..1_048_576u32).map(|i| (i * 7 % 251) as u8).collect();
        let (mut r, mut w) = sock.split();
        let write = async {
            w.write_all(&payload).await.unwrap();
            // Half-close: the proxy must forward the FIN upstream, so the echo
            // server finishes and closes, and that FIN comes back to us.
            w.shutdown().await.unwrap();
        };
        let read = async {
            let mut back = Vec::new();
            timeout(Duration::from_secs(10), r.read_to_end(&mut back))
                .await
                .expect("echo of 1 MiB timed out")
                .unwrap();
            back
        };
        let ((), back) = tokio::join!(write, read);
        assert_eq!(back.len(), payload.len());
        assert!(back == payload, "bytes changed in transit");

        assert_eq!(echo.accepted(), 1);
        assert_eq!(proxy.connections_accepted(), 1);
        // Both sides closed: the proxied connection is gone.
        eventually("the closed connection to leave", || {
            proxy.live_connections() == 0
        })
        .await;
    }

    #[tokio::test]
    async fn delay_adds_at_least_the_delay_in_each_direction() {
        let echo = Echo::start().await;
        let proxy = Proxy::start(&echo.addr).await.unwrap();
        let delay = Duration::from_millis(150);

        // An existing connection slows down when the mode changes...
        let mut sock = connect(&proxy.addr()).await;
        round_trip(&mut sock, b"before").await;
        proxy.set_mode(Mode::Delay(delay));
        let slow = round_trip(&mut sock, b"delayed").await;
        assert!(
            slow >= 2 * delay,
            "round trip took {slow:?}, want >= {:?}",
            2 * delay
        );

        // ...a new one is slow from the start (the banner is delayed once)...
        let started = Instant::now();
        let mut second = connect(&proxy.addr()).await;
        let banner = started.elapsed();
        assert!(banner >= delay, "banner took {banner:?}");
        let slow = round_trip(&mut second, b"delayed too").await;
        assert!(slow >= 2 * delay, "round trip took {slow:?}");

        // ...and both are undelayed again in Pass mode: switched there from a
        // delay far longer than PROMPT, within which `round_trip` must finish
        // (no wall-clock speed assumption beyond that)
        proxy.set_mode(Mode::Delay(PROMPT * 30));
        proxy.set_mode(Mode::Pass);
        for s in [&mut sock, &mut second] {
            round_trip(s, b"after").await;
        }
    }

    #[tokio::test]
    async fn black_hole_accepts_but_forwards_nothing_until_healed() {
        let echo = Echo::start().await;
        let proxy = Proxy::start(&echo.addr).await.unwrap();
        let mut existing = connect(&proxy.addr()).await;
        assert_eq!(echo.accepted(), 1);

        proxy.set_mode(Mode::BlackHole);

        // An existing connection: the write is accepted locally, the echo never
        // comes back.
        existing.write_all(b"lost?").await.unwrap();
        let mut buf = [0u8; 16];
        assert!(
            timeout(SILENCE, existing.read(&mut buf)).await.is_err(),
            "black-holed connection answered"
        );

        // A new connection: connect succeeds, the server never speaks, and no
        // upstream connection is made.
        let mut fresh = timeout(PROMPT, TcpStream::connect(proxy.addr()))
            .await
            .expect("connect must succeed in BlackHole mode")
            .unwrap();
        assert!(
            timeout(SILENCE, fresh.read(&mut buf)).await.is_err(),
            "black-holed connection answered"
        );
        assert_eq!(proxy.connections_accepted(), 2);
        assert_eq!(proxy.live_connections(), 2);
        assert_eq!(echo.accepted(), 1, "black hole must not connect upstream");

        // Healing the partition delivers what was held, in order, nothing lost.
        proxy.set_mode(Mode::Pass);
        let mut back = [0u8; 5];
        timeout(PROMPT, existing.read_exact(&mut back))
            .await
            .expect("held bytes not delivered after healing")
            .unwrap();
        assert_eq!(&back, b"lost?");
        let mut banner = [0u8; BANNER.len()];
        timeout(PROMPT, fresh.read_exact(&mut banner))
            .await
            .expect("held connection not connected after healing")
            .unwrap();
        assert_eq!(&banner, BANNER);
        assert_eq!(echo.accepted(), 2);
        round_trip(&mut fresh, b"healed").await;
    }

    #[tokio::test]
    async fn reset_mode_resets_existing_and_new_connections() {
        let echo = Echo::start().await;
        let proxy = Proxy::start(&echo.addr).await.unwrap();
        let mut existing = connect(&proxy.addr()).await;
        round_trip(&mut existing, b"ok").await;

        proxy.set_mode(Mode::Reset);
        // (promptly: within PROMPT)
        assert_reset(&mut existing).await;
        eventually("the reset connection to leave", || {
            proxy.live_connections() == 0
        })
        .await;

        // New connections: the TCP handshake completes (the kernel accepts), then
        // the proxy resets them without connecting upstream.
        for _ in 0..3 {
            let mut fresh = timeout(PROMPT, TcpStream::connect(proxy.addr()))
                .await
                .unwrap()
                .expect("connect");
            assert_reset(&mut fresh).await;
        }
        assert_eq!(proxy.connections_accepted(), 4);
        assert_eq!(
            echo.accepted(),
            1,
            "reset connections must not reach upstream"
        );

        // Reset immediately followed by Pass still resets live connections.
        proxy.set_mode(Mode::Pass);
        let mut again = connect(&proxy.addr()).await;
        proxy.set_mode(Mode::Reset);
        proxy.set_mode(Mode::Pass);
        assert_reset(&mut again).await;

        // And Pass works again for new connections.
        let mut healed = connect(&proxy.addr()).await;
        round_trip(&mut healed, b"back").await;
    }

    #[tokio::test]
    async fn stop_refuses_connections_and_restart_reuses_the_port() {
        let echo = Echo::start().await;
        let proxy = Proxy::start(&echo.addr).await.unwrap();
        let addr = proxy.addr();
        let mut existing = connect(&addr).await;
        round_trip(&mut existing, b"ok").await;
        proxy.set_mode(Mode::Delay(Duration::from_millis(10)));

        proxy.stop().await;
        assert!(!proxy.is_running());
        assert_eq!(proxy.live_connections(), 0, "stop must drop connections");
        assert_closed(&mut existing).await;
        let refused = TcpStream::connect(&addr).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused, "{refused:?}");
        proxy.stop().await; // stopping twice is harmless

        proxy.restart().await.unwrap();
        assert!(proxy.is_running());
        assert_eq!(proxy.addr(), addr, "restart must keep the port");
        assert_eq!(proxy.mode(), Mode::Pass, "restart must switch to Pass");
        let mut fresh = connect(&addr).await;
        round_trip(&mut fresh, b"again").await;
        assert_eq!(proxy.connections_accepted(), 2, "counters survive restarts");
        assert_eq!(proxy.live_connections(), 1);

        // Restarting a running proxy cycles it: old connections go, port stays.
        proxy.restart().await.unwrap();
        assert_closed(&mut fresh).await;
        let mut third = connect(&addr).await;
        round_trip(&mut third, b"third").await;
    }

    #[tokio::test]
    async fn reset_all_drops_live_connections_and_keeps_the_mode() {
        let echo = Echo::start().await;
        let proxy = Proxy::start(&echo.addr).await.unwrap();
        assert_eq!(proxy.connections_accepted(), 0);
        assert_eq!(proxy.live_connections(), 0);

        let mut socks = Vec::new();
        for i in 0..3u8 {
            let mut s = connect(&proxy.addr()).await;
            round_trip(&mut s, &[i; 8]).await;
            socks.push(s);
        }
        assert_eq!(proxy.connections_accepted(), 3);
        assert_eq!(proxy.live_connections(), 3);

        proxy.reset_all();
        for s in &mut socks {
            assert_reset(s).await;
        }
        eventually("reset connections to leave", || {
            proxy.live_connections() == 0
        })
        .await;
        assert_eq!(proxy.mode(), Mode::Pass);

        // Later connections are unaffected: reset_all is one-shot.
        let mut fresh = connect(&proxy.addr()).await;
        round_trip(&mut fresh, b"still passing").await;
        assert_eq!(proxy.connections_accepted(), 4);
        assert_eq!(proxy.live_connections(), 1);

        // A client closing normally leaves the live count too.
        drop(fresh);
        eventually("a closed connection to leave", || {
            proxy.live_connections() == 0
        })
        .await;
        assert_eq!(proxy.connections_accepted(), 4);
    }

    #[tokio::test]
    async fn upstream_down_resets_the_client() {
        // A port nothing listens on.
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = closed.local_addr().unwrap().to_string();
        drop(closed);
        let proxy = Proxy::start(&upstream).await.unwrap();
        let mut sock = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_reset(&mut sock).await;
        assert_eq!(proxy.connections_accepted(), 1);
    }

    #[tokio::test]
    async fn stop_and_drop_end_every_task() {
        let echo = Echo::start().await;
        let baseline = alive_tasks(); // the echo server's accept loop

        let proxy = Proxy::start(&echo.addr).await.unwrap();
        let mut a = connect(&proxy.addr()).await;
        let mut b = connect(&proxy.addr()).await;
        proxy.set_mode(Mode::BlackHole);
        let mut held = TcpStream::connect(proxy.addr()).await.unwrap();
        eventually("the held connection to be accepted", || {
            proxy.live_connections() == 3
        })
        .await;
        // Accept loop + 3 proxied connections + 2 echo connections.
        assert_eq!(alive_tasks(), baseline + 6);

        proxy.stop().await;
        assert_closed(&mut a).await;
        assert_closed(&mut b).await;
        assert_closed(&mut held).await;
        eventually("stop to end the proxy's tasks", || {
            alive_tasks() == baseline
        })
        .await;

        proxy.restart().await.unwrap();
        let mut c = connect(&proxy.addr()).await;
        proxy.set_mode(Mode::Delay(Duration::from_secs(60)));
        c.write_all(b"in flight").await.unwrap();
        assert!(alive_tasks() > baseline);
        drop(proxy);
        assert_closed(&mut c).await;
        eventually("drop to end the proxy's tasks", || {
            alive_tasks() == baseline
        })
        .await;
    }

    #[tokio::test]
    async fn url_for_swaps_only_host_and_port() {
        let echo = Echo::start().await;
        let proxy = Proxy::start(&echo.addr).await.unwrap();
        let p = proxy.addr();
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/postgres",
                format!("postgres://postgres@{p}/postgres"),
            ),
            (
                "postgres://app:s%40cret@db.internal/shop?sslmode=disable&options=-c%20x%3Dy",
                format!("postgres://app:s%40cret@{p}/shop?sslmode=disable&options=-c%20x%3Dy"),
            ),
            (
                "mysql://root@127.0.0.1:3306/test",
                format!("mysql://root@{p}/test"),
            ),
            (
                "mysql://u:p@[::1]:3307?ssl-mode=DISABLED",
                format!("mysql://u:p@{p}?ssl-mode=DISABLED"),
            ),
            ("postgres://localhost", format!("postgres://{p}")),
        ];
        for (url, want) in cases {
            assert_eq!(proxy.url_for(url), want, "{url}");
        }

        assert_eq!(
            upstream_of("postgres://postgres@127.0.0.1:5432/postgres").as_deref(),
            Some("127.0.0.1:5432")
        );
        assert_eq!(
            upstream_of("postgresql://a:b@db.internal/shop?x=1").as_deref(),
            Some("db.internal:5432")
        );
        assert_eq!(
            upstream_of("mysql://root@localhost/test").as_deref(),
            Some("localhost:3306")
        );
        assert_eq!(
            upstream_of("mariadb://u:p@[::1]/test").as_deref(),
            Some("[::1]:3306")
        );
        assert_eq!(
            upstream_of("mysql://u@[::1]:3307").as_deref(),
            Some("[::1]:3307")
        );
        assert_eq!(upstream_of("sqlite:///tmp/x.db"), None);
    }
}

/// The proxy carrying real server connections: a query passes through it, fails
/// with an infrastructure error in Reset mode, and works again in Pass mode.
mod proxy_servers {
    use std::time::Duration;

    use dal::{DatabaseConfig, Db};

    use crate::support::proxy::{Mode, Proxy, server_unavailable, upstream_of};

    async fn carries_a_real_connection(engine: &str, url: String) {
        // Is the server there at all? (Directly, not through the proxy.)
        let probe = DatabaseConfig::builder(&url)
            .connect_timeout(Duration::from_secs(2))
            .max_connections(1)
            .build()
            .expect("server url");
        match Db::connect(probe).await {
            Ok(db) => db.close(),
            Err(e) => return server_unavailable(engine, &url, &e),
        }

        let upstream = upstream_of(&url).expect("server url names a host");
        let proxy = Proxy::start(&upstream).await.unwrap();
        // Retries and the breaker are off: this checks what the proxy does to a
        // connection, not how dal recovers (that has scenarios of its own).
        let config = DatabaseConfig::builder(proxy.url_for(&url))
            .connect_timeout(Duration::from_secs(2))
            .acquire_timeout(Duration::from_secs(2))
            .pool_creation_timeout(Duration::from_secs(5))
            .query_timeout(Duration::from_secs(5))
            .max_connections(2)
            .retry_enabled(false)
            .breaker_enabled(false)
            .build()
            .expect("proxied config");
        let db = Db::connect(config)
            .await
            .expect("connect through the proxy");

        let one: i64 = db.fetch_scalar::<i64, _>("SELECT 1", ()).await.unwrap();
        assert_eq!(one, 1);
        assert!(proxy.connections_accepted() >= 1);
        assert!(proxy.live_connections() >= 1);

        proxy.set_mode(Mode::Reset);
        let err = db
            .fetch_scalar::<i64, _>("SELECT 1", ())
            .await
            .expect_err("a query through a resetting proxy must fail");
        assert!(err.is_infrastructure(), "{engine}: {err:?}");

        proxy.set_mode(Mode::Pass);
        let accepted_before = proxy.connections_accepted();
        let mut failures = Vec::new();
        let mut recovered = false;
        for _ in 0..3 {
            match db.fetch_scalar::<i64, _>("SELECT 1", ()).await {
                Ok(v) => {
                    assert_eq!(v, 1);
                    recovered = true;
                    break;
                }
                Err(e) => {
                    assert!(e.is_infrastructure(), "{engine}: {e:?}");
                    failures.push(e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        assert!(
            recovered,
            "{engine}: no recovery in Pass mode: {failures:?}"
        );
        assert!(
            proxy.connections_accepted() > accepted_before,
            "{engine}: the pool should have opened a fresh connection"
        );
        db.close();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_through_the_proxy() {
        carries_a_real_connection("PostgreSQL", crate::support::postgres_url()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mysql_through_the_proxy() {
        carries_a_real_connection("MariaDB/MySQL", crate::support::mysql_url()).await;
    }
}

/// The resilience scenarios against the real servers (and SQLite where it
/// applies): server-side query cancellation, the circuit breaker under a cut
/// network path, pool exhaustion, leak reports, and connection kills during
/// acknowledged writes and history saves. Each prints its figures.
mod scenarios {
    use std::collections::{HashMap, HashSet};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    use dal::{DatabaseConfig, Db, Dialect, Entity, Error, ScalingAdvice, TimeoutKind};

    use crate::support::proxy::{Mode, Proxy, upstream_of};
    use crate::support::{self, TestDb};

    fn marker() -> String {
        support::unique_name()
    }

    // ----- query timeouts stop the work on the server -------------------------

    /// How many statements carrying `marker` run on the server now (other
    /// than the asking one).
    async fn running(db: &Db, marker: &str) -> i64 {
        let like = format!("%{marker}%");
        match db.dialect() {
            Dialect::Postgres => db
                .fetch_scalar(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE ? \
                     AND state = 'active' AND pid <> pg_backend_pid()",
                    (like.as_str(),),
                )
                .await
                .unwrap(),
            Dialect::MySql => db
                .fetch_scalar(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                     WHERE INFO LIKE ? AND ID <> CONNECTION_ID()",
                    (like.as_str(),),
                )
                .await
                .unwrap(),
            Dialect::Sqlite => unreachable!("no server-side view on SQLite"),
        }
    }

    async fn session_id(db: &Db) -> i64 {
        match db.dialect() {
            Dialect::Postgres => db
                .fetch_scalar("SELECT pg_backend_pid()", ())
                .await
                .unwrap(),
            Dialect::MySql => db.fetch_scalar("SELECT CONNECTION_ID()", ()).await.unwrap(),
            // a TEMP table lives and dies with its connection: a random number
            // kept in one identifies the connection
            Dialect::Sqlite => {
                db.execute_script(
                    "CREATE TEMP TABLE IF NOT EXISTS dal_session (id INTEGER NOT NULL); \
                     INSERT INTO dal_session (id) SELECT abs(random()) \
                     WHERE NOT EXISTS (SELECT 1 FROM dal_session)",
                )
                .await
                .unwrap();
                db.fetch_scalar("SELECT id FROM temp.dal_session", ())
                    .await
                    .unwrap()
            }
        }
    }

    /// A 30-second statement with a 500 ms timeout: `Error::Timeout` (query)
    /// by the limit + 10%, the statement cancelled on the server right after
    /// (in the background), and the connection cleanly reused.
    pub async fn long_query_is_cancelled_on_the_server(t: &TestDb) {
        let m = marker();
        let sql = match t.dialect() {
            Dialect::Postgres => format!("SELECT pg_sleep(30), '{m}'"),
            Dialect::MySql => format!("SELECT SLEEP(30), '{m}'"),
            // an endless recursive query: only the interrupt stops it
            Dialect::Sqlite => format!(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                 SELECT COUNT(*), '{m}' FROM c"
            ),
        };
        let db = Db::connect(
            DatabaseConfig::builder(&t.url)
                .max_connections(1)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
        let before = session_id(&db).await;
        let start = Instant::now();
        let err = db
            .query(&sql)
            .timeout(Duration::from_millis(500))
            .fetch_all()
            .await
            .expect_err("the statement must time out");
        let took = start.elapsed();
        assert!(
            matches!(
                err,
                Error::Timeout {
                    kind: TimeoutKind::Query,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(took >= Duration::from_millis(500), "{took:?}");
        assert!(
            took < Duration::from_millis(550 + 20),
            "error after {took:?}"
        );
        // the cancellation is confirmed in the background, within its grace
        // (SQLite runs the statement in-process on this pool's one connection:
        // that connection answering the next statement, below, shows it stopped)
        let mut left = if t.dialect() == Dialect::Sqlite {
            0
        } else {
            running(&t.db, &m).await
        };
        let waiting = Instant::now();
        while left > 0 && waiting.elapsed() < Duration::from_secs(3) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            left = running(&t.db, &m).await;
        }
        assert_eq!(left, 0, "the statement still runs on the server");
        // the connection answered the cancel and is reused, not replaced
        let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
        assert_eq!(one, 1);
        let after = session_id(&db).await;
        assert_eq!(before, after, "the cancelled connection was kept");
        let stats = db.stats();
        assert_eq!(stats.query_timeouts, 1, "{stats}");
        println!(
            "[{}] 30 s statement, 500 ms timeout: error after {took:?}, {left} left running on the server, connection reused",
            t.dialect()
        );
        db.close();
    }

    // ----- the circuit breaker under a cut network path ----------------------

    async fn breaker_opens_and_recovers(engine: &str, t: &TestDb) {
        let upstream = upstream_of(&t.url).expect("server url names a host");
        let proxy = Proxy::start(&upstream).await.unwrap();
        let config = DatabaseConfig::builder(proxy.url_for(&t.url))
            .max_connections(4)
            .connect_timeout(Duration::from_millis(300))
            .acquire_timeout(Duration::from_secs(1))
            .query_timeout(Duration::from_millis(300))
            .breaker_failure_threshold(3)
            .breaker_open_duration(Duration::from_millis(500))
            .breaker_half_open_calls(1)
            .build()
            .unwrap();
        let db = Db::connect(config).await.unwrap();
        let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
        assert_eq!(one, 1);

        // cut the path for 3 seconds
        proxy.set_mode(Mode::BlackHole);
        let cut = Instant::now();
        let mut slow_failures = Vec::new();
        let mut fast_rejections = Vec::new();
        let mut opened_after = None;
        while cut.elapsed() < Duration::from_secs(3) {
            let was_open = db.breaker_state() == dal::BreakerState::Open;
            let sent = db.stats().statements;
            let s = Instant::now();
            let r = db.fetch_scalar::<i64, _>("SELECT 1", ()).await;
            let took = s.elapsed();
            match r {
                Ok(_) => panic!("{engine}: a query succeeded through a cut path"),
                // rejected by an open circuit: without sending anything
                Err(Error::CircuitOpen { .. }) if was_open => {
                    assert_eq!(
                        db.stats().statements,
                        sent,
                        "{engine}: a rejected call sent a statement"
                    );
                    opened_after.get_or_insert(cut.elapsed());
                    fast_rejections.push(took);
                }
                // a call that started before the circuit opened (it may end
                // with CircuitOpen when its own retry is refused)
                Err(e) => {
                    assert!(
                        e.is_infrastructure() || matches!(e, Error::CircuitOpen { .. }),
                        "{engine}: {e:?}"
                    );
                    slow_failures.push(took);
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let opened_after = opened_after.expect("the breaker opened during the cut");
        assert!(!fast_rejections.is_empty());
        fast_rejections.sort();
        let p50 = fast_rejections[fast_rejections.len() / 2];
        let max = *fast_rejections.last().unwrap();
        // immediate: no rejection waits for a connect or query timeout (300 ms
        // each here), which any call that touched the cut path does
        assert!(
            max < Duration::from_millis(300),
            "{engine}: open-circuit rejections must not wait, slowest {max:?}"
        );

        // restore and measure until the first success
        proxy.set_mode(Mode::Pass);
        let restored = Instant::now();
        let recovery = loop {
            match db.fetch_scalar::<i64, _>("SELECT 1", ()).await {
                Ok(1) => break restored.elapsed(),
                Ok(v) => panic!("{v}"),
                Err(_) => {
                    assert!(
                        restored.elapsed() < Duration::from_secs(5),
                        "{engine}: no recovery"
                    );
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        };
        assert!(
            recovery <= Duration::from_secs(1),
            "{engine}: recovered {recovery:?} after the restore"
        );
        let stats = db.stats();
        assert_eq!(stats.breaker, dal::BreakerState::Closed, "{stats}");
        assert!(stats.breaker_transitions >= 3, "{stats}");
        assert!(
            stats.breaker_rejections as usize >= fast_rejections.len(),
            "{stats}"
        );
        println!(
            "[{engine}] path cut 3 s: {} slow failures (max {:?}) before the breaker opened at {opened_after:?}; \
             {} calls failed fast (p50 {p50:?}, max {max:?}); recovered {recovery:?} after the restore",
            slow_failures.len(),
            slow_failures.iter().max().copied().unwrap_or_default(),
            fast_rejections.len(),
        );
        db.close();
    }

    // ----- pool exhaustion ---------------------------------------------------

    /// Pool of 5, 200 concurrent tasks, 100 ms acquire timeout: every task
    /// ends, the timeouts are counted, the rate is in the top band of the
    /// seed's table, and since the database keeps its speed the advice names
    /// the pool, not the database.
    pub async fn exhausted_pool_times_out_and_advises(t: &TestDb) {
        // each task holds its connection for about 50 ms: on a server asleep in
        // the statement; on SQLite (statements run on the caller's thread)
        // across an await inside a transaction, as a handler would
        let sql = match t.dialect() {
            Dialect::Postgres => "SELECT pg_sleep(0.05)",
            Dialect::MySql => "SELECT SLEEP(0.05)",
            Dialect::Sqlite => "SELECT 1",
        };
        let db = Db::connect(
            DatabaseConfig::builder(&t.url)
                .max_connections(5)
                .acquire_timeout(Duration::from_millis(100))
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..200 {
            let db = db.clone();
            tasks.spawn(async move {
                if db.dialect() == Dialect::Sqlite {
                    let mut tx = db.begin().await?;
                    tx.fetch_all(sql, ()).await?;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    tx.commit().await
                } else {
                    db.query(sql).fetch_all().await.map(|_| ())
                }
            });
        }
        let all = tokio::time::timeout(Duration::from_secs(60), async {
            let mut out = Vec::new();
            while let Some(r) = tasks.join_next().await {
                out.push(r.expect("task panicked"));
            }
            out
        })
        .await
        .expect("every task ends: no hang");
        let took = start.elapsed();
        let ok = all.iter().filter(|r| r.is_ok()).count();
        let timed_out = all
            .iter()
            .filter(|r| {
                matches!(
                    r,
                    Err(Error::Timeout {
                        kind: TimeoutKind::Acquire,
                        ..
                    })
                )
            })
            .count();
        assert_eq!(
            ok + timed_out,
            200,
            "other errors: {:?}",
            all.iter().filter(|r| r.is_err()).collect::<Vec<_>>()
        );
        assert!(ok >= 5, "some tasks got a connection");
        assert!(
            timed_out > 0,
            "a pool of 5 cannot serve 200 tasks in 100 ms"
        );
        let stats = db.stats();
        assert_eq!(stats.acquire_timeouts as usize, timed_out, "{stats}");
        assert!(stats.timeout_rate > 0.05, "{stats}");
        assert_eq!(
            ScalingAdvice::for_timeout_rate(stats.timeout_rate),
            ScalingAdvice::ScaleHorizontally
        );
        assert_eq!(stats.advice, ScalingAdvice::GrowPool, "{stats}");
        assert!(stats.pool.size <= 5);
        println!(
            "[{}] pool 5, 200 tasks, 100 ms acquire timeout: all ended in {took:?}; {ok} served, {timed_out} acquire timeouts; \
             timeout rate {:.1}% -> {}",
            t.dialect(),
            stats.timeout_rate * 100.0,
            stats.advice
        );
        db.close();
    }

    // ----- leak detection ------------------------------------------------------

    /// A connection held past the threshold is reported once, with the line
    /// that acquired it.
    pub async fn leaked_connection_is_reported(t: &TestDb) {
        let db = Db::connect(
            DatabaseConfig::builder(&t.url)
                .max_connections(2)
                .leak_detection_threshold(Duration::from_millis(100))
                .capture_backtrace(true)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
        let line = line!() + 1;
        let tx = db.begin().await.unwrap();
        // reported by the pool's upkeep once held past the threshold: wait for
        // it rather than guess how soon that is on a loaded machine
        let deadline = Instant::now() + Duration::from_secs(10);
        while db.stats().leaks == 0 {
            assert!(Instant::now() < deadline, "the leak was never reported");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let held = db.held_connections();
        assert_eq!(held.len(), 1, "{held:?}");
        let h = &held[0];
        assert!(
            h.acquired_at.contains("faults.rs") && h.acquired_at.contains(&format!(":{line}:")),
            "acquired at {}",
            h.acquired_at
        );
        assert!(h.held_for >= Duration::from_millis(100), "{:?}", h.held_for);
        assert!(h.backtrace.is_some());
        assert_eq!(db.stats().leaks, 1, "reported once");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(db.stats().leaks, 1, "still reported only once");
        drop(tx);
        // the dropped transaction rolls back in the background, then returns
        // its connection
        let deadline = Instant::now() + Duration::from_secs(10);
        while !db.held_connections().is_empty() {
            assert!(Instant::now() < deadline, "{:?}", db.held_connections());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        println!(
            "[{}] leaked connection reported after {:?} at {}",
            t.dialect(),
            h.held_for,
            h.acquired_at
        );
        db.close();
    }

    // ----- connection kills during writes --------------------------------------

    /// Kill every session of `db_name` (but the asking one) on the server.
    async fn kill_sessions(admin: &Db, db_name: &str) -> usize {
        match admin.dialect() {
            Dialect::Postgres => {
                let n: i64 = admin
                    .fetch_scalar(
                        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
                         WHERE application_name = ? AND pid <> pg_backend_pid()",
                        (db_name,),
                    )
                    .await
                    .unwrap_or(0);
                n as usize
            }
            Dialect::MySql => {
                let ids: Vec<(u64,)> = admin
                    .fetch_all_as(
                        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
                        (db_name,),
                    )
                    .await
                    .unwrap_or_default();
                let mut n = 0;
                for (id,) in ids {
                    if admin
                        .execute(&format!("KILL CONNECTION {id}"), ())
                        .await
                        .is_ok()
                    {
                        n += 1;
                    }
                }
                n
            }
            Dialect::Sqlite => 0,
        }
    }

    /// A writer pool whose sessions can be found and killed: PostgreSQL gets a
    /// unique application name, MariaDB sessions are found by database.
    async fn writer_pool(t: &TestDb, tag: &str, max: u32) -> (Db, Db, String) {
        let (admin_url, mut b) = match t.dialect() {
            Dialect::Postgres => (
                support::postgres_url(),
                DatabaseConfig::builder(&t.url).param("application_name", tag),
            ),
            _ => (support::mysql_url(), DatabaseConfig::builder(&t.url)),
        };
        // the breaker would (rightly) open under kills this dense; this
        // scenario is about what happens to each write, so it is off here
        b = b
            .max_connections(max)
            .connect_timeout(Duration::from_secs(2))
            .query_timeout(Duration::from_secs(10))
            .breaker_enabled(false);
        let db = Db::connect(b.build().unwrap()).await.unwrap();
        let admin = Db::connect(
            DatabaseConfig::builder(&admin_url)
                .max_connections(2)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
        let target = match t.dialect() {
            Dialect::Postgres => tag.to_string(),
            _ => db
                .fetch_scalar::<String, _>("SELECT DATABASE()", ())
                .await
                .unwrap(),
        };
        (db, admin, target)
    }

    /// Kill the writers' sessions every 200 ms until `stop`.
    fn killer(
        admin: Db,
        target: String,
        stop: Arc<AtomicBool>,
    ) -> tokio::task::JoinHandle<(usize, usize)> {
        tokio::spawn(async move {
            let (mut rounds, mut killed) = (0, 0);
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(200)).await;
                killed += kill_sessions(&admin, &target).await;
                rounds += 1;
            }
            admin.close();
            (rounds, killed)
        })
    }

    /// 10,000 acknowledged single-row writes while every session is killed
    /// every 200 ms: every acknowledged row is there exactly once, and no row
    /// is there twice (dal never re-sends a write whose outcome it does not know).
    pub async fn acknowledged_writes_survive_kills(t: &TestDb) {
        const TARGET: u64 = 10_000;
        t.execute(
            "CREATE TABLE [f_acks] ([k] BIGINT NOT NULL, [w] INTEGER NOT NULL)",
            (),
        )
        .await
        .unwrap();
        let tag = format!("dal_kill_{}", std::process::id());
        let (db, admin, target) = writer_pool(t, &tag, 8).await;
        let stop = Arc::new(AtomicBool::new(false));
        let kills = killer(admin, target, stop.clone());
        let next = Arc::new(AtomicU64::new(0));
        let acked_count = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..8 {
            let (db, next, acked_count) = (db.clone(), next.clone(), acked_count.clone());
            writers.spawn(async move {
                let (mut acked, mut failed) = (Vec::new(), HashMap::<String, usize>::new());
                while acked_count.load(Ordering::Relaxed) < TARGET {
                    let k = next.fetch_add(1, Ordering::Relaxed) as i64;
                    match db
                        .execute("INSERT INTO [f_acks] ([k], [w]) VALUES (?, ?)", (k, w))
                        .await
                    {
                        Ok(r) => {
                            assert_eq!(r.rows_affected, 1);
                            acked.push(k);
                            acked_count.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            assert!(e.is_infrastructure(), "unexpected error: {e:?}");
                            *failed
                                .entry(dal::ErrorKind::of(&e).as_str().to_string())
                                .or_default() += 1;
                        }
                    }
                }
                (acked, failed)
            });
        }
        let mut acked = HashSet::new();
        let mut failed: HashMap<String, usize> = HashMap::new();
        while let Some(r) = writers.join_next().await {
            let (a, f) = r.unwrap();
            acked.extend(a);
            for (k, n) in f {
                *failed.entry(k).or_default() += n;
            }
        }
        let took = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        let (rounds, killed) = kills.await.unwrap();
        let rows: Vec<(i64,)> = t
            .fetch_all_as("SELECT [k] FROM [f_acks]", ())
            .await
            .unwrap();
        let mut present = HashSet::new();
        let mut duplicated = Vec::new();
        for (k,) in &rows {
            if !present.insert(*k) {
                duplicated.push(*k);
            }
        }
        assert!(duplicated.is_empty(), "rows written twice: {duplicated:?}");
        let lost: Vec<_> = acked.difference(&present).collect();
        assert!(
            lost.is_empty(),
            "acknowledged writes lost: {} (e.g. {:?})",
            lost.len(),
            lost.iter().take(5).collect::<Vec<_>>()
        );
        assert!(acked.len() as u64 >= TARGET);
        assert!(killed > 0, "the killer killed nothing");
        let unknown_committed = present.len() - acked.len();
        println!(
            "[{}] {} acknowledged writes in {took:?} under {rounds} kill rounds ({killed} sessions killed): \
             0 lost, 0 duplicated; failed calls {failed:?}; {unknown_committed} unacknowledged writes did commit",
            t.dialect(),
            acked.len()
        );
        db.close();
    }

    #[derive(Entity, Debug, Clone)]
    #[dal(table = "f_accounts", history)]
    pub struct Account {
        #[dal(id)]
        pub id: i64,
        #[dal(length = 40)]
        pub owner: String,
        pub balance: i64,
        #[dal(version)]
        pub version: i64,
    }

    /// Entity saves with history while sessions are killed every 200 ms: each
    /// row and its history entry are written together or not at all.
    pub async fn row_and_history_survive_kills(t: &TestDb) {
        Account::ensure_schema(&t.db).await.unwrap();
        let tag = format!("dal_hist_{}", std::process::id());
        let (db, admin, target) = writer_pool(t, &tag, 4).await;
        let stop = Arc::new(AtomicBool::new(false));
        let kills = killer(admin, target, stop.clone());
        let start = Instant::now();
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..4 {
            let db = db.clone();
            writers.spawn(async move {
                let (mut saved, mut failed) = (0usize, 0usize);
                let mut mine: Vec<Account> = Vec::new();
                while start.elapsed() < Duration::from_secs(3) {
                    // new rows and updates of rows already saved
                    let r = if mine.len() < 50 || saved % 3 == 0 {
                        let mut a = Account {
                            id: 0,
                            owner: format!("w{w}"),
                            balance: 0,
                            version: 0,
                        };
                        let r = a.save(&db).await;
                        if r.is_ok() {
                            mine.push(a);
                        }
                        r
                    } else {
                        let i = saved % mine.len();
                        let mut a = mine[i].clone();
                        a.balance += 1;
                        let r = a.save(&db).await;
                        if r.is_ok() {
                            mine[i] = a;
                        } else if let Ok(Some(fresh)) = Account::get(&db, a.id).await {
                            // the outcome was unknown: continue from what is stored
                            mine[i] = fresh;
                        }
                        r
                    };
                    match r {
                        Ok(()) => saved += 1,
                        Err(e) => {
                            assert!(
                                e.is_infrastructure() || matches!(e, Error::StaleVersion { .. }),
                                "unexpected error: {e:?}"
                            );
                            failed += 1;
                        }
                    }
                }
                (saved, failed)
            });
        }
        let (mut saved, mut failed) = (0, 0);
        while let Some(r) = writers.join_next().await {
            let (s, f) = r.unwrap();
            saved += s;
            failed += f;
        }
        stop.store(true, Ordering::Relaxed);
        let (rounds, killed) = kills.await.unwrap();
        // every row has its versions 1..=version in the history, the last one
        // equal to the row; no history for a row that does not exist
        let rows: Vec<Account> = Account::find().all(&t.db).await.unwrap();
        let mut checked = 0;
        for row in &rows {
            let history = Account::history(&t.db, row.id).await.unwrap();
            let versions: Vec<i64> = history.iter().map(|h| h.version).collect();
            let expected: Vec<i64> = (1..=row.version).collect();
            assert_eq!(versions, expected, "history of row {}", row.id);
            let last = &history.last().unwrap().entity;
            assert_eq!((last.balance, last.version), (row.balance, row.version));
            checked += 1;
        }
        let orphans: i64 = t
            .fetch_scalar(
                "SELECT COUNT(*) FROM [f_accounts_history] h WHERE NOT EXISTS \
                 (SELECT 1 FROM [f_accounts] a WHERE a.[id] = h.[id])",
                (),
            )
            .await
            .unwrap();
        assert_eq!(orphans, 0, "history without its row");
        assert!(killed > 0);
        // enough writes got through for the checks above to mean something:
        // inserts and updates, under kills (a few hundred per second here)
        assert!(
            saved >= 100,
            "only {saved} saves succeeded ({failed} failed) in 3 s"
        );
        assert_eq!(checked, rows.len());
        assert!(checked >= 20, "only {checked} rows written");
        assert!(
            rows.iter().any(|r| r.version > 1),
            "no row was updated: the history checks saw inserts only"
        );
        println!(
            "[{}] {saved} saves with history ({failed} failed) under {rounds} kill rounds ({killed} sessions killed): \
             {checked} rows, each with exactly its versions in the history; 0 orphans",
            t.dialect()
        );
        db.close();
    }

    mod sqlite {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn long_query_is_cancelled() {
            let t = crate::support::sqlite().await.unwrap();
            super::long_query_is_cancelled_on_the_server(&t).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn exhausted_pool() {
            let t = crate::support::sqlite().await.unwrap();
            super::exhausted_pool_times_out_and_advises(&t).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn leak_report() {
            let t = crate::support::sqlite().await.unwrap();
            super::leaked_connection_is_reported(&t).await;
        }
    }

    macro_rules! server_scenarios {
        ($name:ident, $setup:path, $engine:literal) => {
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn long_query_is_cancelled() {
                    let Some(t) = $setup().await else { return };
                    super::long_query_is_cancelled_on_the_server(&t).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn breaker_under_a_cut_path() {
                    let Some(t) = $setup().await else { return };
                    super::breaker_opens_and_recovers($engine, &t).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn exhausted_pool() {
                    let Some(t) = $setup().await else { return };
                    super::exhausted_pool_times_out_and_advises(&t).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn leak_report() {
                    let Some(t) = $setup().await else { return };
                    super::leaked_connection_is_reported(&t).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn acknowledged_writes_under_kills() {
                    let Some(t) = $setup().await else { return };
                    super::acknowledged_writes_survive_kills(&t).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn row_and_history_under_kills() {
                    let Some(t) = $setup().await else { return };
                    super::row_and_history_survive_kills(&t).await;
                }
            }
        };
    }

    server_scenarios!(postgres, crate::support::postgres, "postgres");
    server_scenarios!(mysql, crate::support::mysql, "mysql");
}
