//! The WebAuthn ceremonies: enrol (first user, invite, recover), add another passkey, and log in
//! with a discoverable passkey (no user name typed). The ceremony state is kept server-side in
//! the session and taken out exactly once, so a replayed browser response finds nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Webauthn,
};
use webauthn_rs_proto::{
    AuthenticatorSelectionCriteria, ResidentKeyRequirement, UserVerificationPolicy,
};

use super::ratelimit::{ACCOUNT_WINDOW, FAILURES_PER_ACCOUNT, RateLimiter};
use super::{parse_display_name, parse_email, user_from_handle, user_handle};
use crate::db::enrolment::EnrolmentToken;
use crate::db::{self, Pool};
use crate::domain::{Role, UserStatus};
use crate::error::FieldError;
use crate::ids::{EnrolmentTokenId, UserId};

/// A ceremony in progress, stored as JSON in the session row.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ceremony {
    Register {
        state: PasskeyRegistration,
        user_id: UserId,
        /// Set when enrolment creates the user.
        new_user: Option<NewUser>,
        /// The enrolment link being used, if any (adding a passkey in Settings has none).
        token_id: Option<EnrolmentTokenId>,
        passkey_name: String,
    },
    Login {
        state: DiscoverableAuthentication,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    /// From the link: an invitation's role, owner for the first user.
    #[serde(default = "least_role")]
    pub role: Role,
}

/// A ceremony begun before roles existed makes the least powerful user.
fn least_role() -> Role {
    Role::Viewer
}

#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    #[error("some fields need attention")]
    Invalid(Vec<FieldError>),
    /// Unknown, used and expired links all get this one answer.
    #[error(
        "This enrolment link is not valid: it is unknown, already used or expired. Ask the panel's operator for a new one (`panel user invite EMAIL` or `panel user recover EMAIL` on the panel host)."
    )]
    LinkUnusable,
    #[error("This attempt expired or was already used. Please start again.")]
    NoCeremony,
    #[error("This passkey is not registered with this panel.")]
    UnknownPasskey,
    #[error("This account is disabled. Ask the panel's operator.")]
    Disabled,
    #[error("Too many failed attempts for this account; wait a few minutes and try again.")]
    Locked,
    #[error(
        "The passkey could not be verified. Panel requires user verification (PIN, fingerprint or face); please try again."
    )]
    Verification,
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for CeremonyError {
    fn from(e: sqlx::Error) -> Self {
        CeremonyError::Internal(e.into())
    }
}

fn parse_passkey_name(text: &str) -> Result<String, FieldError> {
    let name = text.trim();
    let name = if name.is_empty() { "Passkey" } else { name };
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "passkey_name",
            "at most 100 characters on one line",
        ));
    }
    Ok(name.to_owned())
}

/// Passkeys must be discoverable (username-less login) and always verify the user.
fn require_resident_key(ccr: &mut CreationChallengeResponse) {
    let attachment = ccr
        .public_key
        .authenticator_selection
        .as_ref()
        .and_then(|s| s.authenticator_attachment);
    ccr.public_key.authenticator_selection = Some(AuthenticatorSelectionCriteria {
        authenticator_attachment: attachment,
        resident_key: Some(ResidentKeyRequirement::Required),
        require_resident_key: true,
        user_verification: UserVerificationPolicy::Required,
    });
}

async fn existing_passkeys(pool: &Pool, user_id: UserId) -> Result<Vec<Passkey>, CeremonyError> {
    db::credentials::passkeys_of(pool, user_id)
        .await?
        .iter()
        .map(|json| serde_json::from_str(json).map_err(|e| CeremonyError::Internal(e.into())))
        .collect()
}

