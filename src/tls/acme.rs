//! The ACME client (RFC 8555, `instant-acme`): the panel's account per directory, an order's
//! HTTP-01 challenges for the caller to publish, and the certificate once the CA has checked
//! them. Every failure comes back explained (`explain`).

use std::path::Path;
use std::time::Duration;

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, Order, OrderStatus, RetryPolicy,
};
use zeroize::Zeroizing;

use super::explain::{self, Explained};

/// Where the panel's ACME account lives.
#[derive(Clone, Debug)]
pub struct Directory<'a> {
    pub url: &'a str,
    /// A CA root to trust for the directory's own HTTPS (a test CA such as pebble's); the
    /// system's roots otherwise.
    pub ca_root: Option<&'a Path>,
    /// `mailto:` contact for the CA's expiry and policy mail.
    pub contact: Option<&'a str>,
}

fn unreachable(dir: &Directory<'_>, e: impl std::fmt::Display) -> Explained {
    explain::unreachable(dir.url, &e.to_string())
}

/// The account: restored from `stored` credentials (JSON), or created, in which case the new
/// credentials come back to be sealed and stored.
pub async fn account(
    dir: &Directory<'_>,
    stored: Option<&str>,
) -> Result<(Account, Option<Zeroizing<String>>), Explained> {
    let builder = match dir.ca_root {
        Some(root) => Account::builder_with_root(root),
        None => Account::builder(),
    }
    .map_err(|e| unreachable(dir, e))?;
    if let Some(json) = stored {
        let creds: AccountCredentials =
            serde_json::from_str(json).map_err(|e| unreachable(dir, e))?;
        let account = builder
            .from_credentials(creds)
            .await
            .map_err(|e| failure(dir, "", e))?;
        return Ok((account, None));
    }
    let contact: Vec<String> = dir
        .contact
        .map(|c| format!("mailto:{c}"))
        .into_iter()
        .collect();
    let contact: Vec<&str> = contact.iter().map(String::as_str).collect();
    let (account, creds) = builder
        .create(
            &NewAccount {
                contact: &contact,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            dir.url.to_owned(),
            None,
        )
        .await
        .map_err(|e| failure(dir, "", e))?;
    let json = serde_json::to_string(&creds).map_err(|e| unreachable(dir, e))?;
    Ok((account, Some(Zeroizing::new(json))))
}

/// A CA error for `name`: its problem document explained, or the transport failure.
fn failure(dir: &Directory<'_>, name: &str, e: instant_acme::Error) -> Explained {
    match e {
        instant_acme::Error::Api(p) => explain::problem(
            name,
            p.r#type.as_deref().unwrap_or(""),
            p.detail.as_deref().unwrap_or(""),
        ),
        other => unreachable(dir, other),
    }
}

/// How the CA checks the names: a file over HTTP (`http-01`) or a TXT record (`dns-01`, the
/// only way to a wildcard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    Http01,
    Dns01,
}

impl Proof {
    fn challenge_type(self) -> ChallengeType {
        match self {
            Proof::Http01 => ChallengeType::Http01,
            Proof::Dns01 => ChallengeType::Dns01,
        }
    }
}

/// One challenge. HTTP-01: serve `key_authorization` at
/// `http://NAME/.well-known/acme-challenge/TOKEN`; DNS-01: a TXT record `dns_value` at
/// `_acme-challenge.NAME` (a wildcard's `*.` dropped).
#[derive(Clone, Debug)]
pub struct Challenge {
    pub name: String,
    pub token: String,
    pub key_authorization: String,
    pub dns_name: String,
    pub dns_value: String,
}

/// An order whose challenges are to be published before `finish`.
pub struct Pending {
    order: Order,
    names: Vec<String>,
    proof: Proof,
    pub challenges: Vec<Challenge>,
}

