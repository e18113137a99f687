//! A real `clickhouse-server` for tests: started on a temporary directory
//! and free ports, stopped (killed) when dropped. Needs the Debian package
//! `clickhouse-server` (installed by `scripts/setup.sh`).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running (or stopped) ClickHouse server of the test.
pub struct ClickHouseServer {
    dir: tempfile::TempDir,
    http_port: u16,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl ClickHouseServer {
    /// Starts a server and waits until it answers.
    pub async fn start() -> ClickHouseServer {
        let dir = tempfile::tempdir().unwrap();
        let (http_port, tcp_port) = (free_port(), free_port());
        let path = dir.path().display().to_string();
        std::fs::write(
            dir.path().join("config.xml"),
            format!(
                "<yandex>
  <logger><level>warning</level><log>{path}/server.log</log><errorlog>{path}/error.log</errorlog></logger>
  <http_port>{http_port}</http_port><tcp_port>{tcp_port}</tcp_port><listen_host>127.0.0.1</listen_host>
  <path>{path}/data/</path><tmp_path>{path}/tmp/</tmp_path><user_files_path>{path}/user_files/</user_files_path>
  <format_schema_path>{path}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config><default_profile>default</default_profile>
  <default_database>default</default_database><mark_cache_size>268435456</mark_cache_size>
</yandex>"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("users.xml"),
            "<yandex><profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
  <profile>default</profile><quota>default</quota></default></users><quotas><default></default></quotas></yandex>",
        )
        .unwrap();
        let mut server = ClickHouseServer { dir, http_port, child: None };
        server.resume().await;
        server
    }

    /// The HTTP interface's URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Starts the server again on the same data (after [`stop`](Self::stop)).
    pub async fn resume(&mut self) {
        let config = self.dir.path().join("config.xml");
        let child = Command::new("clickhouse-server")
            .arg(format!("--config-file={}", config.display()))
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("clickhouse-server is installed (scripts/setup.sh installs it)");
        self.child = Some(child);
        let started = Instant::now();
        while !self.answers().await {
            assert!(started.elapsed() < Duration::from_secs(60), "clickhouse-server did not start: see {}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the server at once, as a crash would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn answers(&self) -> bool {
        let ping = async {
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.http_port)).await.ok()?;
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            stream.write_all(b"GET /ping HTTP/1.0\r\n\r\n").await.ok()?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.ok()?;
            answer.ends_with("Ok.\n").then_some(())
        };
        tokio::time::timeout(Duration::from_secs(2), ping).await.ok().flatten().is_some()
    }

    /// Runs `sql` and returns the answer's text.
    pub async fn query(&self, sql: &str) -> String {
        let client = reqwest::Client::new();
        let response = client.post(self.url()).body(sql.to_string()).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{sql}: {text}");
        text
    }

    fn log(&self) -> String {
        self.dir.path().join("error.log").display().to_string()
    }
}

impl Drop for ClickHouseServer {
    fn drop(&mut self) {
        self.stop();
    }
}
