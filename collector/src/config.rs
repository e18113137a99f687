//! The one `Config` type. Every setting comes, in order of precedence, from
//! a command-line flag, a `PALAUTE_*` environment variable named after it,
//! the TOML config file (`--config`), or its default. See
//! `palaute.example.toml` for every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{AppError, Result};

/// Which store keeps the page views.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// The embedded SQLite store under `data`.
    #[default]
    Sqlite,
    /// A ClickHouse server at `clickhouse_url`.
    Clickhouse,
}

/// Collector configuration.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Data directory of the embedded store.
    pub data: PathBuf,
    /// Which store to use.
    pub store: StoreKind,
    /// ClickHouse HTTP interface URL.
    pub clickhouse_url: String,
    /// ClickHouse database (created if missing).
    pub clickhouse_database: String,
    /// Directory with `dist/` (the built client), `demo/` and `dashboard/`;
    /// found beside the binary or in the working directory when unset.
    pub www: Option<PathBuf>,
    /// Serve the demo pages under `/demo/`.
    pub demo: bool,
    /// Leaving within this long after a slow load is a slow bounce, ms.
    pub slow_bounce_dwell_ms: f64,
    /// Beacons waiting to be stored before ingest answers 503.
    pub ingest_queue: usize,
    /// Most beacons per commit.
    pub ingest_batch: usize,
    /// A beacon body must arrive whole within this long (ms), or the
    /// request is answered 400: a slow sender cannot hold a connection open.
    pub ingest_body_timeout_ms: u64,
    /// A request head must arrive within this long (ms), and so must the
    /// next one on a kept-alive connection, or the connection is closed.
    pub header_timeout_ms: u64,
    /// A response the client takes nothing of for this long (ms: an HTTP/2
    /// stream whose window stays 0, a client that stops reading) closes its
    /// connection.
    pub send_timeout_ms: u64,
    /// Most concurrent streams of one HTTP/2 connection.
    pub h2_max_streams: u32,
    /// Most connections at once (lowered to fit the open-file limit); at the
    /// cap the connection idle longest is closed to make room.
    pub max_connections: usize,
    /// On shutdown, how long requests in flight may take (ms) before their
    /// connections are closed.
    pub shutdown_grace_ms: u64,
    /// Most analyst API requests (queries, exports) answered at once; past
    /// it a request is answered 503 at once. An export counts until its
    /// last byte is sent.
    pub max_api_requests: usize,
    /// Beacons per second one client (IP address, IPv6 /64) may send after
    /// its burst; 0 turns rate limiting off.
    pub rate_limit_per_second: u32,
    /// Beacons a client may send at once before the rate applies.
    pub rate_limit_burst: u32,
    /// Take the client address for rate limiting from `X-Forwarded-For`:
    /// only behind a reverse proxy that sets it.
    pub trust_forwarded_for: bool,
    /// Answer beacons from crawlers and headless browsers `204` without
    /// storing them.
    pub drop_bots: bool,
    /// Largest size of the embedded store in MiB (0: no limit). When full,
    /// ingest answers 503 and reads keep working.
    pub max_store_mb: u64,
    /// How often hours whose page views changed are rolled up, ms (0: never;
    /// every answer then reads raw rows).
    pub rollup_interval_ms: u64,
    /// An hour changed again after its rollup (beacons dated in a past
    /// hour) is rolled up again at most once per this many ms; meanwhile it
    /// is answered from raw rows.
    pub rollup_rebuild_gap_ms: u64,
    /// Unhappy commented answers are gathered this long (ms) into one alert
    /// per site and hook.
    pub alert_batch_ms: u64,
    /// Alert webhooks (`[[alerts]]` with `site`, `url`, `format`), beside
    /// those added with `alert add`.
    pub alerts: Vec<crate::store::AlertHook>,
    /// Declared route patterns (`[[routes]]` with `site` and `pattern`,
    /// such as `/products/:id`): the first that matches a page view's path
    /// is its route, unless the page named one (see `routes`).
    pub routes: Vec<crate::routes::RouteRule>,
    /// How often sites with hooks are checked for an outage or slowdown, ms
    /// (0: never).
    pub outage_check_ms: u64,
    /// The recent window judged against the site's previous 24 hours, ms.
    pub outage_window_ms: u64,
    /// Page views a window needs before it is judged.
    pub outage_min_views: u64,
    /// Distinct clients (IP address, IPv6 /64; in memory only) that must
    /// report a window's signal before it opens an incident.
    pub outage_min_clients: usize,
    /// How often sites with hooks are checked for a release that made a
    /// measure worse, ms (0: never).
    pub regression_check_ms: u64,
    /// Page views the latest release needs before it is compared with the
    /// release before (once).
    pub regression_min_views: u64,
    /// The collector's address as the site owner reaches it, for links in
    /// alerts (default: `http://` and the `listen` address).
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("palaute-data"),
            store: StoreKind::Sqlite,
            clickhouse_url: "http://127.0.0.1:8123".into(),
            clickhouse_database: "palaute".into(),
            www: None,
            demo: false,
            slow_bounce_dwell_ms: palaute::vitals::leave::DEFAULT_SLOW_BOUNCE_DWELL_MS,
            ingest_queue: 20_000,
            ingest_batch: 2_000,
            ingest_body_timeout_ms: 10_000,
            header_timeout_ms: 10_000,
            send_timeout_ms: 60_000,
            h2_max_streams: 128,
            max_connections: 10_000,
            shutdown_grace_ms: 10_000,
            max_api_requests: 16,
            rate_limit_per_second: 100,
            rate_limit_burst: 500,
            trust_forwarded_for: false,
            drop_bots: true,
            max_store_mb: 0,
            rollup_interval_ms: 10_000,
            rollup_rebuild_gap_ms: 300_000,
            alert_batch_ms: 5_000,
            alerts: Vec::new(),
            routes: Vec::new(),
            outage_check_ms: 30_000,
            outage_window_ms: 300_000,
            outage_min_views: 20,
            outage_min_clients: 3,
            regression_check_ms: 60_000,
            regression_min_views: 1_000,
            public_url: None,
        }
    }
}

