//! Passkey-only authentication: enrolment links, WebAuthn ceremonies, sessions' timing rules and
//! rate limits. HTTP specifics live in `web::auth`; this module is shared with the CLI.

pub mod ceremony;
pub mod ratelimit;

use std::time::Duration;

use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{Url, Uuid, Webauthn, WebauthnBuilder};

use crate::config::Config;
use crate::crypto::random;
use crate::db::{self, Pool};
use crate::domain::Role;
use crate::ids::UserId;

/// An enrolment link works this long.
pub const ENROLMENT_TTL: Duration = Duration::from_secs(30 * 60);
/// A session ends after this long without a request.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 60 * 60);
/// Revealing a secret, adding a passkey, making a token and changing roles need a passkey check
/// (the login, or a confirmation) no older than this.
pub const FRESH_CHECK: Duration = Duration::from_secs(5 * 60);
/// A session ends this long after login, whatever the activity.
pub const SESSION_ABSOLUTE: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// A pre-login session (CSRF token + ceremony) lives this long.
pub const PRELOGIN_TTL: Duration = Duration::from_secs(30 * 60);

/// Shown when PANEL_URL cannot be a WebAuthn relying party.
pub const NO_PASSKEYS_HINT: &str = "Passkeys need the panel to be reached by a host name, not an IP address. Set PANEL_URL to a name such as https://panel.example.com (or http://localhost:8095 on this machine) and restart the panel.";

/// Tokens are stored as the hex SHA-256 of the token, never the token itself.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `now + d` as a stored timestamp.
pub fn after(d: Duration) -> String {
    db::timestamp(chrono::Utc::now() + chrono::Duration::from_std(d).expect("small duration"))
}

/// `now - d` as a stored timestamp.
pub fn before(d: Duration) -> String {
    db::timestamp(chrono::Utc::now() - chrono::Duration::from_std(d).expect("small duration"))
}

/// The relying party: RP id = host of PANEL_URL, origin = PANEL_URL's origin.
pub fn webauthn(config: &Config) -> anyhow::Result<Webauthn> {
    let origin = Url::parse(&config.origin())?;
    Ok(WebauthnBuilder::new(&config.host(), &origin)?
        .rp_name("Panel")
        .build()?)
}

/// The WebAuthn user handle of a user: the 128 bits of its ULID.
pub fn user_handle(id: UserId) -> Uuid {
    Uuid::from_u128(id.0.0)
}

pub fn user_from_handle(handle: Uuid) -> UserId {
    UserId(ulid::Ulid(handle.as_u128()))
}

/// Why an enrolment link is issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// No user exists yet: whoever has the link becomes the first user.
    FirstRun,
    /// A new user, e-mail fixed by the operator.
    Invite,
    /// An existing user who lost their passkeys adds a new one.
    Recover,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::FirstRun => "first_run",
            Purpose::Invite => "invite",
            Purpose::Recover => "recover",
        }
    }
}

/// Create a one-time enrolment link and return its URL.
pub async fn issue_enrolment(
    pool: &Pool,
    config: &Config,
    purpose: Purpose,
    email: Option<&str>,
    name: Option<&str>,
    user_id: Option<UserId>,
    role: Option<Role>,
) -> sqlx::Result<String> {
    let token = random::token();
    let hash = hash_token(&token);
    db::enrolment::insert(
        pool,
        &db::enrolment::NewToken {
            token_hash: &hash,
            purpose: purpose.as_str(),
            email,
            name,
            user_id,
            role,
            expires_at: after(ENROLMENT_TTL),
        },
    )
    .await?;
    Ok(format!("{}/enrol/{token}", config.url))
}

/// On a panel without users, retire older first-run links and issue a fresh one.
pub async fn first_run_link(pool: &Pool, config: &Config) -> sqlx::Result<Option<String>> {
    if db::users::count(pool).await? > 0 {
        return Ok(None);
    }
    db::enrolment::retire_first_run(pool).await?;
    issue_enrolment(
        pool,
        config,
        Purpose::FirstRun,
        None,
        None,
        None,
        Some(Role::Owner),
    )
    .await
    .map(Some)
}

/// A parsed e-mail address (the login identity shown in the UI; not used to log in).
pub fn parse_email(text: &str) -> Result<String, String> {
    let email = text.trim();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(email.to_owned())
    } else {
        Err("enter an e-mail address like ada@example.com".into())
    }
}

/// A display name: 1–100 characters on one line.
pub fn parse_display_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("enter your name".into());
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err("at most 100 characters on one line".into());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_handles_round_trip() {
        let id = UserId::generate();
        assert_eq!(user_from_handle(user_handle(id)), id);
    }

    #[test]
    fn emails_and_names_are_checked() {
        assert_eq!(parse_email(" ada@example.com ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "a b@example.com",
            "ada@localhost",
            "a@b@c.d",
            &format!("{}@x.io", "a".repeat(300)),
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
        assert!(parse_display_name("Ada Lovelace").is_ok());
        assert!(parse_display_name(&"x".repeat(10_000)).is_err());
        assert!(parse_display_name("a\nb").is_err());
    }
}
