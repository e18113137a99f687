//! The command line: `serve`, `site add|list|remove`, `token rotate`,
//! `alert add|list|remove`, `release add|list`, `report`, `rollup`, `generate`, `export`,
//! `import`, each a function of its own. Flags override `PALAUTE_*`
//! variables, which override the config file. Failures are [`CliError`]s,
//! printed as plain sentences by `main`.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, StoreKind};
use crate::error::{AppError, Result};
use crate::model::now_ms;
use crate::sites::{hash_token, new_token, normalize_origin};
use crate::store::{AlertHook, Site, Store, DAY_MS, HOUR_MS};

/// palaute collector: ingests beacons, stores page views, serves the client,
/// the analyst API and the dashboard.
#[derive(Parser, Debug)]
#[command(name = "palaute-collector", version)]
pub struct Cli {
    /// Settings shared by every command.
    #[command(flatten)]
    pub common: CommonArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Args, Debug, Default)]
pub struct CommonArgs {
    /// TOML config file.
    #[arg(long, global = true, env = "PALAUTE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory of the embedded store.
    #[arg(long, global = true, env = "PALAUTE_DATA")]
    pub data: Option<PathBuf>,
    /// Store: sqlite (embedded) or clickhouse.
    #[arg(long, global = true, env = "PALAUTE_STORE")]
    pub store: Option<StoreKind>,
    /// ClickHouse HTTP URL.
    #[arg(long, global = true, env = "PALAUTE_CLICKHOUSE_URL")]
    pub clickhouse_url: Option<String>,
    /// ClickHouse database (created if missing).
    #[arg(long, global = true, env = "PALAUTE_CLICKHOUSE_DATABASE")]
    pub clickhouse_database: Option<String>,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Runs the collector's HTTP server.
    Serve(ServeArgs),
    /// Registers, lists and removes sites.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Manages analyst tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manages alert webhooks.
    #[command(subcommand)]
    Alert(AlertCommand),
    /// Records and lists deploy markers (releases).
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Prints a site's summary, worst pages and abandonment curve.
    Report {
        /// Site id.
        #[arg(long)]
        site: String,
        /// Start of the period: ISO-8601, or relative like 7d, 24h.
        #[arg(long, default_value = "7d")]
        since: String,
    },
    /// Rolls up now every changed hour and day that is over (serve does it
    /// in the background).
    Rollup,
    /// Writes synthetic page views into the store, for demos and benchmarks.
    Generate {
        /// Site id (register it with `site add` to read it through the API).
        #[arg(long)]
        site: String,
        /// How many page views.
        #[arg(long, default_value_t = 10_000)]
        views: u64,
        /// Spread over this many days up to now.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Random seed (the same seed writes the same page views).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Distinct paths: 0 for the demo's eight pages, else a shop's
        /// realistic mix (products by number with Zipf popularity, blog
        /// posts by slug, collections, search queries, fixed pages).
        #[arg(long, default_value_t = 0)]
        paths: usize,
        /// Spread over this many whole hours before the current one
        /// instead of `--days` up to now (all of them rolled up at once).
        #[arg(long)]
        hours: Option<u32>,
    },
    /// Writes a site's page views to standard output as NDJSON (the API's
    /// export format), oldest first: with `import`, moves a site between
    /// stores.
    Export {
        /// Site id.
        #[arg(long)]
        site: String,
        /// Start of the period: ISO-8601, or relative like 30d.
        #[arg(long, default_value = "1970-01-01T00:00:00Z")]
        since: String,
    },
    /// Reads page views in `export`'s NDJSON from standard input into the
    /// store; a page view already stored is kept (imports are idempotent).
    Import,
}

/// `serve` options.
#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PALAUTE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory with dist/, demo/ and dashboard/.
    #[arg(long, env = "PALAUTE_WWW")]
    pub www: Option<PathBuf>,
    /// Also serve the demo pages under /demo/.
    #[arg(long, env = "PALAUTE_DEMO")]
    pub demo: bool,
}