/// Start enrolment through a link. `email`/`name` are what the person typed (used only when
/// the link does not fix them).
pub async fn start_enrolment(
    pool: &Pool,
    webauthn: &Webauthn,
    token: &EnrolmentToken,
    email: &str,
    name: &str,
    passkey_name: &str,
) -> Result<(CreationChallengeResponse, Ceremony), CeremonyError> {
    let mut errors = Vec::new();
    let passkey_name = parse_passkey_name(passkey_name)
        .map_err(|e| errors.push(e))
        .ok();
    let (user_id, new_user, shown_email, shown_name) = match token.user_id {
        // Recovery: the user exists; add a passkey to it.
        Some(user_id) => {
            let user = db::users::get(pool, user_id)
                .await?
                .ok_or(CeremonyError::LinkUnusable)?;
            (user_id, None, user.email, user.name)
        }
        None => {
            let email = parse_email(token.email.as_deref().unwrap_or(email))
                .map_err(|m| errors.push(FieldError::new("email", m)))
                .ok();
            let name = parse_display_name(token.name.as_deref().unwrap_or(name))
                .map_err(|m| errors.push(FieldError::new("name", m)))
                .ok();
            if let Some(e) = &email {
                if db::users::find_by_email(pool, e).await?.is_some() {
                    errors.push(FieldError::new(
                        "email",
                        "a user with this e-mail already exists; ask the operator for a recovery link",
                    ));
                }
            }
            match (email, name) {
                (Some(email), Some(name)) if errors.is_empty() => (
                    UserId::generate(),
                    Some(NewUser {
                        email: email.clone(),
                        name: name.clone(),
                        role: token.role.unwrap_or(Role::Viewer),
                    }),
                    email,
                    name,
                ),
                _ => return Err(CeremonyError::Invalid(errors)),
            }
        }
    };
    if !errors.is_empty() {
        return Err(CeremonyError::Invalid(errors));
    }
    let passkey_name = passkey_name.expect("checked above");
    let target = Target {
        user_id,
        email: &shown_email,
        name: &shown_name,
        new_user,
        token_id: Some(token.id),
    };
    begin_registration(pool, webauthn, target, passkey_name).await
}

/// Who a registration is for.
struct Target<'a> {
    user_id: UserId,
    email: &'a str,
    name: &'a str,
    new_user: Option<NewUser>,
    token_id: Option<EnrolmentTokenId>,
}

/// Ask the browser for a new discoverable, user-verifying passkey, excluding the ones the user
/// already has, and keep the state for the finish step.
async fn begin_registration(
    pool: &Pool,
    webauthn: &Webauthn,
    target: Target<'_>,
    passkey_name: String,
) -> Result<(CreationChallengeResponse, Ceremony), CeremonyError> {
    let exclude: Vec<_> = existing_passkeys(pool, target.user_id)
        .await?
        .iter()
        .map(|p| p.cred_id().clone())
        .collect();
    let (mut ccr, state) = webauthn
        .start_passkey_registration(
            user_handle(target.user_id),
            target.email,
            target.name,
            (!exclude.is_empty()).then_some(exclude),
        )
        .map_err(|e| CeremonyError::Internal(anyhow::anyhow!("starting registration: {e}")))?;
    require_resident_key(&mut ccr);
    Ok((
        ccr,
        Ceremony::Register {
            state,
            user_id: target.user_id,
            new_user: target.new_user,
            token_id: target.token_id,
            passkey_name,
        },
    ))
}

/// Start adding another passkey for a logged-in user.
pub async fn start_add_passkey(
    pool: &Pool,
    webauthn: &Webauthn,
    user_id: UserId,
    passkey_name: &str,
) -> Result<(CreationChallengeResponse, Ceremony), CeremonyError> {
    let passkey_name =
        parse_passkey_name(passkey_name).map_err(|e| CeremonyError::Invalid(vec![e]))?;
    let user = db::users::get(pool, user_id)
        .await?
        .ok_or(CeremonyError::Disabled)?;
    let target = Target {
        user_id,
        email: &user.email,
        name: &user.name,
        new_user: None,
        token_id: None,
    };
    begin_registration(pool, webauthn, target, passkey_name).await
}

