//! API tokens: made by a user (Settings) or on the panel host (`panel api-token create`), shown
//! once, stored as a SHA-256, revocable, expiring. `pnl_<16 lowercase letters and digits>_<43
//! base64url characters>`: the fixed prefix lets secret scanners find a leaked one, and the
//! middle part names the token in lists without revealing it.

use crate::auth;
use crate::crypto::random;
use crate::db::{self, tokens::ApiToken};
use crate::domain::{Principal, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{ApiTokenId, ServerId, UserId};
use crate::state::AppState;

/// Every token starts with this.
pub const PREFIX: &str = "pnl_";
/// A token's use is written down at most this often (a write per request would be waste).
const TOUCH_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// The longest a token may live, and what it gets when nobody says.
const MAX_DAYS: u32 = 3650;
pub const DEFAULT_EXPIRY: &str = "90d";

fn invalid(field: &'static str, message: impl Into<String>) -> AppError {
    AppError::Invalid(vec![FieldError::new(field, message.into())])
}

/// What a new token is asked to be.
#[derive(Clone, Debug, Default)]
pub struct TokenForm {
    pub name: String,
    pub role: String,
    /// Server names or ids; empty: every server.
    pub servers: Vec<String>,
    /// `90d`, `12h`, `2w`, `never`; empty: [`DEFAULT_EXPIRY`].
    pub expires: String,
}

/// The form, checked.
#[derive(Clone, Debug)]
pub struct TokenInput {
    pub name: String,
    pub role: Role,
    pub servers: Vec<ServerId>,
    pub expires_at: Option<String>,
}

/// `90d`, `12h`, `2w` or `never` as a stored expiry time.
pub fn parse_expiry(text: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    let text = if text.is_empty() {
        DEFAULT_EXPIRY
    } else {
        text
    };
    if text == "never" {
        return Ok(None);
    }
    let bad = || {
        format!(
            "`{}` is not a lifetime like 90d, 12h, 2w or never",
            text.escape_debug()
        )
    };
    let unit = text.chars().last().ok_or_else(bad)?;
    let number = &text[..text.len() - unit.len_utf8()];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u32 = number.parse().map_err(|_| bad())?;
    let hours = match unit {
        'h' => n,
        'd' => n.saturating_mul(24),
        'w' => n.saturating_mul(24 * 7),
        _ => return Err(bad()),
    };
    if n == 0 || hours > MAX_DAYS * 24 {
        return Err(format!("a token lives between 1 hour and {MAX_DAYS} days"));
    }
    Ok(Some(auth::after(std::time::Duration::from_secs(
        u64::from(hours) * 3600,
    ))))
}

/// Check a form: a name (one line, 1–100 characters, not taken), a role no higher than the
/// creator's, servers that exist, a lifetime.
pub async fn parse(state: &AppState, form: &TokenForm, creator: Role) -> AppResult<TokenInput> {
    let mut errors = Vec::new();
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "name",
            "give the token a name of 1 to 100 characters on one line",
        ));
    } else if db::tokens::find_by_name(&state.db, &name).await?.is_some() {
        errors.push(FieldError::new(
            "name",
            format!("a token named {name} exists already"),
        ));
    }
    let role = match form.role.trim().parse::<Role>() {
        Ok(role) if creator.may_grant(role) => Some(role),
        Ok(role) => {
            errors.push(FieldError::new(
                "role",
                format!("your role ({creator}) cannot make a token with the {role} role"),
            ));
            None
        }
        Err(_) => {
            errors.push(FieldError::new(
                "role",
                "choose owner, admin, operator or viewer",
            ));
            None
        }
    };
    let mut servers = Vec::new();
    for text in form
        .servers
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        let by_id = match text.parse::<ServerId>() {
            Ok(id) => db::servers::get(&state.db, id).await?.map(|s| vec![s.id]),
            Err(_) => None,
        };
        let found = match by_id {
            Some(found) => found,
            None => db::servers::find_by_name(&state.db, text).await?,
        };
        match found.as_slice() {
            [id] => servers.push(*id),
            [] => errors.push(FieldError::new(
                "servers",
                format!("there is no server {}", text.escape_debug()),
            )),
            _ => errors.push(FieldError::new(
                "servers",
                format!(
                    "{} names more than one server; use its id",
                    text.escape_debug()
                ),
            )),
        }
    }
    servers.sort();
    servers.dedup();
    let expires_at = parse_expiry(&form.expires)
        .map_err(|m| errors.push(FieldError::new("expires", m)))
        .ok();
    match (role, expires_at) {
        (Some(role), Some(expires_at)) if errors.is_empty() => Ok(TokenInput {
            name,
            role,
            servers,
            expires_at,
        }),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// Make a token. Returns the token text (shown once, never stored) and its row.
pub async fn create(
    state: &AppState,
    input: &TokenInput,
    creator: Option<UserId>,
) -> AppResult<(String, ApiToken)> {
    let id = ApiTokenId::generate();
    let public: String = random::bytes::<16>()
        .iter()
        .map(|b| char::from(b"abcdefghijklmnopqrstuvwxyz234567"[usize::from(b & 31)]))
        .collect();
    let token = format!("{PREFIX}{public}_{}", random::token());
    db::tokens::insert(
        &state.db,
        &db::tokens::NewToken {
            id,
            user_id: creator,
            name: &input.name,
            prefix: &public,
            token_hash: &auth::hash_token(&token),
            role: input.role,
            expires_at: input.expires_at.clone(),
            servers: &input.servers,
        },
    )
    .await
    .map_err(|e| match e.as_database_error().map(|d| d.kind()) {
        Some(sqlx::error::ErrorKind::UniqueViolation) => invalid(
            "name",
            format!("a token named {} exists already", input.name),
        ),
        _ => e.into(),
    })?;
    let row = db::tokens::get(&state.db, id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the new token is gone")))?;
    Ok((token, row))
}

/// Who a presented token is, if it is a live one: its name, its id and what it may do (its own
/// role, capped by its creator's role today, and its servers). Every other case is `None`
/// alike (unknown, revoked, expired, creator disabled).
#[derive(Clone, Debug)]
pub struct TokenCaller {
    pub id: ApiTokenId,
    pub name: String,
    /// Who made it (`None`: the command line); actions record them as the actor.
    pub user_id: Option<UserId>,
    pub principal: Principal,
}

pub async fn authenticate(
    state: &AppState,
    presented: &str,
    from: &str,
) -> AppResult<Option<TokenCaller>> {
    // Shape first: nothing that cannot be a token reaches the database.
    let shaped = presented.len() == PREFIX.len() + 16 + 1 + 43
        && presented.starts_with(PREFIX)
        && presented
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !shaped {
        return Ok(None);
    }
    let Some(row) = db::tokens::find_by_hash(&state.db, &auth::hash_token(presented)).await? else {
        return Ok(None);
    };
    let now = db::now();
    let live = row.revoked_at.is_none()
        && row.user_active
        && row.expires_at.as_deref().is_none_or(|e| e > now.as_str());
    if !live {
        return Ok(None);
    }
    let role = if row.user_role.rank() < row.role.rank() {
        row.user_role
    } else {
        row.role
    };
    let servers = db::tokens::servers(&state.db, row.id).await?;
    if row
        .last_used_at
        .as_deref()
        .is_none_or(|at| at <= auth::before(TOUCH_EVERY).as_str())
    {
        db::tokens::touch(&state.db, row.id, from).await?;
    }
    Ok(Some(TokenCaller {
        id: row.id,
        name: row.name,
        user_id: row.user_id,
        principal: Principal {
            role,
            // A limited token whose servers were all deleted reaches none.
            servers: row.limited.then_some(servers),
        },
    }))
}

/// Revoke a token by name or id (of this user, when given; the command line revokes any).
pub async fn revoke(state: &AppState, which: &str, user: Option<UserId>) -> AppResult<ApiToken> {
    let row = match which.parse::<ApiTokenId>() {
        Ok(id) => db::tokens::get(&state.db, id).await?,
        Err(_) => db::tokens::find_by_name(&state.db, which.trim()).await?,
    };
    let row = row
        .filter(|t| user.is_none() || t.user_id == user)
        .ok_or_else(|| {
            invalid(
                "token",
                format!("there is no token {}", which.escape_debug()),
            )
        })?;
    if !db::tokens::revoke(&state.db, row.id, user).await? {
        return Err(invalid("token", format!("{} is revoked already", row.name)));
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_parse_and_are_bounded() {
        assert!(parse_expiry("90d").unwrap().is_some());
        assert!(parse_expiry("").unwrap().is_some(), "the default");
        assert!(parse_expiry("12h").unwrap().is_some());
        assert!(parse_expiry("2w").unwrap().is_some());
        assert_eq!(parse_expiry("never").unwrap(), None);
        for bad in [
            "0d", "90", "d", "9x", "-1d", "99999d", "1.5d", "90 d", "9é", "+1d",
        ] {
            assert!(parse_expiry(bad).is_err(), "{bad}");
        }
        let a = parse_expiry("1d").unwrap().unwrap();
        let b = parse_expiry("2d").unwrap().unwrap();
        assert!(a < b);
    }
}
