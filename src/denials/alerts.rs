//! SELinux alert mail. The first denial of a kind on a server is mailed at once; later ones of
//! that kind are gathered into a digest sent every `digest_minutes`. SELinux switched to
//! permissive (`MAC_STATUS enforcing=0`) and boolean changes (`MAC_CONFIG_CHANGE`) are always
//! mailed at once. Messages go through a persisted outbox: a failed send is retried with
//! backoff and stays visible on the SELinux page, so nothing is dropped silently. Everything
//! from a node is escaped in the HTML part and bounded in both.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use maud::{Markup, html};
use tokio::sync::{Notify, broadcast};
use tokio::task::JoinHandle;

use crate::config::{SmtpConfig, SmtpTls};
use crate::db::{self, Pool};
use crate::selinux::audit::RecordType;
use crate::selinux::explain;
use crate::selinux::live::LiveRecord;

/// Longest subject and node text in a message.
const SUBJECT_MAX: usize = 150;
const TEXT_MAX: usize = 500;
/// Kinds listed in one digest (the rest are counted).
const DIGEST_KINDS: usize = 50;
/// How long one send may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// Node text for a message: control characters dropped (no header or line injection), the
/// panel's own typography in plain ASCII, at most `max` characters.
fn bounded(text: &str, max: usize) -> String {
    let mut clean = String::with_capacity(text.len().min(max * 2));
    for c in text.chars().filter(|c| !c.is_control()) {
        match c {
            '→' => clean.push_str("->"),
            '—' => clean.push('-'),
            '…' => clean.push_str("..."),
            '×' => clean.push('x'),
            c => clean.push(c),
        }
    }
    match clean.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &clean[..cut]),
        None => clean,
    }
}

/// A message ready for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub kind: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn page(title: &str, body: Markup) -> String {
    html! {
        (maud::DOCTYPE)
        html { head { meta charset="utf-8"; title { (title) } }
            body style="font-family: sans-serif" { h2 { (title) } (body) } }
    }
    .into_string()
}

