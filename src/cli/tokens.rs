//! `panel api-token`: API tokens made on the panel host (no user behind them: the host's
//! operator is the trust root, as for `panel user`).

use clap::Subcommand;

use super::{Failure, audit};
use crate::api_tokens::{self, TokenForm};
use crate::db;
use crate::domain::Role;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token and print it (once: only its hash is kept).
    Create {
        #[arg(long)]
        name: String,
        /// owner, admin, operator or viewer.
        #[arg(long)]
        role: String,
        /// Limit the token to this server (a name or id); repeat for more. None: every server.
        #[arg(long = "server")]
        servers: Vec<String>,
        /// How long it lives: 90d, 12h, 2w, or never.
        #[arg(long, default_value = api_tokens::DEFAULT_EXPIRY)]
        expires: String,
    },
    /// List tokens (never their secret part).
    List,
    /// Revoke a token by name or id: it stops working at once.
    Revoke { token: String },
}

pub(super) async fn run(cmd: TokenCommand, state: &AppState) -> Result<(), Failure> {
    match cmd {
        TokenCommand::Create {
            name,
            role,
            servers,
            expires,
        } => {
            let form = TokenForm {
                name,
                role,
                servers,
                expires,
            };
            let made = async {
                let input = api_tokens::parse(state, &form, Role::Owner).await?;
                api_tokens::create(state, &input, None).await
            }
            .await;
            audit(
                state,
                "api_tokens.create",
                made.as_ref().ok().map(|(_, t)| t.id.to_string()),
                made.is_ok(),
            )
            .await;
            let (token, row) = made?;
            println!(
                "API token {} ({}, {}):\n{token}\nIt is shown once; keep it in a secret store.",
                row.name,
                row.role,
                row.expires_at
                    .as_deref()
                    .map_or("never expires".to_owned(), |e| format!("expires {e}"))
            );
        }
        TokenCommand::List => {
            let tokens = db::tokens::list_all(&state.db)
                .await
                .map_err(AppError::from)?;
            if tokens.is_empty() {
                println!("No API tokens. `panel api-token create --name N --role R` makes one.");
            }
            for t in tokens {
                let servers = db::tokens::servers(&state.db, t.id)
                    .await
                    .map_err(AppError::from)?;
                let state_text = match (&t.revoked_at, &t.expires_at) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(e)) if e.as_str() <= db::now().as_str() => format!("expired {e}"),
                    (None, Some(e)) => format!("expires {e}"),
                    (None, None) => "never expires".into(),
                };
                println!(
                    "{}  pnl_{}_…  {:<8}  {}  last used {}{}  {}",
                    t.name,
                    t.prefix,
                    t.role.as_str(),
                    if servers.is_empty() {
                        "every server".to_owned()
                    } else {
                        format!("{} server(s)", servers.len())
                    },
                    t.last_used_at.as_deref().unwrap_or("never"),
                    t.last_used_from
                        .as_deref()
                        .map(|f| format!(" from {f}"))
                        .unwrap_or_default(),
                    state_text
                );
            }
        }
        TokenCommand::Revoke { token } => {
            let done = api_tokens::revoke(state, &token, None).await;
            audit(
                state,
                "api_tokens.revoke",
                done.as_ref().ok().map(|t| t.id.to_string()),
                done.is_ok(),
            )
            .await;
            println!("Revoked {}.", done?.name);
        }
    }
    Ok(())
}