/// `site` subcommands.
#[derive(Subcommand, Debug)]
pub enum SiteCommand {
    /// Registers a site (or replaces its origins and token); prints its token last.
    Add {
        /// Site id, as in data-site.
        site: String,
        /// Origin allowed to send beacons; repeat for several.
        #[arg(long = "origin", required = true)]
        origins: Vec<String>,
        /// The feedback prompt's scale when the script tag has no
        /// `data-feedback-scale`: thumbs or five.
        #[arg(long, default_value = "thumbs")]
        feedback_scale: String,
    },
    /// Lists the registered sites.
    List,
    /// Removes a site (its page views stay).
    Remove {
        /// Site id.
        site: String,
    },
}

/// `alert` subcommands.
#[derive(Subcommand, Debug)]
pub enum AlertCommand {
    /// Adds a webhook for a site's alerts (new unhappy answers with a comment).
    Add {
        /// Site id.
        #[arg(long)]
        site: String,
        /// The webhook URL (http or https).
        #[arg(long)]
        url: String,
        /// `json` (a document with the page views) or `slack` (`{"text": ...}`).
        #[arg(long, default_value = "json")]
        format: String,
    },
    /// Lists the stored webhooks.
    List,
    /// Removes a webhook by id.
    Remove {
        /// Id, as `alert list` shows it.
        id: i64,
    },
}

/// `release` subcommands.
#[derive(Subcommand, Debug)]
pub enum ReleaseCommand {
    /// Records a deploy of a site (a release of the same name moves to the new time).
    Add {
        /// Site id.
        site: String,
        /// The release's name (a version, a git tag).
        name: String,
        /// When it went out: ISO-8601 or relative like 10m (default: now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Lists a site's deploy markers, oldest first.
    List {
        /// Site id.
        site: String,
    },
}

/// `token` subcommands.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Replaces a site's analyst token; prints the new one last.
    Rotate {
        /// Site id.
        site: String,
    },
}

impl Cli {
    /// The effective configuration: file, then environment and flags.
    pub fn config(&self) -> std::result::Result<Config, CliError> {
        let mut config = match &self.common.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if let Some(data) = &self.common.data {
            config.data = data.clone();
        }
        if let Some(store) = self.common.store {
            config.store = store;
        }
        if let Some(url) = &self.common.clickhouse_url {
            config.clickhouse_url = url.clone();
        }
        if let Some(database) = &self.common.clickhouse_database {
            config.clickhouse_database = database.clone();
        }
        if let Command::Serve(serve) = &self.command {
            if let Some(listen) = serve.listen {
                config.listen = listen;
            }
            if let Some(www) = &serve.www {
                config.www = Some(www.clone());
            }
            config.demo |= serve.demo;
        }
        Ok(config)
    }
}

/// What a command can fail with, said plainly (not as an HTTP answer).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag, an argument or the config file is not acceptable.
    #[error("{0}")]
    Usage(String),
    /// The site or hook named does not exist.
    #[error("no {0}")]
    Missing(String),
    /// The server's address cannot be listened on.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The store cannot be read or written now.
    #[error("the store cannot be used now: {0}")]
    Store(String),
    /// Anything else that failed.
    #[error("{0}")]
    Failed(String),
}

impl From<AppError> for CliError {
    fn from(error: AppError) -> CliError {
        match error {
            AppError::Invalid(message) => CliError::Usage(message),
            AppError::NotFound(what) => CliError::Missing(what),
            AppError::Unavailable(message) => CliError::Store(message),
            AppError::Internal(message) => CliError::Failed(message),
            other => CliError::Failed(other.to_string()),
        }
    }
}

/// What a command answers.
pub type CliResult = std::result::Result<(), CliError>;