/// Finish a registration: verify the browser's response, then (in one transaction) use up the
/// link, create the user if new, and store the passkey. Returns the user.
pub async fn finish_registration(
    pool: &Pool,
    webauthn: &Webauthn,
    ceremony: Ceremony,
    response: &RegisterPublicKeyCredential,
    expect_token: Option<EnrolmentTokenId>,
    expect_user: Option<UserId>,
) -> Result<UserId, CeremonyError> {
    let Ceremony::Register {
        state,
        user_id,
        new_user,
        token_id,
        passkey_name,
    } = ceremony
    else {
        return Err(CeremonyError::NoCeremony);
    };
    // The state must belong to this link (or this logged-in user), not another tab's ceremony.
    if token_id != expect_token || expect_user.is_some_and(|u| u != user_id) {
        return Err(CeremonyError::NoCeremony);
    }
    let passkey = webauthn
        .finish_passkey_registration(response, &state)
        .map_err(|e| {
            tracing::info!("passkey registration refused: {e}");
            CeremonyError::Verification
        })?;
    let cred_id = URL_SAFE_NO_PAD.encode::<&[u8]>(passkey.cred_id().as_ref());
    let json = serde_json::to_string(&passkey).map_err(|e| CeremonyError::Internal(e.into()))?;
    let mut tx = pool.begin().await?;
    if let Some(token_id) = token_id {
        if !db::enrolment::mark_used(&mut tx, token_id).await? {
            return Err(CeremonyError::LinkUnusable);
        }
    }
    if let Some(new_user) = &new_user {
        db::users::insert(
            &mut tx,
            user_id,
            &new_user.email,
            &new_user.name,
            new_user.role,
        )
        .await
        .map_err(|e| match e.as_database_error().map(|d| d.kind()) {
            Some(sqlx::error::ErrorKind::UniqueViolation) => {
                CeremonyError::Invalid(vec![FieldError::new(
                    "email",
                    "a user with this e-mail already exists",
                )])
            }
            _ => e.into(),
        })?;
    }
    db::credentials::insert(&mut tx, user_id, &cred_id, &passkey_name, &json).await?;
    tx.commit().await?;
    tracing::info!(user = %user_id, "passkey registered");
    Ok(user_id)
}

/// Start a username-less login.
pub fn start_login(
    webauthn: &Webauthn,
) -> Result<(RequestChallengeResponse, Ceremony), CeremonyError> {
    let (mut rcr, state) = webauthn
        .start_discoverable_authentication()
        .map_err(|e| CeremonyError::Internal(anyhow::anyhow!("starting authentication: {e}")))?;
    // A button press, not autofill: plain modal mediation.
    rcr.mediation = None;
    Ok((rcr, Ceremony::Login { state }))
}

/// Finish a login: find the passkey, check the account, verify the assertion (user verification
/// required), update the counter. Failures count against the account's rate limit.
pub async fn finish_login(
    pool: &Pool,
    webauthn: &Webauthn,
    limiter: &RateLimiter,
    ceremony: Ceremony,
    response: &PublicKeyCredential,
) -> Result<UserId, CeremonyError> {
    let Ceremony::Login { state } = ceremony else {
        return Err(CeremonyError::NoCeremony);
    };
    let user_id = verify(pool, webauthn, limiter, state, response, None).await?;
    db::users::record_login(pool, user_id).await?;
    Ok(user_id)
}

/// Finish a confirmation ("it is me") of a logged-in user: the passkey must be one of
/// `expect`'s, checked before anything is verified or recorded; its counter is updated, and the
/// user's last login is left alone (this is no login).
pub async fn finish_confirm(
    pool: &Pool,
    webauthn: &Webauthn,
    limiter: &RateLimiter,
    ceremony: Ceremony,
    response: &PublicKeyCredential,
    expect: UserId,
) -> Result<(), CeremonyError> {
    let Ceremony::Login { state } = ceremony else {
        return Err(CeremonyError::NoCeremony);
    };
    verify(pool, webauthn, limiter, state, response, Some(expect)).await?;
    Ok(())
}

