//! A TCP relay between the service and its database, with a switch: when it
//! is turned off, every relayed connection is closed and new ones are closed
//! as soon as they are accepted (the port stays the same, so the service's
//! URL does not change); turned on again, it relays new connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Relay {
    pub addr: SocketAddr,
    up: watch::Sender<bool>,
    /// Connections being relayed.
    live: Arc<AtomicUsize>,
    accept: JoinHandle<()>,
}

impl Relay {
    /// Listen on an ephemeral port of 127.0.0.1 and relay to `upstream`.
    pub async fn start(upstream: String, up: bool) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let addr = listener.local_addr().expect("relay address");
        let (tx, _) = watch::channel(up);
        let switch = tx.clone();
        let live = Arc::new(AtomicUsize::new(0));
        let counter = live.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !*switch.borrow() {
                    continue; // dropped: closed at once
                }
                let upstream = upstream.clone();
                let mut state = switch.subscribe();
                let live = counter.clone();
                live.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            // switched off (or the relay dropped): both sides closed
                            _ = state.wait_for(|up| !*up) => {}
                        }
                    }
                    drop(client); // closed before it stops counting as live
                    live.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Relay {
            addr,
            up: tx,
            live,
            accept,
        }
    }

    /// Turn the database on or off for the service. Switching off returns
    /// once every relayed connection is closed.
    pub async fn set_up(&self, up: bool) {
        self.up.send_replace(up);
        let start = Instant::now();
        while !up && self.live.load(Ordering::SeqCst) > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "relayed connections still open"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        self.up.send_replace(false);
    }
}
