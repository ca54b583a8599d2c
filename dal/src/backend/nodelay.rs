//! `TCP_NODELAY` for server connections.
//!
//! sqlx 0.9 connects with Tokio's default socket options, leaving Nagle's
//! algorithm on. A statement written in more than one segment (large statements,
//! TLS records) then waits for the server's delayed ACK: ~40 ms stalls measured on
//! bulk inserts and, now and then, on point queries. sqlx gives no access to its
//! socket, so after each connect dal finds the process's TCP sockets whose peer is
//! the database server and sets `TCP_NODELAY` on them (Linux: `/proc/self/fd`).
//! Touching a socket that is already set, or one that closed meanwhile, is harmless.

use std::net::SocketAddr;

/// Resolve the server's addresses once (for matching sockets to it).
pub(crate) async fn resolve(host: &str, port: u16) -> Vec<SocketAddr> {
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => addrs.collect(),
        Err(_) => Vec::new(),
    }
}

/// Set `TCP_NODELAY` on every TCP socket of this process connected to one of `peers`.
#[cfg(target_os = "linux")]
pub(crate) fn set_for_peers(peers: &[SocketAddr]) {
    if peers.is_empty() {
        return;
    }
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    for entry in dir.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<libc::c_int>().ok())
        else {
            continue;
        };
        match std::fs::read_link(entry.path()) {
            Ok(target) if target.to_string_lossy().starts_with("socket:") => {}
            _ => continue,
        }
        if peer_of(fd).is_some_and(|p| peers.contains(&p)) {
            let one: libc::c_int = 1;
            // SAFETY: plain FFI on an fd number with a pointer to a live local; an
            // fd that was closed or reused meanwhile only makes the call fail.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_NODELAY,
                    (&one as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn set_for_peers(_peers: &[SocketAddr]) {}

#[cfg(target_os = "linux")]
fn peer_of(fd: libc::c_int) -> Option<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    // SAFETY: `sockaddr_storage` is plain data, zeroed is a valid value; the kernel
    // writes at most `len` bytes into it.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: pointers to live locals of the right size.
    let r = unsafe {
        libc::getpeername(
            fd,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return None;
    }
    match storage.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let a: &libc::sockaddr_in =
                unsafe { &*(&storage as *const _ as *const libc::sockaddr_in) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let a: &libc::sockaddr_in6 =
                unsafe { &*(&storage as *const _ as *const libc::sockaddr_in6) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sets_nodelay_on_sockets_to_the_peer() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _server = listener.accept().await.unwrap();
        assert!(!client.nodelay().unwrap());
        set_for_peers(&resolve("127.0.0.1", addr.port()).await);
        assert!(client.nodelay().unwrap());
    }
}
