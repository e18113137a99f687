//! `palaute-collector`: parses the command line, sets up logging, and runs
//! the server or an admin command.

use std::process::ExitCode;

use clap::Parser;
use palaute_collector::cli::{run_admin, Cli, Command};
use palaute_collector::{open_store, run};
use tracing_subscriber::EnvFilter;

/// mimalloc: ingest allocates and frees many small buffers per request
/// (headers, JSON strings, SQL values), where it is faster than glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> palaute_collector::error::Result<()> {
    let config = cli.config()?;
    match &cli.command {
        Command::Serve(_) => {
            let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|e| {
                palaute_collector::error::AppError::Invalid(format!("cannot listen on {}: {e}", config.listen))
            })?;
            let address =
                listener.local_addr().map_err(|e| palaute_collector::error::AppError::Internal(e.to_string()))?;
            tracing::info!(message = "palaute collector listening", %address, data = %config.data.display(), www = %config.www_dir().display());
            println!("listening on http://{address}");
            run(listener, config, shutdown_signal()).await
        }
        command => run_admin(command, open_store(&config, &Default::default()).await?).await,
    }
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
