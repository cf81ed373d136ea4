//! The service's TCP connections to PostgreSQL and Redis send at once (TCP_NODELAY): with Nagle
//! on, a message written in two parts waits for the server's delayed ACK, ~40 ms on Linux, so
//! every such statement cost 40 ms more (sqlx-core 0.9.0 dropped the option: vendor/README.md;
//! the redis crate leaves it off). Read off this process's own sockets, not timed.

use std::os::fd::{BorrowedFd, RawFd};

use epermit_tests::spawn_app;
use secrecy::ExposeSecret;
use socket2::SockRef;

/// The TCP port a `postgres://` or `redis://` URL reaches, or `None` for a Unix socket.
fn tcp_port(url: &str, default: u16) -> Option<u16> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let over_socket = parsed
        .query_pairs()
        .any(|(k, v)| k == "host" && v.starts_with('/'));
    (!over_socket && parsed.has_host()).then(|| parsed.port().unwrap_or(default))
}

/// For each TCP socket of this process connected to `port`: whether it has TCP_NODELAY.
fn nodelay_of_sockets_to(port: u16) -> Vec<bool> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd") {
        let Ok(entry) = entry else { continue };
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<RawFd>().ok())
        else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor is only borrowed for getpeername and getsockopt within this
        // iteration. Another thread may close it meanwhile; then both calls fail with EBADF (or
        // ask a socket that reused the number, which is as good a sample) and it is skipped.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = SockRef::from(&fd);
        let peer = socket.peer_addr().ok().and_then(|a| a.as_socket());
        if peer.is_some_and(|p| p.port() == port)
            && let Ok(nodelay) = socket.tcp_nodelay()
        {
            found.push(nodelay);
        }
    }
    found
}

#[actix_web::test]
async fn database_and_redis_connections_send_without_waiting_for_an_ack() {
    let app = spawn_app().await;
    if app.backend() != "postgres" {
        return; // SQLite is a file and the in-process store has no connection.
    }
    // A log-in writes to the database and keeps its code in Redis: both pools hold connections.
    app.resident_token("13900001520").await;
    let settings = &app.state.settings;
    let database = tcp_port(settings.database_url().expose_secret(), 5432);
    let redis = settings
        .redis_url
        .as_ref()
        .and_then(|url| tcp_port(url.expose_secret(), 6379));
    for (what, port) in [("PostgreSQL", database), ("Redis", redis)] {
        let Some(port) = port else { continue };
        let sockets = nodelay_of_sockets_to(port);
        assert!(
            !sockets.is_empty(),
            "no TCP connection to {what} (port {port}) found"
        );
        assert!(
            sockets.iter().all(|&nodelay| nodelay),
            "{} of {} connections to {what} (port {port}) have Nagle on (TCP_NODELAY unset)",
            sockets.iter().filter(|&&n| !n).count(),
            sockets.len()
        );
    }
}
