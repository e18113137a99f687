//! A webhook receiver on 127.0.0.1 that records every request and answers
//! 204, or a status the test sets: where a test's alerts are delivered.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the receiver saw: (path, status it answered, body) per request.
pub type Seen = Arc<Mutex<Vec<(String, u16, String)>>>;

/// Starts a receiver that answers 204; its base URL and what it saw.
pub async fn start() -> (String, Seen) {
    answering(Arc::new(Mutex::new(204))).await
}

/// Starts a receiver that answers `status` (shared: the test changes it).
pub async fn answering(status: Arc<Mutex<u16>>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let (record, status) = (record.clone(), status.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = socket.read(&mut buffer).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..n]);
                    if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&request[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()))
                            .unwrap_or(0);
                        break (end + 4, length);
                    }
                };
                while request.len() < head_end + length {
                    let n = socket.read(&mut buffer).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buffer[..n]);
                }
                let head = String::from_utf8_lossy(&request[..head_end]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or_default().to_string();
                let body = String::from_utf8_lossy(&request[head_end..]).to_string();
                let answer = *status.lock().unwrap();
                record.lock().unwrap().push((path, answer, body));
                let reply = format!("HTTP/1.1 {answer} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

/// Waits (up to 30 s) until `check` holds on what `seen` holds.
pub async fn until(seen: &Seen, what: &str, check: impl Fn(&[(String, u16, String)]) -> bool) {
    for _ in 0..600 {
        if check(&seen.lock().unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}: {:?}", seen.lock().unwrap());
}
