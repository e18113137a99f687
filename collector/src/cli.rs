//! The command line: `serve`, `site add|list|remove`, `token rotate`,
//! `report`, `rollup`, `generate`. Flags
//! override `PALAUTE_*` variables, which override the config file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, StoreKind};
use crate::error::{AppError, Result};
use crate::model::now_ms;
use crate::sites::{hash_token, new_token, normalize_origin};
use crate::store::{Site, Store};

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
    pub fn config(&self) -> Result<Config> {
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

/// Runs a `site` or `token` command, printing its output.
pub async fn run_admin(command: &Command, store: Arc<dyn Store>) -> Result<()> {
    match command {
        Command::Serve(_) => Err(AppError::Internal("serve is not an admin command".into())),
        Command::Site(SiteCommand::Add { site, origins, feedback_scale }) => {
            if !matches!(feedback_scale.as_str(), "thumbs" | "five") {
                return Err(AppError::Invalid(format!("feedback scale {feedback_scale:?}: thumbs or five")));
            }
            if !crate::ingest::validate::is_site_id(site) {
                return Err(AppError::Invalid(format!("site id {site:?}: 1-64 characters of a-z, 0-9, _ - .")));
            }
            let origins = origins.iter().map(|o| normalize_origin(o)).collect::<Result<Vec<_>>>()?;
            let token = new_token()?;
            let created_at = now_ms();
            store
                .put_site(Site {
                    id: site.clone(),
                    origins: origins.clone(),
                    token_hash: hash_token(&token),
                    created_at,
                    feedback_scale: feedback_scale.clone(),
                })
                .await?;
            println!("site {site} registered for {}", origins.join(", "));
            println!("analyst token (shown once; keep it secret):");
            println!("{token}");
            Ok(())
        }
        Command::Report { site, since } => {
            print!("{}", crate::report::report(&store, site, since).await?);
            Ok(())
        }
        Command::Alert(AlertCommand::Add { site, url, format }) => {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(AppError::Invalid(format!("url {url:?}: an http or https URL")));
            }
            if !matches!(format.as_str(), "json" | "slack") {
                return Err(AppError::Invalid(format!("format {format:?}: json or slack")));
            }
            let hook = crate::store::AlertHook { id: 0, site: site.clone(), url: url.clone(), format: format.clone() };
            let id = store.put_alert_hook(hook).await?;
            println!("alert hook {id} added for {site}: {url} ({format})");
            Ok(())
        }
        Command::Alert(AlertCommand::List) => {
            for hook in store.alert_hooks().await? {
                println!("{}\t{}\t{}\t{}", hook.id, hook.site, hook.format, hook.url);
            }
            Ok(())
        }
        Command::Alert(AlertCommand::Remove { id }) => {
            if store.remove_alert_hook(*id).await? {
                println!("alert hook {id} removed");
                Ok(())
            } else {
                Err(AppError::NotFound(format!("alert hook {id}")))
            }
        }
        Command::Rollup => {
            let started = std::time::Instant::now();
            let hours = crate::rollup::build::catch_up(&store, now_ms()).await?;
            println!("{hours} hours rolled up in {:.1} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Export { site, since } => crate::transfer::export(&store, site, since).await,
        Command::Import => crate::transfer::import(&store).await,
        Command::Generate { site, views, days, seed } => {
            if !crate::ingest::validate::is_site_id(site) {
                return Err(AppError::Invalid(format!("site id {site:?}: 1-64 characters of a-z, 0-9, _ - .")));
            }
            let now = now_ms();
            let started = std::time::Instant::now();
            let from = now - i64::from(*days) * 86_400_000;
            crate::generate::generate(&store, site, *views, from, now, *seed, |n| {
                eprintln!("{n} page views written");
            })
            .await?;
            store.settle().await?;
            let written = started.elapsed();
            let hours = crate::rollup::build::catch_up(&store, now).await?;
            println!(
                "{views} page views of {site} over {days} days written in {:.1} s; {hours} hours rolled up in {:.1} s",
                written.as_secs_f64(),
                (started.elapsed() - written).as_secs_f64()
            );
            Ok(())
        }
        Command::Site(SiteCommand::List) => {
            for site in store.sites().await? {
                let created = crate::model::format_time(site.created_at);
                println!("{}\t{}\t{}\t{}", site.id, site.origins.join(","), site.feedback_scale, created);
            }
            Ok(())
        }
        Command::Site(SiteCommand::Remove { site }) => {
            if store.remove_site(site).await? {
                println!("site {site} removed");
                Ok(())
            } else {
                Err(AppError::NotFound(format!("site {site}")))
            }
        }
        Command::Token(TokenCommand::Rotate { site }) => {
            let mut record = store
                .sites()
                .await?
                .into_iter()
                .find(|s| &s.id == site)
                .ok_or_else(|| AppError::NotFound(format!("site {site}")))?;
            let token = new_token()?;
            record.token_hash = hash_token(&token);
            store.put_site(record).await?;
            println!("new analyst token for {site} (the old one no longer works):");
            println!("{token}");
            Ok(())
        }
    }
}