/// Order a certificate for `names` (the first is the site's domain) and read its challenges.
pub async fn start(
    dir: &Directory<'_>,
    account: &Account,
    names: &[String],
    proof: Proof,
) -> Result<Pending, Explained> {
    let first = names.first().map(String::as_str).unwrap_or("");
    let ids: Vec<Identifier> = names.iter().map(|n| Identifier::Dns(n.clone())).collect();
    let mut order = account
        .new_order(&NewOrder::new(&ids))
        .await
        .map_err(|e| failure(dir, first, e))?;
    let mut challenges = Vec::new();
    let mut auths = order.authorizations();
    while let Some(auth) = auths.next().await {
        let mut auth = auth.map_err(|e| failure(dir, first, e))?;
        if auth.status != AuthorizationStatus::Pending {
            continue; // already valid (a recent order for the same name)
        }
        let name = auth.identifier().to_string();
        // The record and file names come from what the panel asked for, never from elsewhere.
        if !names.iter().any(|n| n == &name) {
            return Err(Explained {
                kind: "ca",
                text: format!(
                    "The CA asked to prove a name that was not requested ({}); refused.",
                    name.chars().take(80).collect::<String>()
                ),
            });
        }
        let ch = auth
            .challenge(proof.challenge_type())
            .ok_or_else(|| Explained {
                kind: "ca",
                text: format!("The CA offers no {proof:?} challenge for {name}."),
            })?;
        let key = ch.key_authorization();
        challenges.push(Challenge {
            dns_name: format!("_acme-challenge.{}", name.trim_start_matches("*.")),
            dns_value: key.dns_value(),
            key_authorization: key.as_str().to_owned(),
            token: ch.token.clone(),
            name,
        });
    }
    Ok(Pending {
        order,
        names: names.to_vec(),
        proof,
        challenges,
    })
}

/// What the CA issued: the chain (leaf first) and the new key, both PEM.
pub struct Issued {
    pub chain_pem: String,
    pub key_pem: Zeroizing<String>,
}

/// Tell the CA the challenges are published, wait (at most `patience`) for it to check them,
/// then finalize with a new key and fetch the chain.
pub async fn finish(
    dir: &Directory<'_>,
    mut pending: Pending,
    patience: Duration,
) -> Result<Issued, Explained> {
    let first = pending.names.first().cloned().unwrap_or_default();
    {
        let mut auths = pending.order.authorizations();
        while let Some(auth) = auths.next().await {
            let mut auth = auth.map_err(|e| failure(dir, &first, e))?;
            if auth.status != AuthorizationStatus::Pending {
                continue;
            }
            let mut ch = auth
                .challenge(pending.proof.challenge_type())
                .ok_or_else(|| unreachable(dir, "the challenge went away"))?;
            ch.set_ready().await.map_err(|e| failure(dir, &first, e))?;
        }
    }
    let policy = RetryPolicy::new()
        .initial_delay(Duration::from_millis(250))
        .backoff(1.5)
        .timeout(patience);
    let status = match pending.order.poll_ready(&policy).await {
        Ok(s) => s,
        Err(instant_acme::Error::Timeout(_)) => {
            return Err(Explained {
                kind: "timeout",
                text: format!(
                    "The CA did not finish checking the challenges within {} s; the panel tries \
                     again later.",
                    patience.as_secs()
                ),
            });
        }
        Err(e) => return Err(failure(dir, &first, e)),
    };
    if status != OrderStatus::Ready {
        return Err(why_invalid(dir, &mut pending.order, &first).await);
    }
    let key_pem = pending
        .order
        .finalize()
        .await
        .map_err(|e| failure(dir, &first, e))?;
    let chain_pem = pending
        .order
        .poll_certificate(&policy)
        .await
        .map_err(|e| failure(dir, &first, e))?;
    Ok(Issued {
        chain_pem,
        key_pem: Zeroizing::new(key_pem),
    })
}

/// The first challenge error of an invalid order, explained for its name.
async fn why_invalid(dir: &Directory<'_>, order: &mut Order, first: &str) -> Explained {
    let mut auths = order.authorizations();
    while let Some(auth) = auths.next().await {
        let Ok(auth) = auth else { continue };
        let name = auth.identifier().to_string();
        for ch in &auth.challenges {
            if let Some(p) = &ch.error {
                return explain::problem(
                    &name,
                    p.r#type.as_deref().unwrap_or(""),
                    p.detail.as_deref().unwrap_or(""),
                );
            }
        }
    }
    let _ = dir;
    Explained {
        kind: "ca",
        text: format!("The CA marked the order for {first} invalid without saying why."),
    }
}