impl Config {
    /// The dashboard's address, for links in alerts.
    pub fn dashboard_url(&self) -> String {
        let base = self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen));
        format!("{}/dashboard/", base.trim_end_matches('/'))
    }

    /// Reads a TOML config file.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AppError::Invalid(format!("cannot read config {}: {e}", path.display())))?;
        Self::from_toml(&text).map_err(|e| AppError::Invalid(format!("config {}: {e}", path.display())))
    }

    /// Parses TOML config text.
    pub fn from_toml(text: &str) -> std::result::Result<Config, toml::de::Error> {
        toml::from_str(text)
    }

    /// The `www` directory: the configured one, else the first of
    /// `<binary dir>/www`, `./www` and the source tree's `www` that holds a
    /// built client.
    pub fn www_dir(&self) -> PathBuf {
        if let Some(dir) = &self.www {
            return dir.clone();
        }
        let beside_binary = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|d| d.join("www")));
        let candidates = beside_binary
            .into_iter()
            .chain([PathBuf::from("www"), Path::new(env!("CARGO_MANIFEST_DIR")).join("../www")]);
        let candidates: Vec<PathBuf> = candidates.collect();
        candidates
            .iter()
            .find(|dir| dir.join("dist/palaute.js").is_file())
            .or_else(|| candidates.iter().find(|dir| dir.is_dir()))
            .cloned()
            .unwrap_or_else(|| PathBuf::from("www"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key_and_rejects_unknown_ones() {
        let config = Config::from_toml(
            r#"
            listen = "0.0.0.0:9000"
            data = "/var/lib/palaute"
            store = "clickhouse"
            clickhouse_url = "http://ch:8123"
            demo = true
            slow_bounce_dwell_ms = 5000
            "#,
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.store, StoreKind::Clickhouse);
        assert_eq!(config.slow_bounce_dwell_ms, 5000.0);
        assert!(config.demo);
        assert!(Config::from_toml("lisen = \"x\"").is_err());
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }

    #[test]
    fn the_example_file_is_valid() {
        let text = include_str!("../palaute.example.toml");
        Config::from_toml(text).unwrap();
    }
}
