//! The store recovers from a data directory that became read-only and
//! writable again, without a restart; and says so at start when it is
//! read-only. With the real binary, as a user whom file permissions bind
//! (`nobody` through `setpriv` when the tests run as root, for whom
//! permissions are no obstacle).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ORIGIN: &str = "https://shop.example";
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The collector binary with `args`, as a user bound by file permissions.
fn collector(args: &[&str], data: &Path) -> Command {
    let binary = env!("CARGO_BIN_EXE_palaute-collector");
    let mut command = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid", &NOBODY.to_string(), "--regid", &NOBODY.to_string(), "--clear-groups", binary]);
        c
    } else {
        Command::new(binary)
    };
    command.args(args).arg("--data").arg(data).env("RUST_LOG", "warn");
    command
}

/// Makes the store's files read-only, or writable again (the directory
/// stays writable: SQLite then opens the database read-only, silently).
fn set_writable(dir: &Path, writable: bool) {
    let mode = if writable { 0o644 } else { 0o444 };
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

fn post(addr: &str, id: &str) -> String {
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let body = format!(r#"{{"v":1,"site":"shop","id":"{id}","seq":1,"url":"/","start":{start},"ttfb_ms":10}}"#);
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /b HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_store_read_only_at_start_warns_and_is_written_once_it_is_writable_without_a_restart() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir(&data).unwrap();
    if is_root() {
        std::os::unix::fs::chown(root.path(), Some(NOBODY), Some(NOBODY)).unwrap();
        std::os::unix::fs::chown(&data, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    let added = collector(&["site", "add", "shop", "--origin", ORIGIN], &data).output().unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    // Started while the store's files are read-only (a permissions slip, a
    // restore from a read-only copy): it says so, reads still work, and
    // beacons are answered 503.
    set_writable(&data, false);
    let mut child = collector(&["serve", "--listen", "127.0.0.1:0"], &data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line}")).to_string();
    let mut server = Running(child);
    let refused = post(&addr, "recover-000000002");
    assert!(refused.starts_with("HTTP/1.1 503") && refused.contains("readonly"), "{refused}");
    // Writable again: written within seconds, by the same process.
    set_writable(&data, true);
    let started = Instant::now();
    loop {
        let answer = post(&addr, "recover-000000003");
        if answer.starts_with("HTTP/1.1 204") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "still refused after the directory is writable: {answer}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = server.0.kill();
    let mut log = String::new();
    server.0.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("the store is not writable"), "a warning at start: {log}");
}
