//! `panel user`: people who log in with passkeys, managed from the panel host.

use clap::Subcommand;

use super::Failure;
use crate::db::{self};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Print a one-time link that creates a user with this e-mail and their first passkey.
    Invite {
        email: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Print a one-time link that adds a new passkey to an existing user (lost passkey).
    Recover { email: String },
    /// List users.
    List,
    /// Disable a user: their sessions end and they cannot log in.
    Disable { email: String },
    /// Enable a disabled user again.
    Enable { email: String },
}

pub(super) async fn run(cmd: UserCommand, state: &AppState) -> Result<(), Failure> {
    match cmd {
        UserCommand::Invite { email, name } => {
            let (email, link) = crate::users::invite(state, &email, name.as_deref()).await?;
            println!("One-time enrolment link for {email} (valid 30 minutes):\n{link}");
        }
        UserCommand::Recover { email } => {
            let (user, link) = crate::users::recover(state, &email).await?;
            println!(
                "One-time link to add a passkey for {} (valid 30 minutes):\n{link}",
                user.email
            );
        }
        UserCommand::List => {
            let users = db::users::list(&state.db).await.map_err(AppError::from)?;
            if users.is_empty() {
                println!(
                    "No users yet. `panel serve` prints a first-run link; or run `panel user invite EMAIL`."
                );
            } else {
                println!(
                    "{:<32}  {:<24}  {:<8}  {:<8}  LAST LOGIN",
                    "EMAIL", "NAME", "STATUS", "PASSKEYS"
                );
                for u in users {
                    println!(
                        "{:<32}  {:<24}  {:<8}  {:<8}  {}",
                        u.email,
                        u.name,
                        u.status.as_str(),
                        u.passkeys,
                        u.last_login_at.as_deref().unwrap_or("never")
                    );
                }
            }
        }
        UserCommand::Disable { email } => {
            let (user, ended) = crate::users::disable(state, &email).await?;
            println!("Disabled {}; ended {ended} session(s).", user.email);
        }
        UserCommand::Enable { email } => {
            let user = crate::users::enable(state, &email).await?;
            println!("Enabled {}.", user.email);
        }
    }
    Ok(())
}
