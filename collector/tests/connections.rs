//! The server's bounds through the real socket: request heads that never
//! finish, idle keep-alive connections, a flood of idle sockets at the
//! connection cap, every connection busy, and a shutdown with a request
//! still arriving.

mod common;

use std::time::{Duration, Instant};

use common::{closed_within, quick, Collector};
use palaute_collector::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Connections the server on `port` holds open: its ends of established
/// TCP connections (`/proc/net/tcp`: local port `port`, state 01).
fn established_to(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            columns.len() > 3 && columns[1].ends_with(&local) && columns[3] == "01"
        })
        .count()
}

#[tokio::test]
async fn request_heads_that_never_finish_and_idle_keep_alive_connections_are_closed() {
    let config = quick(Config { header_timeout_ms: 1_000, ..Config::default() });
    let collector = Collector::start_with(config).await;
    let mut unfinished = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(collector.addr).await.unwrap();
        stream.write_all(b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n").await.unwrap();
        unfinished.push(stream);
    }
    let started = Instant::now();
    for stream in &mut unfinished {
        assert!(closed_within(stream, Duration::from_secs(4)).await, "a head that never finishes is closed");
    }
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());

    // A kept-alive connection, idle after its answer, is closed too.
    let mut kept = TcpStream::connect(collector.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut answer = [0u8; 256];
    let n = kept.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    assert!(closed_within(&mut kept, Duration::from_secs(4)).await, "an idle keep-alive connection is closed");
    let timeouts = collector.metric("palaute_connections_closed_total{reason=\"header_timeout\"}").await;
    assert!(timeouts.is_some_and(|n| n >= 51.0), "{timeouts:?}");
    collector.stop().await;
}

#[tokio::test]
async fn at_the_cap_idle_sockets_make_room_and_healthz_and_beacons_still_get_through() {
    let config = quick(Config { max_connections: 100, header_timeout_ms: 60_000, ..Config::default() });
    let collector = Collector::start_with(config).await;
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(collector.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The server keeps at most its cap open; the others it closed.
    let served = established_to(collector.addr.port());
    assert!(served <= 100, "{served} connections open on the server, over its cap of 100");
    let started = Instant::now();
    assert_eq!(collector.get("/healthz", None).await.0, 200);
    let (status, body) = collector.beacon(&common::beacon("capped-0000000001", 1)).await;
    assert_eq!(status, 204, "{body}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    let evicted = collector.metric("palaute_connections_closed_total{reason=\"evicted_at_cap\"}").await;
    assert!(evicted.is_some_and(|n| n >= 200.0), "{evicted:?}");

    // The soft limit on open files was raised to the hard one.
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct passed.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
    assert_eq!(limit.rlim_cur, limit.rlim_max);
    drop(idle);
    collector.stop().await;
}

/// A `POST /b` whose body is still arriving: a request in flight.
async fn arriving_body(collector: &Collector) -> TcpStream {
    let mut stream = TcpStream::connect(collector.addr).await.unwrap();
    let head = format!(
        "POST /b HTTP/1.1\r\nHost: x\r\nOrigin: {}\r\nUser-Agent: {}\r\nContent-Length: 1000\r\n\r\n{{\"v\":1,",
        common::ORIGIN,
        common::BROWSER_UA
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn when_every_connection_is_busy_a_new_one_is_refused_and_counted() {
    let config = quick(Config { max_connections: 20, ingest_body_timeout_ms: 30_000, ..Config::default() });
    let collector = Collector::start_with(config).await;
    let mut busy = Vec::new();
    for _ in 0..20 {
        busy.push(arriving_body(&collector).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut refused = TcpStream::connect(collector.addr).await.unwrap();
    let _ = refused.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(closed_within(&mut refused, Duration::from_secs(2)).await, "refused at the cap");
    drop(busy);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(collector.get("/healthz", None).await.0, 200, "served again once there is room");
    let refusals = collector.metric("palaute_connections_closed_total{reason=\"refused_at_cap\"}").await;
    assert!(refusals.is_some_and(|n| n >= 1.0), "{refusals:?}");
    collector.stop().await;
}

#[tokio::test]
async fn shutdown_waits_for_requests_in_flight_only_as_long_as_its_grace() {
    let config = quick(Config { shutdown_grace_ms: 500, ingest_body_timeout_ms: 30_000, ..Config::default() });
    let collector = Collector::start_with(config).await;
    let mut half_sent = arriving_body(&collector).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let stopped = tokio::time::timeout(Duration::from_secs(5), collector.stop()).await;
    assert!(stopped.is_ok(), "the shutdown did not finish within 5 s");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(closed_within(&mut half_sent, Duration::from_secs(1)).await, "the unfinished request's connection closed");
}
