//! Push webhooks: who sent one (GitHub, GitLab, or anything that signs with a plain HMAC), whether
//! it is genuine, and which branch it pushed. Verification is over the raw body, before any of
//! it is parsed; the payload is data from then on (a commit message with `;`, `$()` or
//! backticks is stored and shown escaped, never run).
//!
//! - GitHub: `X-Hub-Signature-256: sha256=HEX`, HMAC-SHA256 of the body with the site's secret;
//!   `X-GitHub-Delivery` (unique per delivery) refuses a replay.
//! - GitLab: `X-Gitlab-Token` equal to the secret; `X-Gitlab-Event-UUID` (or
//!   `Idempotency-Key`) refuses a replay.
//! - Plain: `X-Panel-Timestamp: UNIX_SECONDS` and `X-Panel-Signature: sha256=HEX`, HMAC-SHA256 of
//!   `TIMESTAMP.BODY`; older or newer than five minutes is refused, and so is a signature seen
//!   before.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::domain::{CommitHash, GitBranch};

/// Largest webhook body read (GitHub's push payloads are far smaller unless a push carries
/// thousands of commits; those are refused with 413 and can be deployed from the panel).
pub const MAX_BODY: usize = 1024 * 1024;
/// A plain-HMAC request is valid this long either side of its timestamp.
pub const WINDOW_SECONDS: i64 = 300;
/// Longest untrusted text kept from a payload (pusher, subject).
const MAX_TEXT: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    GitHub,
    GitLab,
    Hmac,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::GitHub => "GitHub",
            Provider::GitLab => "GitLab",
            Provider::Hmac => "HMAC",
        }
    }
}

/// The headers verification looks at, as sent (absent ones `None`).
#[derive(Clone, Debug, Default)]
pub struct Headers<'a> {
    pub github_signature: Option<&'a str>,
    pub github_delivery: Option<&'a str>,
    pub github_event: Option<&'a str>,
    pub gitlab_token: Option<&'a str>,
    pub gitlab_event_uuid: Option<&'a str>,
    pub gitlab_event: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    pub panel_signature: Option<&'a str>,
    pub panel_timestamp: Option<&'a str>,
}

/// Why a request was refused. The handler maps each to a status; none says more than needed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "no signature: send X-Hub-Signature-256 (GitHub), X-Gitlab-Token (GitLab) or X-Panel-Signature with X-Panel-Timestamp"
    )]
    Unsigned,
    #[error("invalid signature")]
    BadSignature,
    #[error(
        "the request is too old or too new (X-Panel-Timestamp is checked to within five minutes)"
    )]
    Stale,
    #[error("the delivery has no id (X-GitHub-Delivery)")]
    NoDeliveryId,
}

/// A genuine request: who sent it and its delivery id (to refuse a replay).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub provider: Provider,
    pub delivery: String,
}

fn mac(secret: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    for p in parts {
        mac.update(p);
    }
    mac
}

/// `sha256=HEX` → the bytes.
fn signature_bytes(header: &str) -> Option<Vec<u8>> {
    hex::decode(header.trim().strip_prefix("sha256=")?).ok()
}

/// A delivery id as a sender gave it: printable, bounded; anything else is refused.
fn delivery_id(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()
        && t.len() <= 100
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    .then(|| t.to_owned())
}

/// Check a request against the site's secret. `now` is the current UNIX time.
pub fn verify(h: &Headers<'_>, body: &[u8], secret: &str, now: i64) -> Result<Verified, Refusal> {
    let key = secret.as_bytes();
    if let Some(sig) = h.github_signature {
        let given = signature_bytes(sig).ok_or(Refusal::BadSignature)?;
        mac(key, &[body])
            .verify_slice(&given)
            .map_err(|_| Refusal::BadSignature)?;
        let delivery = h
            .github_delivery
            .and_then(delivery_id)
            .ok_or(Refusal::NoDeliveryId)?;
        return Ok(Verified {
            provider: Provider::GitHub,
            delivery: format!("github:{delivery}"),
        });
    }
    if let Some(token) = h.gitlab_token {
        if !crate::crypto::constant_time_eq(token.as_bytes(), key) {
            return Err(Refusal::BadSignature);
        }
        // The same body again is the same delivery when GitLab gives no id.
        let delivery = h
            .gitlab_event_uuid
            .or(h.idempotency_key)
            .and_then(delivery_id)
            .unwrap_or_else(|| format!("body-{}", hex::encode(Sha256::digest(body))));
        return Ok(Verified {
            provider: Provider::GitLab,
            delivery: format!("gitlab:{delivery}"),
        });
    }
    if let Some(sig) = h.panel_signature {
        let given = signature_bytes(sig).ok_or(Refusal::BadSignature)?;
        let ts = h.panel_timestamp.ok_or(Refusal::Unsigned)?.trim();
        mac(key, &[ts.as_bytes(), b".", body])
            .verify_slice(&given)
            .map_err(|_| Refusal::BadSignature)?;
        let ts: i64 = ts.parse().map_err(|_| Refusal::Stale)?;
        if (now - ts).abs() > WINDOW_SECONDS {
            return Err(Refusal::Stale);
        }
        return Ok(Verified {
            provider: Provider::Hmac,
            delivery: format!("hmac:{}", hex::encode(given)),
        });
    }
    Err(Refusal::Unsigned)
}