/// The message for one record that is mailed at once, if it is one.
pub fn immediate(r: &LiveRecord, first_of_kind: bool, panel_url: &str) -> Option<Outgoing> {
    let server = bounded(&r.server_name, 60);
    let link = format!(
        "{panel_url}{}",
        crate::paths::with_id(crate::paths::SELINUX_RECORD, r.id)
    );
    let rec = &r.record;
    let (subject, lines): (String, Vec<String>) = match (rec.record_type, &r.explanation) {
        (Some(RecordType::MacStatus), _) if rec.enforcing == Some(false) => (
            format!("SELinux switched to permissive on {server}"),
            vec![
                "The server stopped enforcing its SELinux policy (setenforce 0).".into(),
                "If nobody on your team did this, treat it as an attack.".into(),
            ],
        ),
        (Some(RecordType::MacConfigChange), _) => {
            let b = bounded(rec.bool.as_deref().unwrap_or("?"), 80);
            let v = match rec.value {
                Some(true) => "on",
                Some(false) => "off",
                None => "?",
            };
            (
                format!("SELinux boolean {b} set {v} on {server}"),
                vec![format!(
                    "The boolean {b} was set {v}. Booleans widen or narrow what the policy allows."
                )],
            )
        }
        (_, Some(e)) if first_of_kind => (
            format!(
                "{}SELinux denial on {server}: {} -> {}",
                if e.severity == explain::Severity::Critical {
                    "POSSIBLE BREACH: "
                } else {
                    ""
                },
                bounded(rec.source_type.as_deref().unwrap_or("?"), 60),
                bounded(rec.target_type.as_deref().unwrap_or("?"), 60),
            ),
            vec![
                bounded(&e.summary, TEXT_MAX),
                e.suggestion
                    .as_deref()
                    .map(|s| format!("To consider: {}", bounded(s, TEXT_MAX)))
                    .unwrap_or_default(),
                format!(
                    "Record: {}",
                    bounded(&crate::selinux::audit::to_text(rec), TEXT_MAX)
                ),
                "Further denials of this kind on this server come in the digest.".into(),
            ],
        ),
        _ => return None,
    };
    let subject = format!("[Panel] {}", bounded(&subject, SUBJECT_MAX));
    let mut text = lines
        .iter()
        .filter(|l| !l.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n\n");
    text.push_str(&format!("\n\n{link}\n"));
    let html = page(
        &subject,
        html! {
            @for l in lines.iter().filter(|l| !l.is_empty()) { p { (l) } }
            p { a href=(link) { "Open it in the panel" } }
        },
    );
    Some(Outgoing {
        kind: "alert",
        subject,
        text,
        html,
    })
}

/// Denials waiting for the next digest: (server, kind) → (count, example).
#[derive(Default)]
pub struct Digest {
    kinds: BTreeMap<(String, String), (u64, LiveRecord)>,
}

impl Digest {
    pub fn add(&mut self, r: LiveRecord) {
        let key = (
            r.server_name.clone(),
            format!("{:?}", explain::key(&r.record)),
        );
        self.kinds.entry(key).or_insert((0, r)).0 += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// The digest message, emptying the digest.
    pub fn take(&mut self, panel_url: &str) -> Option<Outgoing> {
        if self.kinds.is_empty() {
            return None;
        }
        let kinds = std::mem::take(&mut self.kinds);
        let total: u64 = kinds.values().map(|(n, _)| n).sum();
        let servers = kinds
            .keys()
            .map(|(s, _)| s)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let subject = format!("[Panel] SELinux digest: {total} denial(s) on {servers} server(s)");
        let rows: Vec<(String, u64, String, String)> = kinds
            .values()
            .take(DIGEST_KINDS)
            .map(|(n, r)| {
                let what = format!(
                    "{} -> {} {} {{ {} }}",
                    r.record.source_type.as_deref().unwrap_or("?"),
                    r.record.target_type.as_deref().unwrap_or("?"),
                    r.record.tclass.as_deref().unwrap_or("?"),
                    r.record.permissions.join(" ")
                );
                let why = r
                    .explanation
                    .as_ref()
                    .map(|e| e.summary.clone())
                    .unwrap_or_default();
                (
                    bounded(&r.server_name, 60),
                    *n,
                    bounded(&what, 200),
                    bounded(&why, 300),
                )
            })
            .collect();
        let more = kinds.len().saturating_sub(DIGEST_KINDS);
        let mut text = String::new();
        for (server, n, what, why) in &rows {
            text.push_str(&format!("{server}: {n}x {what}\n  {why}\n"));
        }
        if more > 0 {
            text.push_str(&format!("...and {more} more kind(s).\n"));
        }
        text.push_str(&format!("\n{panel_url}{}\n", crate::paths::SELINUX));
        let html = page(
            &subject,
            html! {
                table {
                    tr { th { "Server" } th { "Count" } th { "Denial" } th { "What it means" } }
                    @for (server, n, what, why) in &rows { tr { td { (server) } td { (n) } td { code { (what) } } td { (why) } } }
                }
                @if more > 0 { p { "...and " (more) " more kind(s)." } }
                p { a href=(format!("{panel_url}{}", crate::paths::SELINUX)) { "Open the SELinux page" } }
            },
        );
        Some(Outgoing {
            kind: "digest",
            subject,
            text,
            html,
        })
    }
}

/// Start the alert policy and the sender; nothing is started without SMTP settings.
pub fn spawn(
    pool: Pool,
    smtp: Option<SmtpConfig>,
    panel_url: String,
    audit: &broadcast::Sender<LiveRecord>,
) -> Vec<JoinHandle<()>> {
    let Some(smtp) = smtp else {
        return Vec::new();
    };
    let wake = Arc::new(Notify::new());
    let mut rx = audit.subscribe();
    let policy = {
        let (pool, wake, digest_every) = (pool.clone(), wake.clone(), smtp.digest);
        tokio::spawn(async move {
            let mut digest = Digest::default();
            // The digest goes out `digest_every` after its first entry, so a burst lands in one.
            let mut due: Option<tokio::time::Instant> = None;
            loop {
                let send_at = due.unwrap_or_else(|| tokio::time::Instant::now() + digest_every);
                tokio::select! {
                    r = rx.recv() => match r {
                        Ok(r) => {
                            let first = match (&r.explanation, r.record.denied) {
                                (Some(_), Some(true)) => {
                                    let kind = bounded(&format!("{:?}", explain::key(&r.record)), 1000);
                                    db::mail::first_of_kind(&pool, r.server_id, &kind).await.unwrap_or(true)
                                }
                                _ => false,
                            };
                            match immediate(&r, first, &panel_url) {
                                Some(m) => queue(&pool, &m, &wake).await,
                                None if r.explanation.is_some() => {
                                    digest.add(r);
                                    due.get_or_insert_with(|| {
                                        tokio::time::Instant::now() + digest_every
                                    });
                                }
                                None => {}
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!("alert mail fell {n} records behind; they are on the SELinux page");
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    _ = tokio::time::sleep_until(send_at), if due.is_some() => {
                        due = None;
                        if let Some(m) = digest.take(&panel_url) {
                            queue(&pool, &m, &wake).await;
                        }
                    }
                }
            }
        })
    };
    let sender = tokio::spawn(async move {
        loop {
            send_due(&pool, &smtp).await;
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    });
    vec![policy, sender]
}

async fn queue(pool: &Pool, m: &Outgoing, wake: &Notify) {
    match db::mail::enqueue(pool, m.kind, &m.subject, &m.text, &m.html).await {
        Ok(_) => wake.notify_one(),
        Err(e) => tracing::error!(error = %e, "queueing an alert mail failed"),
    }
}

/// Wait before the next attempt: 10 s, doubling, at most an hour.
pub fn backoff(attempts: i64) -> Duration {
    Duration::from_secs(10u64.saturating_mul(1 << attempts.clamp(0, 9)))
        .min(Duration::from_secs(3600))
}

fn transport(smtp: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match smtp.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| e.to_string())?,
        SmtpTls::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| e.to_string())?
        }
    };
    let mut builder = builder.port(smtp.port).timeout(Some(SEND_TIMEOUT));
    if let (Some(user), Some(pw)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), pw.expose().to_owned()));
    }
    Ok(builder.build())
}