/// Runs the command: `serve` until `shutdown` completes, any other on the
/// configured store, printing its output.
pub async fn execute(cli: Cli, shutdown: impl Future<Output = ()> + Send + 'static) -> CliResult {
    let config = cli.config()?;
    let store = || open(&config);
    match &cli.command {
        Command::Serve(_) => serve(config, shutdown).await,
        Command::Site(SiteCommand::Add { site, origins, feedback_scale }) => {
            site_add(&store().await?, site, origins, feedback_scale).await
        }
        Command::Site(SiteCommand::List) => site_list(&store().await?).await,
        Command::Site(SiteCommand::Remove { site }) => site_remove(&store().await?, site).await,
        Command::Token(TokenCommand::Rotate { site }) => token_rotate(&store().await?, site).await,
        Command::Alert(AlertCommand::Add { site, url, format }) => alert_add(&store().await?, site, url, format).await,
        Command::Alert(AlertCommand::List) => alert_list(&store().await?).await,
        Command::Alert(AlertCommand::Remove { id }) => alert_remove(&store().await?, *id).await,
        Command::Release(ReleaseCommand::Add { site, name, at }) => {
            release_add(&store().await?, site, name, at.as_deref()).await
        }
        Command::Release(ReleaseCommand::List { site }) => release_list(&store().await?, site).await,
        Command::Report { site, since } => report(&store().await?, site, since).await,
        Command::Rollup => rollup(&store().await?).await,
        Command::Generate { site, views, days, seed, paths, hours } => {
            let now = now_ms();
            let period = match hours {
                Some(hours) => {
                    let to = now - now.rem_euclid(HOUR_MS);
                    (to - i64::from(*hours) * HOUR_MS, to)
                }
                None => (now - i64::from(*days) * DAY_MS, now),
            };
            generate(&store().await?, site, *views, period, *seed, *paths).await
        }
        Command::Export { site, since } => Ok(crate::transfer::export(&store().await?, site, since).await?),
        Command::Import => Ok(crate::transfer::import(&store().await?).await?),
    }
}

/// The configured store, for a command other than `serve`.
async fn open(config: &Config) -> Result<Arc<dyn Store>> {
    crate::open_store(config, &crate::metrics::Metrics::new()).await
}

/// `serve`: binds, says where, and runs the collector until `shutdown`.
async fn serve(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> CliResult {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| CliError::Listen { address: config.listen, source })?;
    let address = listener.local_addr().map_err(|e| CliError::Failed(e.to_string()))?;
    tracing::info!(message = "palaute collector listening", %address, data = %config.data.display(), www = %config.www_dir().display());
    println!("listening on http://{address}");
    Ok(crate::run(listener, config, shutdown).await?)
}

/// Refuses a site id the collector would refuse in beacons.
fn check_site_id(site: &str) -> CliResult {
    if crate::ingest::validate::is_site_id(site) {
        return Ok(());
    }
    Err(CliError::Usage(format!("site id {site:?}: 1-64 characters of a-z, 0-9, _ - .")))
}

/// `site add`: registers the site (or replaces its origins and token) and
/// prints the new token alone on the last line.
async fn site_add(store: &Arc<dyn Store>, site: &str, origins: &[String], feedback_scale: &str) -> CliResult {
    if !matches!(feedback_scale, "thumbs" | "five") {
        return Err(CliError::Usage(format!("feedback scale {feedback_scale:?}: thumbs or five")));
    }
    check_site_id(site)?;
    let origins = origins.iter().map(|o| normalize_origin(o)).collect::<Result<Vec<_>>>()?;
    let token = new_token()?;
    let record = Site {
        id: site.to_string(),
        origins: origins.clone(),
        token_hash: hash_token(&token),
        created_at: now_ms(),
        feedback_scale: feedback_scale.to_string(),
    };
    store.put_site(record).await?;
    println!("site {site} registered for {}", origins.join(", "));
    println!("analyst token (shown once; keep it secret):");
    println!("{token}");
    Ok(())
}

/// `site list`: one line per site, tab-separated.
async fn site_list(store: &Arc<dyn Store>) -> CliResult {
    for site in store.sites().await? {
        let created = crate::model::format_time(site.created_at);
        println!("{}\t{}\t{}\t{}", site.id, site.origins.join(","), site.feedback_scale, created);
    }
    Ok(())
}

/// `site remove`: the site goes, its page views stay.
async fn site_remove(store: &Arc<dyn Store>, site: &str) -> CliResult {
    if !store.remove_site(site).await? {
        return Err(CliError::Missing(format!("site {site}")));
    }
    println!("site {site} removed");
    Ok(())
}

