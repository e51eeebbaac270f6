//! `panel ssh-key`: the SSH keys the panel logs in to servers with.

use std::io::Read;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use super::Failure;
use crate::db::{self};
use crate::domain::KeyType;
use crate::error::AppError;
use crate::ssh_keys;
use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum SshKeyCommand {
    /// Generate a key pair; prints the public key to put in authorized_keys.
    Generate {
        #[arg(long)]
        name: String,
        #[arg(long = "type", value_enum, default_value_t = KeyTypeArg::Ed25519)]
        key_type: KeyTypeArg,
    },
    /// Import an unencrypted OpenSSH private key, or a public key alone, from FILE (`-` = stdin).
    Import {
        #[arg(long)]
        name: String,
        file: PathBuf,
    },
    /// List keys with their SHA256 fingerprints.
    List,
    /// Print a key's public half (by id or name).
    Show { key: String },
    /// Delete a key (refused while a server uses it).
    Delete { key: String },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KeyTypeArg {
    Ed25519,
    Rsa,
}

impl From<KeyTypeArg> for KeyType {
    fn from(k: KeyTypeArg) -> Self {
        match k {
            KeyTypeArg::Ed25519 => KeyType::Ed25519,
            KeyTypeArg::Rsa => KeyType::Rsa,
        }
    }
}

pub(super) async fn run(cmd: SshKeyCommand, state: &AppState) -> Result<(), Failure> {
    let pool = &state.db;
    match cmd {
        SshKeyCommand::Generate { name, key_type } => {
            let done = ssh_keys::generate(state, &name, key_type.into(), None).await;
            let target = done.as_ref().ok().map(|k| k.id.to_string());
            super::audit(state, "ssh-keys.create", target, done.is_ok()).await;
            let key = done?;
            print_key("Generated", &key);
        }
        SshKeyCommand::Import { name, file } => {
            let text = read_limited(&file)?;
            let done = ssh_keys::import(state, &name, &text, None).await;
            let target = done.as_ref().ok().map(|k| k.id.to_string());
            super::audit(state, "ssh-keys.import", target, done.is_ok()).await;
            let key = done?;
            print_key("Imported", &key);
        }
        SshKeyCommand::List => {
            let all = db::ssh_keys::list(pool).await.map_err(AppError::from)?;
            if all.is_empty() {
                println!("No SSH keys yet. Create one with: panel ssh-key generate --name NAME");
            } else {
                println!(
                    "{:<26}  {:<24}  {:<7}  {:<50}  {:<7}  USED BY",
                    "ID", "NAME", "TYPE", "FINGERPRINT", "PRIVATE"
                );
                for k in all {
                    println!(
                        "{:<26}  {:<24}  {:<7}  {:<50}  {:<7}  {}",
                        k.id,
                        k.name,
                        k.key_type.as_str(),
                        k.fingerprint,
                        if k.has_private_key { "yes" } else { "no" },
                        k.used_by.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        SshKeyCommand::Show { key } => {
            println!("{}", ssh_keys::resolve(state, &key).await?.public_key);
        }
        SshKeyCommand::Delete { key } => {
            let k = ssh_keys::resolve(state, &key).await?;
            let done = ssh_keys::delete(state, k.id).await;
            super::audit(
                state,
                "ssh-keys.delete",
                Some(k.id.to_string()),
                done.is_ok(),
            )
            .await;
            done?;
            println!("Deleted key {} ({})", k.name, k.fingerprint);
        }
    }
    Ok(())
}

fn print_key(verb: &str, key: &crate::db::ssh_keys::SshKeyPublic) {
    println!("{verb} {} key “{}”", key.key_type, key.name);
    println!("ID:          {}", key.id);
    println!("Fingerprint: {}", key.fingerprint);
    println!(
        "Private key: {}",
        if key.has_private_key {
            "stored encrypted"
        } else {
            "none (public key only)"
        }
    );
    println!("Public key:");
    println!("{}", key.public_key);
}

/// Read a key file (or stdin for `-`), refusing anything far larger than a key before parsing.
fn read_limited(file: &PathBuf) -> Result<String, Failure> {
    let limit = crate::crypto::ssh::MAX_KEY_TEXT as u64 + 1;
    let mut buf = Vec::new();
    let read = if file.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_end(&mut buf)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(limit).read_to_end(&mut buf))
    };
    read.map_err(|e| Failure {
        code: 2,
        message: format!("key: cannot read {}: {e}", file.display()),
    })?;
    String::from_utf8(buf).map_err(|_| Failure {
        code: 2,
        message: "key: the file is not text; expected an OpenSSH key".into(),
    })
}
