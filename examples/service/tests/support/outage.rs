//! A TCP relay between the service and its database, with a switch: when it
//! is turned off, every relayed connection is closed and new ones are closed
//! as soon as they are accepted (the port stays the same, so the service's
//! URL does not change); turned on again, it relays new connections.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Relay {
    pub addr: SocketAddr,
    up: watch::Sender<bool>,
    accept: JoinHandle<()>,
}

impl Relay {
    /// Listen on an ephemeral port of 127.0.0.1 and relay to `upstream`.
    pub async fn start(upstream: String, up: bool) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let addr = listener.local_addr().expect("relay address");
        let (tx, _) = watch::channel(up);
        let switch = tx.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !*switch.borrow() {
                    continue; // dropped: closed at once
                }
                let upstream = upstream.clone();
                let mut state = switch.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        // switched off (or the relay dropped): both sides closed
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Relay {
            addr,
            up: tx,
            accept,
        }
    }

    /// Turn the database on or off for the service.
    pub fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        self.up.send_replace(false);
    }
}