/// `sha256=HEX` of `TIMESTAMP.BODY`, as a plain-HMAC sender computes it (CLI scripts, tests).
pub fn sign_plain(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let mac = mac(secret.as_bytes(), &[ts.as_bytes(), b".", body]);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `sha256=HEX` of the body, as GitHub signs it.
pub fn sign_github(secret: &str, body: &[u8]) -> String {
    let mac = mac(secret.as_bytes(), &[body]);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What a verified request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A push to a branch (`None`: the configured branch, from a plain request that names none).
    Push {
        branch: Option<GitBranch>,
        commit: Option<CommitHash>,
        pusher: Option<String>,
        subject: Option<String>,
    },
    /// Something that deploys nothing, and why (a tag, a deleted branch, another event).
    Ignored(String),
    /// GitHub's `ping` when a hook is added.
    Ping,
}

fn clean(text: &str) -> String {
    crate::domain::untrusted_text(text, MAX_TEXT)
}

fn str_at<'v>(v: &'v serde_json::Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

/// Read the event from a verified request. `Err`: the body is not the JSON it should be.
pub fn event(provider: Provider, h: &Headers<'_>, body: &[u8]) -> Result<Event, String> {
    let kind = match provider {
        Provider::GitHub => h.github_event.unwrap_or("push"),
        Provider::GitLab => h.gitlab_event.unwrap_or("Push Hook"),
        Provider::Hmac => "push",
    };
    match (provider, kind) {
        (Provider::GitHub, "ping") => return Ok(Event::Ping),
        (Provider::GitHub, "push") | (Provider::GitLab, "Push Hook") | (Provider::Hmac, _) => {}
        (_, other) => {
            return Ok(Event::Ignored(format!(
                "`{}` events do not deploy; only pushes do",
                clean(other)
            )));
        }
    }
    if provider == Provider::Hmac && body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Event::Push {
            branch: None,
            commit: None,
            pusher: None,
            subject: None,
        });
    }
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_owned())?;
    let git_ref = match (str_at(&v, &["ref"]), str_at(&v, &["branch"])) {
        (Some(r), _) => r.to_owned(),
        (None, Some(b)) if provider == Provider::Hmac => format!("refs/heads/{b}"),
        (None, None) if provider == Provider::Hmac => {
            return Ok(Event::Push {
                branch: None,
                commit: None,
                pusher: None,
                subject: None,
            });
        }
        _ => return Err("the push names no `ref`".into()),
    };
    if v.get("deleted").and_then(serde_json::Value::as_bool) == Some(true)
        || str_at(&v, &["after"]).is_some_and(|a| a.chars().all(|c| c == '0') && !a.is_empty())
    {
        return Ok(Event::Ignored("the push deleted the branch".into()));
    }
    let Some(branch) = GitBranch::from_ref(&git_ref) else {
        return Ok(Event::Ignored(format!(
            "`{}` is not a branch this panel deploys",
            clean(&git_ref)
        )));
    };
    let commit = str_at(&v, &["after"])
        .or_else(|| str_at(&v, &["checkout_sha"]))
        .and_then(|c| CommitHash::parse(c).ok());
    let pusher = str_at(&v, &["pusher", "name"])
        .or_else(|| str_at(&v, &["user_username"]))
        .map(clean);
    let subject = str_at(&v, &["head_commit", "message"])
        .or_else(|| {
            v.get("commits")
                .and_then(|c| c.as_array())
                .and_then(|c| c.last())
                .and_then(|c| c.get("message"))
                .and_then(|m| m.as_str())
        })
        .map(|m| clean(m.lines().next().unwrap_or_default()));
    Ok(Event::Push {
        branch: Some(branch),
        commit,
        pusher,
        subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented example: secret "It's a Secret to Everybody", body "Hello, World!".
    #[test]
    fn github_signatures_match_githubs_own_example() {
        assert_eq!(
            sign_github("It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        let sig = sign_github("s3cret", b"{}");
        let h = Headers {
            github_signature: Some(&sig),
            github_delivery: Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            ..Default::default()
        };
        let v = verify(&h, b"{}", "s3cret", 0).unwrap();
        assert_eq!(v.provider, Provider::GitHub);
        assert_eq!(v.delivery, "github:72d3162e-cc78-11e3-81ab-4c9367dc0958");
        assert_eq!(verify(&h, b"{ }", "s3cret", 0), Err(Refusal::BadSignature));
        assert_eq!(verify(&h, b"{}", "other", 0), Err(Refusal::BadSignature));
        let no_id = Headers {
            github_delivery: Some("bad id;x"),
            ..h.clone()
        };
        assert_eq!(
            verify(&no_id, b"{}", "s3cret", 0),
            Err(Refusal::NoDeliveryId)
        );
        let garbage = Headers {
            github_signature: Some("sha1=abc"),
            ..h
        };
        assert_eq!(
            verify(&garbage, b"{}", "s3cret", 0),
            Err(Refusal::BadSignature)
        );
    }

    #[test]
    fn gitlab_tokens_and_plain_signatures() {
        let h = Headers {
            gitlab_token: Some("s3cret"),
            gitlab_event_uuid: Some("a1b2"),
            ..Default::default()
        };
        assert_eq!(
            verify(&h, b"{}", "s3cret", 0).unwrap().delivery,
            "gitlab:a1b2"
        );
        assert_eq!(verify(&h, b"{}", "s3cre", 0), Err(Refusal::BadSignature));
        let no_uuid = Headers {
            gitlab_event_uuid: None,
            ..h
        };
        let a = verify(&no_uuid, b"{\"a\":1}", "s3cret", 0)
            .unwrap()
            .delivery;
        let b = verify(&no_uuid, b"{\"a\":2}", "s3cret", 0)
            .unwrap()
            .delivery;
        assert_ne!(a, b);

        let now = 1_800_000_000;
        let sig = sign_plain("s3cret", now, b"");
        let ts = now.to_string();
        let h = Headers {
            panel_signature: Some(&sig),
            panel_timestamp: Some(&ts),
            ..Default::default()
        };
        assert_eq!(
            verify(&h, b"", "s3cret", now + 10).unwrap().provider,
            Provider::Hmac
        );
        assert_eq!(verify(&h, b"", "s3cret", now + 301), Err(Refusal::Stale));
        assert_eq!(verify(&h, b"x", "s3cret", now), Err(Refusal::BadSignature));
        let shifted = (now + 1).to_string();
        let moved = Headers {
            panel_timestamp: Some(&shifted),
            ..h
        };
        assert_eq!(
            verify(&moved, b"", "s3cret", now),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(&Headers::default(), b"", "s3cret", now),
            Err(Refusal::Unsigned)
        );
    }

    #[test]
    fn push_payloads_are_read_as_data() {
        let body = br#"{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567",
            "pusher":{"name":"eve; $(id)"},"head_commit":{"message":"fix `id`\n\nbody $(touch /tmp/x)"}}"#;
        let h = Headers::default();
        assert_eq!(
            event(Provider::GitHub, &h, body).unwrap(),
            Event::Push {
                branch: Some(GitBranch::parse("main").unwrap()),
                commit: Some(
                    CommitHash::parse("0123456789abcdef0123456789abcdef01234567").unwrap()
                ),
                pusher: Some("eve; $(id)".into()),
                subject: Some("fix `id`".into()),
            }
        );
        let tag = br#"{"ref":"refs/tags/v1"}"#;
        assert!(matches!(
            event(Provider::GitLab, &h, tag).unwrap(),
            Event::Ignored(_)
        ));
        let deleted =
            br#"{"ref":"refs/heads/main","after":"0000000000000000000000000000000000000000"}"#;
        assert!(matches!(
            event(Provider::GitHub, &h, deleted).unwrap(),
            Event::Ignored(_)
        ));
        let ping = Headers {
            github_event: Some("ping"),
            ..Default::default()
        };
        assert_eq!(event(Provider::GitHub, &ping, b"{}").unwrap(), Event::Ping);
        let issues = Headers {
            github_event: Some("issues"),
            ..Default::default()
        };
        assert!(matches!(
            event(Provider::GitHub, &issues, b"{}").unwrap(),
            Event::Ignored(_)
        ));
        assert!(event(Provider::GitHub, &h, b"not json").is_err());
        assert_eq!(
            event(Provider::Hmac, &h, b"").unwrap(),
            Event::Push {
                branch: None,
                commit: None,
                pusher: None,
                subject: None
            }
        );
        match event(Provider::Hmac, &h, br#"{"branch":"release/2"}"#).unwrap() {
            Event::Push { branch, .. } => assert_eq!(branch.unwrap().as_str(), "release/2"),
            other => panic!("{other:?}"),
        }
    }
}
