//! The real binary under load: killed with SIGKILL or stopped with SIGTERM
//! during a wrk burst of `POST /b`, or sharing its data directory with admin
//! commands run beside it, then restarted on the same data. Every beacon that
//! was answered 204 must be in the store.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ORIGIN: &str = "https://shop.example";

/// A collector process serving `data` on a free loopback port.
struct Server {
    child: Child,
    addr: String,
}

/// A `Transfer-Encoding: chunked` body's content (its chunks may end
/// anywhere, mid-line too).
fn dechunked(mut body: &str) -> String {
    let mut content = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        content.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    content
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_palaute-collector"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("RUST_LOG", "warn")
            .env("PALAUTE_CONFIG", config_without_rate_limit(data))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line}")).to_string();
        Server { child, addr }
    }

    fn get(&self, path: &str, token: &str) -> String {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        response
    }

    /// Ids of the stored page views (read from the NDJSON export).
    fn stored_ids(&self, token: &str) -> Vec<String> {
        let response = self.get("/api/v1/sites/shop/pageviews?format=ndjson&from=2000-01-01", token);
        let body = dechunked(response.split_once("\r\n\r\n").unwrap().1);
        let ids: Vec<String> = body
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string())
            .collect();
        ids
    }

    /// How many page views the aggregates count (`summary`, folded from
    /// the raw rows apart from the export): a page view stored or counted
    /// twice shows here as one too many.
    fn counted(&self, token: &str) -> usize {
        let response = self.get("/api/v1/sites/shop/summary?from=2000-01-01", token);
        let body = response.split_once("\r\n\r\n").unwrap().1;
        serde_json::from_str::<serde_json::Value>(body).unwrap()["page_views"].as_u64().unwrap() as usize
    }

    /// Sends SIGTERM and waits (at most 15 s) for the drained exit.
    fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit within 15 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill").args(["-s", name, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The load comes from one address; the per-client limit would refuse most
/// of it, which is not what this test is about.
fn config_without_rate_limit(data: &Path) -> PathBuf {
    let path = data.with_extension("toml");
    std::fs::write(&path, "rate_limit_per_second = 0\n").unwrap();
    path
}

fn add_site(data: &Path) -> String {
    admin(data, &["site", "add", "shop", "--origin", ORIGIN]).lines().last().unwrap().to_string()
}

/// Starts wrk with one connection per thread (so each answer is matched to
/// its beacon) recording acknowledged ids under `acks`.
fn start_wrk(addr: &str, acks: &Path, seconds: u32) -> Child {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/load/beacon.lua");
    Command::new("wrk")
        .args(["-t4", "-c4", &format!("-d{seconds}s"), "--timeout", "2s", "-s"])
        .arg(script)
        .arg(format!("http://{addr}/b"))
        .env("ACK_DIR", acks)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wrk (apt install wrk; scripts/setup.sh installs it)")
}

fn acknowledged(acks: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(acks).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        ids.extend(text.lines().filter(|l| l.len() == 32).map(str::to_string));
    }
    ids
}

