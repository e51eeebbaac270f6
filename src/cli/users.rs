//! `panel user`: people who log in with passkeys, managed from the panel host.

use clap::Subcommand;

use super::{Failure, audit};
use crate::db::{self};
use crate::domain::Role;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Print a one-time link that creates a user with this e-mail and their first passkey.
    Invite {
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// What they may do: owner, admin, operator or viewer.
        #[arg(long, default_value = "viewer")]
        role: String,
    },
    /// Give a user another role (owner, admin, operator, viewer).
    Role { email: String, role: String },
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
        UserCommand::Invite { email, name, role } => {
            let role = parse_role(&role)?;
            let done = crate::users::invite(state, &email, name.as_deref(), role).await;
            audit(
                state,
                "users.invite",
                done.as_ref().ok().map(|(e, _)| e.clone()),
                done.is_ok(),
            )
            .await;
            let (email, link) = done?;
            println!("One-time enrolment link for {email}, as {role} (valid 30 minutes):\n{link}");
        }
        UserCommand::Role { email, role } => {
            let role = parse_role(&role)?;
            let done = crate::users::set_role(state, &email, role).await;
            audit(
                state,
                "users.role",
                done.as_ref().ok().map(|u| u.id.to_string()),
                done.is_ok(),
            )
            .await;
            let user = done?;
            println!("{} is now {role}: {}.", user.email, role.describe());
        }
        UserCommand::Recover { email } => {
            let done = crate::users::recover(state, &email).await;
            let target = done.as_ref().ok().map(|(u, _)| u.id.to_string());
            audit(state, "users.recover", target, done.is_ok()).await;
            let (user, link) = done?;
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
                    "{:<32}  {:<24}  {:<8}  {:<8}  {:<8}  LAST LOGIN",
                    "EMAIL", "NAME", "ROLE", "STATUS", "PASSKEYS"
                );
                for u in users {
                    println!(
                        "{:<32}  {:<24}  {:<8}  {:<8}  {:<8}  {}",
                        u.email,
                        u.name,
                        u.role.as_str(),
                        u.status.as_str(),
                        u.passkeys,
                        u.last_login_at.as_deref().unwrap_or("never")
                    );
                }
            }
        }
        UserCommand::Disable { email } => {
            let done = crate::users::disable(state, &email).await;
            audit(
                state,
                "users.disable",
                done.as_ref().ok().map(|(u, _)| u.id.to_string()),
                done.is_ok(),
            )
            .await;
            let (user, ended) = done?;
            println!("Disabled {}; ended {ended} session(s).", user.email);
        }
        UserCommand::Enable { email } => {
            let done = crate::users::enable(state, &email).await;
            audit(
                state,
                "users.enable",
                done.as_ref().ok().map(|u| u.id.to_string()),
                done.is_ok(),
            )
            .await;
            let user = done?;
            println!("Enabled {}.", user.email);
        }
    }
    Ok(())
}

fn parse_role(text: &str) -> Result<Role, Failure> {
    text.trim()
        .parse()
        .map_err(|_| Failure::new(2, "role: choose owner, admin, operator or viewer"))
}
