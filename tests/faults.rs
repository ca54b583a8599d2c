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
        let fast = round_trip(&mut sock, b"before").await;
        assert!(fast < delay, "pass mode took {fast:?}");
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

        // ...and both are fast again in Pass mode.
        proxy.set_mode(Mode::Pass);
        for s in [&mut sock, &mut second] {
            let t = round_trip(s, b"after").await;
            assert!(t < delay, "pass mode took {t:?}");
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

        let started = Instant::now();
        proxy.set_mode(Mode::Reset);
        assert_reset(&mut existing).await;
        assert!(started.elapsed() < Duration::from_secs(1));
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