/// The assertion checked, for a login and a confirmation alike: the passkey is known and is its
/// user handle's (and `expect`'s, when given, before anything is verified), the account is not
/// locked by failures and is active, the signature and user verification hold; then the
/// passkey's counter is recorded. Returns the user.
async fn verify(
    pool: &Pool,
    webauthn: &Webauthn,
    limiter: &RateLimiter,
    state: DiscoverableAuthentication,
    response: &PublicKeyCredential,
    expect: Option<UserId>,
) -> Result<UserId, CeremonyError> {
    let (handle, cred_id) = webauthn
        .identify_discoverable_authentication(response)
        .map_err(|_| CeremonyError::UnknownPasskey)?;
    let stored = db::credentials::find(pool, &URL_SAFE_NO_PAD.encode(cred_id))
        .await?
        .ok_or(CeremonyError::UnknownPasskey)?;
    let user_id = user_from_handle(handle);
    if stored.user_id != user_id || expect.is_some_and(|e| e != user_id) {
        return Err(CeremonyError::UnknownPasskey);
    }
    let account_key = format!("account:{user_id}");
    if limiter.exhausted(&account_key, FAILURES_PER_ACCOUNT, ACCOUNT_WINDOW) {
        return Err(CeremonyError::Locked);
    }
    let user = db::users::get(pool, user_id)
        .await?
        .ok_or(CeremonyError::UnknownPasskey)?;
    if user.status != UserStatus::Active {
        return Err(CeremonyError::Disabled);
    }
    let mut passkey: Passkey =
        serde_json::from_str(&stored.passkey).map_err(|e| CeremonyError::Internal(e.into()))?;
    let result = match webauthn.finish_discoverable_authentication_v2(response, state, &passkey) {
        Ok(r) => r,
        Err(e) => {
            limiter.hit(&account_key, FAILURES_PER_ACCOUNT, ACCOUNT_WINDOW);
            tracing::info!(user = %user_id, "passkey assertion refused: {e}");
            return Err(CeremonyError::Verification);
        }
    };
    let updated = match passkey.update_credential(&result) {
        Some(true) => {
            Some(serde_json::to_string(&passkey).map_err(|e| CeremonyError::Internal(e.into()))?)
        }
        _ => None,
    };
    db::credentials::record_use(pool, stored.id, updated.as_deref()).await?;
    Ok(user_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webauthn() -> Webauthn {
        let url = webauthn_rs::prelude::Url::parse("http://localhost:8095").unwrap();
        webauthn_rs::prelude::WebauthnBuilder::new("localhost", &url)
            .unwrap()
            .build()
            .unwrap()
    }

    #[test]
    fn ceremonies_survive_the_trip_through_the_session_row() {
        let wa = webauthn();
        let (ccr, state) = wa
            .start_passkey_registration(user_handle(UserId::generate()), "a@b.c", "A", None)
            .unwrap();
        let c = Ceremony::Register {
            state,
            user_id: UserId::generate(),
            new_user: None,
            token_id: None,
            passkey_name: "p".into(),
        };
        let json = serde_json::to_string(&c).unwrap();
        let back: Ceremony = serde_json::from_str(&json).unwrap();
        assert!(matches!(back, Ceremony::Register { .. }));
        let mut ccr = ccr;
        require_resident_key(&mut ccr);
        let sent = serde_json::to_value(&ccr).unwrap();
        assert_eq!(
            sent["publicKey"]["authenticatorSelection"]["residentKey"],
            "required"
        );
        assert_eq!(
            sent["publicKey"]["authenticatorSelection"]["userVerification"],
            "required"
        );

        let (_, login) = start_login(&wa).unwrap();
        let json = serde_json::to_string(&login).unwrap();
        let back: Ceremony = serde_json::from_str(&json).unwrap();
        assert!(matches!(back, Ceremony::Login { .. }));
    }
}
