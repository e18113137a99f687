//! Test helpers: a real collector on a real socket with a fresh data
//! directory, and a raw HTTP/1.1 client that can also send malformed requests.

#![allow(dead_code)]

pub mod clickhouse;
pub mod receiver;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use palaute_collector::config::{Config, StoreKind};
use palaute_collector::sites::{hash_token, new_token};
use palaute_collector::store::{Site, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// The origin test beacons come from.
pub const ORIGIN: &str = "https://shop.example";

/// A desktop Chrome user agent.
pub const BROWSER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36";

/// Where a test collector keeps page views.
#[derive(Clone, Copy)]
pub enum Backend<'a> {
    /// The embedded SQLite store.
    Embedded,
    /// A ClickHouse server of the test.
    ClickHouse(&'a clickhouse::ClickHouseServer),
}

/// A collector serving on 127.0.0.1 with one registered site, `shop`.
pub struct Collector {
    pub addr: SocketAddr,
    pub token: String,
    pub data: tempfile::TempDir,
    /// The configuration it runs with.
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Collector {
    pub async fn start() -> Collector {
        Self::start_with(Config::default()).await
    }

    /// Like [`start`](Self::start), with `config` (its data directory is replaced).
    pub async fn start_with(config: Config) -> Collector {
        Self::start_on(Backend::Embedded, config).await
    }

    /// Like [`start_with`](Self::start_with), storing page views in `backend`.
    pub async fn start_on(backend: Backend<'_>, config: Config) -> Collector {
        let data = tempfile::tempdir().unwrap();
        let mut config = Config { data: data.path().to_path_buf(), ..config };
        if let Backend::ClickHouse(server) = backend {
            config.store = StoreKind::Clickhouse;
            config.clickhouse_url = server.url();
            config.clickhouse_database = format!("test_{}", &new_token().unwrap()[..12].to_ascii_lowercase());
            config.clickhouse_database.retain(|c| c.is_ascii_alphanumeric() || c == '_');
        }
        let store: Arc<dyn Store> = palaute_collector::open_store(&config, &Default::default()).await.unwrap();
        let token = new_token().unwrap();
        store
            .put_site(Site {
                id: "shop".into(),
                origins: vec![ORIGIN.into()],
                token_hash: hash_token(&token),
                created_at: 0,
                feedback_scale: "thumbs".into(),
            })
            .await
            .unwrap();
        store.close().await;
        Self::serve(config, data, token).await
    }

    async fn serve(config: Config, data: tempfile::TempDir, token: String) -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let running = config.clone();
        let server = tokio::spawn(async move {
            palaute_collector::run(listener, running, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Collector { addr, token, data, config, stop: Some(stop), server: Some(server) }
    }

    /// Stops the collector and starts a new one on the same data and store.
    pub async fn restart(mut self) -> Collector {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
        let data = tempfile::TempDir::new().unwrap();
        let data = std::mem::replace(&mut self.data, data);
        Self::serve(self.config.clone(), data, self.token.clone()).await
    }

    /// Rolls up every changed hour that is over, through a second handle on
    /// the collector's store (as a second process would); returns how many.
    /// On ClickHouse, first waits until what was acknowledged is shipped and
    /// its changes are settled (a change is built once it is 2 s old).
    pub async fn roll_up(&self) -> usize {
        if self.config.store == palaute_collector::config::StoreKind::Clickhouse {
            self.settled().await;
            tokio::time::sleep(Duration::from_millis(3100)).await;
        }
        let store: Arc<dyn Store> = palaute_collector::open_store(&self.config, &Default::default()).await.unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        let hours = palaute_collector::rollup::build::catch_up(&store, now).await.unwrap();
        store.close().await;
        hours
    }

    /// Waits until every acknowledged beacon is where queries read it (the
    /// ClickHouse store ships its spool in the background).
    pub async fn settled(&self) {
        let started = std::time::Instant::now();
        while self.metric("palaute_ingest_queue_depth").await != Some(0.0) {
            assert!(started.elapsed() < Duration::from_secs(60), "beacons still queued after 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends raw bytes and returns the status code and body of the answer.
    pub async fn raw(&self, request: &[u8]) -> (u16, String) {
        self.raw_then(request, false).await
    }

    /// Sends raw bytes and returns the whole answer: status line, headers, body.
    pub async fn raw_response(&self, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        let _ = stream.write_all(request).await;
        let mut response = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), read_until_closed(&mut stream, &mut response)).await;
        String::from_utf8_lossy(&response).to_string()
    }

    /// Like [`raw`](Self::raw), but closes the sending side after the
    /// request, as a client that gives up mid-body does.
    pub async fn raw_then(&self, request: &[u8], close_sending: bool) -> (u16, String) {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        // The server may answer (413) and close before a huge body is sent.
        let _ = stream.write_all(request).await;
        if close_sending {
            let _ = stream.shutdown().await;
        }
        let mut response = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), read_until_closed(&mut stream, &mut response)).await;
        let text = String::from_utf8_lossy(&response).to_string();
        let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    }

    /// `POST /b` with `body` from the test origin and a desktop browser.
    pub async fn beacon(&self, body: &str) -> (u16, String) {
        self.beacon_with(body, &format!("User-Agent: {BROWSER_UA}\r\n")).await
    }

    /// `POST /b` with `body` from the test origin and extra `headers`
    /// (each ending in CRLF).
    pub async fn beacon_with(&self, body: &str, headers: &str) -> (u16, String) {
        let request = format!(
            "POST /b HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nContent-Type: text/plain;charset=UTF-8\r\n\
             {headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        self.raw(request.as_bytes()).await
    }

    /// The value of metric line `name` (with labels) in `/metrics`.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let (_, text) = self.get("/metrics", None).await;
        let line = text.lines().find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))?;
        line.rsplit(' ').next()?.parse().ok()
    }

    /// `GET path` with `token` (if any) as bearer.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n");
        let (status, body) = self.raw(request.as_bytes()).await;
        (status, dechunk(&body))
    }

    /// The site's export as parsed NDJSON rows.
    pub async fn export(&self) -> Vec<serde_json::Value> {
        let (status, body) = self.get("/api/v1/sites/shop/pageviews?format=ndjson", Some(&self.token)).await;
        assert_eq!(status, 200, "{body}");
        body.lines().filter(|l| !l.is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
    }
}

/// Reads into `out` until the peer closes or resets the connection, keeping
/// what arrived before a reset.
async fn read_until_closed(stream: &mut TcpStream, out: &mut Vec<u8>) {
    let mut buffer = [0u8; 8192];
    while let Ok(n @ 1..) = stream.read(&mut buffer).await {
        out.extend_from_slice(&buffer[..n]);
    }
}

/// Decodes a `Transfer-Encoding: chunked` body (plain bodies pass through).
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else {
            return body.to_string();
        };
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_string();
        };
        if size == 0 || after.len() < size {
            return out;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
}

/// A valid beacon for page view `id` with sequence `seq`.
pub fn beacon(id: &str, seq: u32) -> String {
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    format!(
        r#"{{"v":1,"site":"shop","id":"{id}","seq":{seq},"url":"/cart?step=2#top","start":{start},
            "nav_type":"navigate","ttfb_ms":120.5,"fcp_ms":800,"lcp_ms":1900,"load_ms":2100,"left_at_ms":5000,
            "tags":{{"ab":"b"}}}}"#
    )
}

/// Whether the server closed `stream` (end of stream or reset) within `wait`.
pub async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// `config` without the per-client rate limit (tests send from one address).
pub fn quick(config: Config) -> Config {
    Config { rate_limit_per_second: 0, ..config }
}