/// `token rotate`: a new analyst token, printed alone on the last line.
async fn token_rotate(store: &Arc<dyn Store>, site: &str) -> CliResult {
    let sites = store.sites().await?;
    let mut record =
        sites.into_iter().find(|s| s.id == site).ok_or_else(|| CliError::Missing(format!("site {site}")))?;
    let token = new_token()?;
    record.token_hash = hash_token(&token);
    store.put_site(record).await?;
    println!("new analyst token for {site} (the old one no longer works):");
    println!("{token}");
    Ok(())
}

/// `alert add`: a webhook for the site's alerts.
async fn alert_add(store: &Arc<dyn Store>, site: &str, url: &str, format: &str) -> CliResult {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(CliError::Usage(format!("url {url:?}: an http or https URL")));
    }
    if !matches!(format, "json" | "slack") {
        return Err(CliError::Usage(format!("format {format:?}: json or slack")));
    }
    let hook = AlertHook { id: 0, site: site.to_string(), url: url.to_string(), format: format.to_string() };
    let id = store.put_alert_hook(hook).await?;
    println!("alert hook {id} added for {site}: {url} ({format})");
    Ok(())
}

/// `alert list`: one line per hook, tab-separated.
async fn alert_list(store: &Arc<dyn Store>) -> CliResult {
    for hook in store.alert_hooks().await? {
        println!("{}\t{}\t{}\t{}", hook.id, hook.site, hook.format, hook.url);
    }
    Ok(())
}

/// `alert remove`.
async fn alert_remove(store: &Arc<dyn Store>, id: i64) -> CliResult {
    if !store.remove_alert_hook(id).await? {
        return Err(CliError::Missing(format!("alert hook {id}")));
    }
    println!("alert hook {id} removed");
    Ok(())
}

/// `release add`: a deploy marker for a registered site.
async fn release_add(store: &Arc<dyn Store>, site: &str, name: &str, at: Option<&str>) -> CliResult {
    if !store.sites().await?.iter().any(|s| s.id == site) {
        return Err(CliError::Missing(format!("site {site}")));
    }
    let now = now_ms();
    let at = match at {
        Some(at) => crate::api::period::parse_time(at, now)?,
        None => now,
    };
    let release = crate::release::record(store, site, name, at).await?;
    println!("release {} of {site} at {}", release.name, crate::model::format_time(release.at_ms));
    Ok(())
}

/// `release list`: one line per marker, tab-separated: time, name.
async fn release_list(store: &Arc<dyn Store>, site: &str) -> CliResult {
    for release in store.releases(site).await? {
        println!("{}\t{}", crate::model::format_time(release.at_ms), release.name);
    }
    Ok(())
}

/// `report`: the site's summary, worst pages and abandonment curve.
async fn report(store: &Arc<dyn Store>, site: &str, since: &str) -> CliResult {
    print!("{}", crate::report::report(store, site, since).await?);
    Ok(())
}

/// `rollup`: every changed hour and day that is over, now.
async fn rollup(store: &Arc<dyn Store>) -> CliResult {
    let started = Instant::now();
    let hours = crate::rollup::build::catch_up(store, now_ms()).await?;
    println!("{hours} hours rolled up in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `generate`: synthetic page views over `(from, to)`, then rolled up.
async fn generate(
    store: &Arc<dyn Store>,
    site: &str,
    views: u64,
    period: (i64, i64),
    seed: u64,
    paths: usize,
) -> CliResult {
    check_site_id(site)?;
    let started = Instant::now();
    let (from, to) = period;
    crate::generate::generate(store, site, views, from, to, seed, paths, |n| eprintln!("{n} page views written"))
        .await?;
    store.settle().await?;
    let written = started.elapsed();
    let hours = crate::rollup::build::catch_up(store, now_ms()).await?;
    let rolled = started.elapsed() - written;
    println!(
        "{views} page views of {site} over {:.0} hours written in {:.1} s; {hours} hours rolled up in {:.1} s",
        (to - from) as f64 / HOUR_MS as f64,
        written.as_secs_f64(),
        rolled.as_secs_f64()
    );
    Ok(())
}