/// Waits until wrk has recorded at least `count` acknowledgements.
fn wait_for_acks(acks: &Path, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while acknowledged(acks).len() < count {
        assert!(Instant::now() < deadline, "wrk got fewer than {count} acknowledgements");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Compares the acknowledged ids with the stored ones, and the page views
/// the aggregates count with the distinct ids stored, and prints the table.
fn assert_nothing_acknowledged_is_lost(case: &str, acked: &[String], (stored, counted): &(Vec<String>, usize)) {
    let stored_set: HashSet<&String> = stored.iter().collect();
    let lost = acked.iter().filter(|id| !stored_set.contains(id)).count();
    let duplicates = (stored.len() - stored_set.len()) + counted.saturating_sub(stored_set.len());
    println!(
        "{case}: acknowledged {}, stored {}, stored without a 204 (in flight at the stop) {}, duplicates {duplicates}, lost {lost}",
        acked.len(),
        stored.len(),
        stored.len() - (acked.len() - lost),
    );
    assert_eq!(lost, 0, "{case}: acknowledged beacons missing from the store");
    assert_eq!(duplicates, 0, "{case}: a page view stored or counted twice");
    assert_eq!(*counted, stored_set.len(), "{case}: the aggregates count every stored page view once");
}

/// A collector under a 3-second wrk burst that has acknowledged at least
/// 500 beacons.
struct Burst {
    root: tempfile::TempDir,
    token: String,
    server: Server,
    wrk: Child,
}

impl Burst {
    fn start() -> Burst {
        Self::start_for(3, 500)
    }

    /// A burst of `seconds` that has acknowledged at least `acknowledged`.
    fn start_for(seconds: u32, acknowledged: usize) -> Burst {
        let root = tempfile::tempdir().unwrap();
        let (data, acks) = (root.path().join("data"), root.path().join("acks"));
        std::fs::create_dir_all(&acks).unwrap();
        let token = add_site(&data);
        let server = Server::start(&data);
        let wrk = start_wrk(&server.addr, &acks, seconds);
        wait_for_acks(&acks, acknowledged);
        Burst { root, token, server, wrk }
    }

    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    fn acks(&self) -> PathBuf {
        self.root.path().join("acks")
    }

    /// Restarts the collector on the same data; returns the stored ids and
    /// how many page views the aggregates count.
    fn stored_after_restart(&self) -> (Vec<String>, usize) {
        let server = Server::start(&self.data());
        (server.stored_ids(&self.token), server.counted(&self.token))
    }
}

#[test]
fn sigkill_during_a_wrk_burst_loses_no_acknowledged_beacon() {
    let mut burst = Burst::start();
    burst.server.child.kill().unwrap(); // SIGKILL: no chance to flush anything
    burst.server.child.wait().unwrap();
    assert!(burst.wrk.wait().unwrap().success(), "wrk ran to its end");

    let acked = acknowledged(&burst.acks());
    let stored = burst.stored_after_restart();
    assert_nothing_acknowledged_is_lost("SIGKILL", &acked, &stored);
}

#[test]
fn sigterm_during_a_wrk_burst_drains_and_exits_cleanly() {
    let mut burst = Burst::start();
    let status = burst.server.terminate();
    assert!(status.success(), "a clean exit after draining: {status}");
    burst.wrk.wait().unwrap();

    let acked = acknowledged(&burst.acks());
    let stored = burst.stored_after_restart();
    assert_nothing_acknowledged_is_lost("SIGTERM", &acked, &stored);
    // A drained stop leaves nothing half-done: whatever was stored was answered.
    assert_eq!(stored.0.len(), acked.len(), "every stored beacon of a drained stop was acknowledged");
}

/// Runs an admin command of the real binary on `data`; its standard output.
/// Panics with its standard error unless it succeeds.
fn admin(data: &Path, args: &[&str]) -> String {
    let output =
        Command::new(env!("CARGO_BIN_EXE_palaute-collector")).args(args).arg("--data").arg(data).output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Admin commands (a report, a site added, generated page views: each a
/// process of its own that closes its last connection when it exits) run on
/// the data directory of a collector under a wrk burst. The store stays
/// whole and keeps every acknowledged beacon and every generated view.
///
/// The last connection of a process to close checkpoints the WAL and
/// deletes it when no other process holds a lock on the database. POSIX
/// locks belong to the process, and closing any descriptor of the file
/// drops them all: the collector once opened the database file outside
/// SQLite at start (a writability probe), held no lock from then on, and
/// went on writing into a WAL a command had deleted: acknowledged beacons
/// lost, then "database disk image is malformed".
#[test]
fn admin_commands_beside_a_live_collector_keep_the_store_whole() {
    let mut burst = Burst::start_for(6, 200);
    let data = burst.data();
    let generated = 3 * 400;
    for round in 0..3 {
        admin(&data, &["report", "--site", "shop"]);
        admin(&data, &["site", "add", &format!("other{round}"), "--origin", "https://other.example"]);
        let seed = (round + 7).to_string();
        admin(&data, &["generate", "--site", "shop", "--views", "400", "--days", "2", "--seed", &seed]);
    }
    assert!(burst.wrk.wait().unwrap().success(), "wrk ran to its end");
    let status = burst.server.terminate();
    assert!(status.success(), "a clean exit after draining: {status}");

    let database = rusqlite::Connection::open(data.join("palaute.db")).unwrap();
    let integrity: String = database.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(integrity, "ok", "the store after admin commands beside the collector");
    drop(database);

    let acked = acknowledged(&burst.acks());
    let stored = burst.stored_after_restart();
    assert_nothing_acknowledged_is_lost("admin commands beside", &acked, &stored);
    // Besides those: every generated view, and at most the 4 beacons wrk
    // had in flight when its time was up (stored, never answered to it).
    let unacknowledged = stored.0.len() - acked.len();
    assert!(
        (generated..=generated + 4).contains(&unacknowledged),
        "{unacknowledged} stored without a 204: the {generated} generated views and at most 4 in flight"
    );
}
