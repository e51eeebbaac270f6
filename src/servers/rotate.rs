//! Rotating a server's SSH key as a job: a new key is authorized on the node and proven to log in
//! before the server switches to it and the old key is removed. If the new key cannot log in,
//! everything is rolled back and the server keeps its old key: the panel is never locked out.

use std::time::Duration;

use crate::db::{self, servers::Server};
use crate::domain::{JobKind, KeyType, StepStatus};
use crate::ids::{JobId, UserId};
use crate::jobs::{JobContext, JobFailure, JobSpec};
use crate::ssh::client::Session;
use crate::ssh::{Command, Script};
use crate::state::AppState;

const AUTHORIZED_KEYS_SCRIPT: &str = include_str!("../../setup/authorized-keys.sh");

/// For tests: make the rotation authorize a key other than the one it then logs in with, as if
/// the node had refused the new key, to exercise the rollback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRotationFault {
    NewKeyRejected,
}

/// Queue the rotation of `server`'s key.
pub async fn rotate_key(
    state: &AppState,
    server: &Server,
    actor: Option<UserId>,
    fault: Option<KeyRotationFault>,
) -> sqlx::Result<JobId> {
    let (state, server) = (state.clone(), server.clone());
    let spec = JobSpec {
        server_id: Some(server.id),
        actor_id: actor,
        kind: JobKind::ServerRotateKey,
        args: serde_json::json!({ "server_id": server.id }),
        title: format!("Rotate the SSH key of {}", server.name),
        lane: None,
    };
    state
        .jobs
        .clone()
        .submit(spec, move |ctx| async move {
            let result = rotate(&ctx, &state, &server, actor, fault).await;
            let failed = "SSH key rotation failed; the old key is still in use";
            crate::nodes::log_outcome(&state, server.id, &ctx, &result, "SSH key rotated", failed)
                .await?;
            result
        })
        .await
}

fn authorized_keys(verb: &str, key: &str) -> Script {
    Script::new("authorized-keys", AUTHORIZED_KEYS_SCRIPT)
        .arg(verb)
        .arg(key)
}

async fn rotate(
    ctx: &JobContext,
    state: &AppState,
    server: &Server,
    actor: Option<UserId>,
    fault: Option<KeyRotationFault>,
) -> Result<(), JobFailure> {
    const T: Duration = Duration::from_secs(20);
    let pool = &state.db;
    let current = crate::nodes::reach(state, server)
        .await
        .map_err(JobFailure::new)?;
    let host_key = current.pinned().map_err(JobFailure::new)?.clone();
    let (target, old_id, old_private) = (current.target, current.key_id, current.private_key);
    let old_public = db::ssh_keys::get(pool, old_id)
        .await?
        .ok_or_else(|| JobFailure::new("current key missing"))?;

    let name = format!(
        "{} (rotated {})",
        server.name,
        chrono::Utc::now().format("%Y-%m-%d %H:%M")
    );
    let new_key = crate::ssh_keys::generate(state, &name, KeyType::Ed25519, actor)
        .await
        .map_err(|e| JobFailure::new(e.public_message()))?;
    ctx.note(&format!("New key {} generated", new_key.fingerprint));
    let new_private = crate::nodes::keys::private_key(state, new_key.id)
        .await
        .map_err(|e| JobFailure::new(e.public_message()))?
        .ok_or_else(|| JobFailure::new("new key has no private half"))?;

    let session = Session::connect(&target, &old_private, &host_key, T).await?;
    let authorize = match fault {
        // A stand-in key: the node authorizes something, but not the key we then log in with.
        Some(KeyRotationFault::NewKeyRejected) => {
            crate::crypto::ssh::generate(KeyType::Ed25519, "decoy").public_openssh
        }
        None => new_key.public_key.clone(),
    };
    ctx.run_script(&session, &authorized_keys("add", &authorize), T)
        .await?;

    // Prove the new key works before anything depends on it.
    let (step, _) = db::jobs::start_step(pool, ctx.id(), "Log in with the new key").await?;
    let proof = async {
        let s = Session::connect(&target, &new_private, &host_key, T).await?;
        let out = s.run(&Command::new("true"), T, |_, _| {}).await?;
        s.disconnect().await;
        Ok::<_, crate::ssh::client::SshError>(out.success())
    }
    .await;
    let proven = matches!(proof, Ok(true));
    let status = if proven {
        StepStatus::Done
    } else {
        StepStatus::Failed
    };
    db::jobs::finish_step(pool, step, status).await?;
    if !proven {
        let why = match proof {
            Err(e) => e.to_string(),
            Ok(_) => "the test command failed".into(),
        };
        ctx.note(&format!(
            "The new key could not log in ({why}); rolling back"
        ));
        if let Err(e) = ctx
            .run_script(&session, &authorized_keys("remove", &authorize), T)
            .await
        {
            ctx.note(&format!(
                "Could not remove the new key from the node: {}",
                e.message
            ));
        }
        let _ = crate::ssh_keys::delete(state, new_key.id).await;
        session.disconnect().await;
        return Err(JobFailure::new(format!(
            "the new key could not log in ({why}); nothing was changed"
        )));
    }
    ctx.note("Logged in with the new key");

    db::servers::set_ssh_key(pool, server.id, new_key.id).await?;
    ctx.note("The server now uses the new key");
    session.disconnect().await;

    // Remove the old key with the new one, so the old key's loss is proven harmless.
    let session = Session::connect(&target, &new_private, &host_key, T).await?;
    let remove = authorized_keys("remove", &old_public.public_key);
    if let Err(e) = ctx.run_script(&session, &remove, T).await {
        ctx.note(&format!(
            "The old key is still authorized on the node: {}",
            e.message
        ));
    }
    session.disconnect().await;
    Ok(())
}