fn message(smtp: &SmtpConfig, m: &db::mail::Mail) -> Result<Message, String> {
    let mut b = Message::builder()
        .from(smtp.from.clone())
        .subject(m.subject.clone());
    for to in &smtp.to {
        b = b.to(Mailbox::clone(to));
    }
    b.multipart(MultiPart::alternative_plain_html(
        m.text_body.clone(),
        m.html_body.clone(),
    ))
    .map_err(|e| e.to_string())
}

/// Send every due message; a failure is recorded with the next attempt's time.
pub async fn send_due(pool: &Pool, smtp: &SmtpConfig) {
    let due = match db::mail::due(pool, &db::now(), 20).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "reading the mail outbox failed");
            return;
        }
    };
    if due.is_empty() {
        return;
    }
    let transport = transport(smtp);
    for m in due {
        let result = match (&transport, message(smtp, &m)) {
            (Ok(t), Ok(msg)) => t.send(msg).await.map(|_| ()).map_err(|e| e.to_string()),
            (Err(e), _) => Err(e.clone()),
            (_, Err(e)) => Err(e),
        };
        let stored = match result {
            Ok(()) => db::mail::mark_sent(pool, m.id).await,
            Err(e) => {
                let next = chrono::Utc::now()
                    + chrono::Duration::from_std(backoff(m.attempts)).unwrap_or_default();
                tracing::warn!(mail = %m.id, error = %e, "sending an alert mail failed; retrying later");
                db::mail::mark_failed(pool, m.id, &bounded(&e, 500), &db::timestamp(next)).await
            }
        };
        if let Err(e) = stored {
            tracing::error!(error = %e, "recording a mail attempt failed");
        }
    }
}
