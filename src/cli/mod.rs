//! Command line: `panel` (= `panel serve`) and the operator commands run on the panel host.
//! Shell access to the panel host is the trust root: these commands need no login.

mod deploy;
mod dev;
mod selinux;
mod site;
mod ssh_keys;
mod tokens;
mod users;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigArgs};
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

pub use dev::DevCommand;
pub use selinux::{OutputFormat, SelinuxCommand};
pub use site::{PlanFormat, SiteCommand};
pub use ssh_keys::{KeyTypeArg, SshKeyCommand};
pub use tokens::TokenCommand;
pub use users::UserCommand;

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
    /// SSH keys the panel logs in to servers with.
    #[command(subcommand, name = "ssh-key")]
    SshKey(SshKeyCommand),
    /// The master key that encrypts every secret in the database.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Panel users (people who log in with passkeys) and their roles.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for `/api/v1`.
    #[command(subcommand, name = "api-token")]
    ApiToken(TokenCommand),
    /// SELinux tools that work on audit logs.
    #[command(subcommand)]
    Selinux(SelinuxCommand),
    /// Sites (offline tools; sites are created in the web UI).
    #[command(subcommand)]
    Site(SiteCommand),
    /// Deploy a site from its repository: queues a deployment that the running panel starts
    /// (one at a time per site). With --wait, prints its log and exits 1 if it fails.
    Deploy {
        /// The site's domain (or its id).
        #[arg(allow_hyphen_values = true)]
        site: String,
        /// Deploy this branch instead of the site's own.
        #[arg(long, allow_hyphen_values = true)]
        branch: Option<String>,
        /// Wait until the deployment ends, printing its log as it runs.
        #[arg(long)]
        wait: bool,
    },
    /// Development tools (fake data for benchmarks).
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a new master key and re-encrypt every secret with it, in one transaction.
    Rotate,
}

/// A failed command: what to print and the exit status (2 = bad input).
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// Record a command-line action in the audit log, as the host account that ran it. A failure
/// to record is logged, not fatal: the action has happened (or not) already.
async fn audit(state: &AppState, action: &str, target: Option<String>, ok: bool) {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    let entry = db::audit::NewEntry {
        actor_kind: crate::domain::AuditActor::Cli,
        actor_id: None,
        actor_name: format!("{who} (command line)"),
        action: action.to_owned(),
        target_kind: action.split('.').next().map(str::to_owned),
        target_id: target,
        outcome: if ok {
            crate::domain::AuditOutcome::Ok
        } else {
            crate::domain::AuditOutcome::Invalid
        },
        status: None,
        via: crate::domain::AuditVia::Cli,
        source: None,
    };
    if let Err(e) = db::audit::insert(&state.db, &entry).await {
        tracing::warn!("could not record {action} in the audit log: {e}");
    }
}

/// Run a command that needs the panel's data (database and master key), closing the database
/// (WAL checkpointed) however the command ends.
async fn with_state<F, Fut>(config: &Config, command: F) -> Result<(), Failure>
where
    F: FnOnce(AppState) -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    let state = AppState::open(config).await?;
    let result = command(state.clone()).await;
    state.close().await;
    result
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        match &e {
            AppError::Invalid(fields) => Failure {
                code: 2,
                message: fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("\n"),
            },
            AppError::NotFound => Failure {
                code: 1,
                message: "no such key".into(),
            },
            _ if e.is_internal() => Failure {
                code: 1,
                message: format!("{e}"),
            },
            _ => Failure {
                code: 1,
                message: e.public_message(),
            },
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure {
            code: 1,
            message: format!("{e:#}"),
        }
    }
}

/// Parse arguments, run the command, map failures to exit codes.
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
            Command::Serve => crate::app::serve(config).await.map_err(Failure::from),
            Command::SshKey(cmd) => {
                with_state(&config, |s| async move { ssh_keys::run(cmd, &s).await }).await
            }
            Command::Key(KeyCommand::Rotate) => rotate(&config).await,
            Command::User(cmd) => {
                with_state(&config, |s| async move { users::run(cmd, &s).await }).await
            }
            Command::ApiToken(cmd) => {
                with_state(&config, |s| async move { tokens::run(cmd, &s).await }).await
            }
            Command::Selinux(cmd) => selinux::run(cmd),
            Command::Site(cmd) => site::run(cmd),
            Command::Dev(cmd) => dev::run(cmd, &config).await,
            Command::Deploy { site, branch, wait } => {
                with_state(&config, |s| async move {
                    deploy::run(&s, &site, branch, wait).await
                })
                .await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            for line in f.message.lines() {
                eprintln!("panel: {line}");
            }
            ExitCode::from(f.code)
        }
    }
}

/// `panel key rotate`: the database alone (the old key is read by the rotation itself).
async fn rotate(config: &Config) -> Result<(), Failure> {
    let pool = db::open(&config.data_dir).await?;
    let result = crate::secrets::rotate(&pool, &config.data_dir, config.env_key()).await;
    db::close(&pool).await;
    let report = result?;
    println!(
        "Rotated the master key {:08x} → {:08x}; re-encrypted {} secret(s).",
        report.old_key_id, report.new_key_id, report.secrets
    );
    Ok(())
}
