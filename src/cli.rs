//! Command line: `panel` (= `panel serve`) and the operator commands run on the panel host.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigArgs};

#[derive(Debug, Parser)]
#[command(
    name = "panel",
    version,
    about = "Self-hosted, SELinux-first server management panel"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web panel (what a bare `panel` does).
    Serve,
}

/// Parse arguments, run the command, map failures to exit codes (2 = bad usage or input).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::resolve(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("panel: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("panel: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => crate::app::serve(config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("panel: {e:#}");
            ExitCode::FAILURE
        }
    }
}
