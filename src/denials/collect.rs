//! Following every active server's audit log. One task per server reads what was appended
//! since the stored position (inode + byte offset; a rotated log is finished before the new one
//! is read, a truncated one is read again from the start), parses it, stores the SELinux
//! records in one transaction with the new position (deduplicated on the event, so a record
//! read twice after a dropped connection is stored once), and announces new denials to the
//! live stream. A failed read (the connection dropped, the node rebooted) is retried with
//! backoff from the same position: nothing is skipped.

use std::collections::HashMap;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::db::selinux::NewAuditRecord;
use crate::db::{self};
use crate::domain::LogLevel;
use crate::ids::ServerId;
use crate::selinux::audit::{self, Record, RecordType};
use crate::selinux::explain::{self, Severity};
use crate::selinux::live::LiveRecord;
use crate::ssh::Script;
use crate::state::AppState;

pub const READ_SCRIPT: &str = include_str!("../../setup/audit-read.sh");
/// At most this much log per read; a bigger backlog is read in several. Below what a read
/// captures of a command's output (`MAX_CAPTURE`, with room for the position line): a read
/// that lost its end would move the position past records never seen.
const MAX_READ: usize = 768 << 10;
const _: () = assert!(MAX_READ + 4096 < crate::ssh::client::MAX_CAPTURE);
/// How long one read waits on the node for a quiet log to grow (a long poll), and the pause
/// before the next read when a read came back at once with nothing (a node whose log cannot
/// be followed is then read twice a second instead of in a tight loop). A change wakes the
/// node at once, so this bounds only how often a quiet server is asked (100 idle servers:
/// four reads a second at 25 s; the read's limit, 35 s, stays under common NAT idle times).
const WAIT: Duration = Duration::from_secs(25);
const INTERVAL: Duration = Duration::from_millis(500);
/// How often a server without an audit log is asked again.
const NO_LOG_INTERVAL: Duration = Duration::from_secs(5);
/// Longest stored message (the full parsed record is in the context).
const MAX_MESSAGE: usize = 1_000;
/// How often the set of active servers is looked at.
const SUPERVISE: Duration = Duration::from_secs(2);

/// Follows every active server's audit log with what the panel shares.
#[derive(Clone)]
pub struct Collector {
    state: AppState,
}

impl Collector {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    /// Keep one reader per active server until the returned task is aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut readers = Readers::default();
            loop {
                let active: Vec<ServerId> = match db::servers::active_ids(&self.state.db).await {
                    Ok(ids) => ids,
                    Err(e) => {
                        tracing::warn!(error = %e, "listing servers for audit collection failed");
                        Vec::new()
                    }
                };
                readers.0.retain(|id, task| {
                    let keep = active.contains(id) && !task.is_finished();
                    if !keep {
                        task.abort();
                    }
                    keep
                });
                for id in active {
                    readers
                        .0
                        .entry(id)
                        .or_insert_with(|| tokio::spawn(self.clone().follow(id)));
                }
                tokio::time::sleep(SUPERVISE).await;
            }
        })
    }

    async fn follow(self, id: ServerId) {
        let mut failures: u32 = 0;
        let mut budget = Budget::new(self.state.config.retention.audit_records_per_minute);
        while !self.state.db.is_closed() {
            let started = std::time::Instant::now();
            let pause = match self.read_once(id, &mut budget).await {
                Ok(Read::More) => {
                    failures = 0;
                    Duration::ZERO
                }
                // Caught up, or the node waited for the log to change: ask again at once
                // (the next read waits on the node).
                Ok(Read::Done) => {
                    failures = 0;
                    Duration::ZERO
                }
                Ok(Read::Quiet) if started.elapsed() >= Duration::from_secs(1) => {
                    failures = 0;
                    Duration::ZERO
                }
                // Nothing new, and the node did not wait: do not ask again in a tight loop.
                Ok(Read::Quiet) => {
                    failures = 0;
                    INTERVAL
                }
                Ok(Read::NoLog) => NO_LOG_INTERVAL,
                Err(e) => {
                    failures += 1;
                    // A broken pooled connection is not reused.
                    self.state.ssh.forget(id);
                    let wait =
                        Duration::from_millis(500 << failures.min(7)).min(Duration::from_secs(60));
                    tracing::info!(server = %id, error = %e, "reading the audit log failed; retrying in {wait:?}");
                    wait
                }
            };
            tokio::time::sleep(pause).await;
        }
    }

    /// Read, store and announce what was appended since the stored position.
    pub async fn read_once(&self, id: ServerId, budget: &mut Budget) -> Result<Read, String> {
        let server = db::servers::get(&self.state.db, id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the server is gone")?;
        let (inode, offset) = db::selinux::position(&self.state.db, id)
            .await
            .map_err(|e| e.to_string())?;
        let script = Script::new("audit-read", READ_SCRIPT)
            .arg(inode)
            .arg(offset)
            .arg(MAX_READ)
            .arg(WAIT.as_secs());
        let out = crate::nodes::read_script_within(
            &self.state,
            &server,
            &script,
            WAIT + Duration::from_secs(10),
        )
        .await
        .map_err(|e| e.public_message())?;
        let (first, text) = out.split_once('\n').unwrap_or((out.as_str(), ""));
        if first.starts_with("error=") {
            return Ok(Read::NoLog);
        }
        let position = parse_position(first).ok_or("the node's answer had no position")?;
        if text.is_empty() && position == (inode, offset) {
            // A quiet log (the long poll's usual answer): nothing to store, not even the
            // position, so a hundred idle servers cost the database no writes.
            return Ok(Read::Quiet);
        }
        let (records, _skipped) = crate::selinux::stream::parse(text);
        // Past the server's allowance this minute, denials are counted, not stored. SELinux
        // switched off or a boolean changed (MAC_STATUS, MAC_CONFIG_CHANGE: root's doing, never
        // a tenant's flood) is always stored.
        // Rows first, from every record: a record's place in its event (what deduplicates a
        // record read twice) does not depend on which of the event's records were kept.
        let rows = stored(&records);
        let mut kept = Vec::new();
        let mut dropped = 0usize;
        for (record, row) in records.into_iter().zip(rows) {
            let always = matches!(
                record.record_type,
                Some(RecordType::MacStatus | RecordType::MacConfigChange)
            );
            if always || budget.take(1) == 1 {
                kept.push((record, row));
            } else {
                dropped += 1;
            }
        }
        let (records, rows): (Vec<Record>, Vec<_>) = kept.into_iter().unzip();
        let (new_rows, explanations): (Vec<NewAuditRecord>, Vec<Option<explain::Explanation>>) =
            rows.into_iter().unzip();
        let new = db::selinux::store_batch(
            &self.state.db,
            id,
            &new_rows,
            position,
            i64::try_from(dropped).unwrap_or(i64::MAX),
        )
        .await
        .map_err(|e| e.to_string())?;
        if dropped > 0 && budget.should_warn() {
            let _ = db::servers::log(
                &self.state.db,
                id,
                LogLevel::Warning,
                "more SELinux records than the allowance a minute: the excess is counted, not stored",
                &serde_json::json!({ "dropped": dropped, "per_minute": budget.limit }),
            )
            .await;
        }
        for (i, row_id) in new {
            // No one listening is fine: the rows are stored.
            let _ = self.state.audit.send(LiveRecord {
                id: row_id,
                server_id: id,
                server_name: server.name.clone(),
                level: new_rows[i].level,
                record: records[i].clone(),
                explanation: explanations[i].clone(),
            });
        }
        Ok(if text.len() >= MAX_READ / 2 {
            Read::More
        } else if text.is_empty() {
            Read::Quiet
        } else {
            Read::Done
        })
    }
}

/// How many records of one server may be stored per minute (a fixed window), and when the
/// server log last said some were not.
pub struct Budget {
    limit: u32,
    window: std::time::Instant,
    used: u32,
    warned: Option<std::time::Instant>,
}

impl Budget {
    pub fn new(limit: u32) -> Self {
        Budget {
            limit,
            window: std::time::Instant::now(),
            used: 0,
            warned: None,
        }
    }

    /// Of `n` records, how many may be stored now.
    pub fn take(&mut self, n: usize) -> usize {
        if self.window.elapsed() >= Duration::from_secs(60) {
            self.window = std::time::Instant::now();
            self.used = 0;
        }
        let room = self.limit.saturating_sub(self.used) as usize;
        let allowed = n.min(room);
        self.used += u32::try_from(allowed).unwrap_or(u32::MAX);
        allowed
    }

    /// At most once a minute.
    fn should_warn(&mut self) -> bool {
        let due = self
            .warned
            .is_none_or(|w| w.elapsed() >= Duration::from_secs(60));
        if due {
            self.warned = Some(std::time::Instant::now());
        }
        due
    }
}

/// The per-server readers; when the supervisor stops (the panel shuts down), so do they.
#[derive(Default)]
struct Readers(HashMap<ServerId, JoinHandle<()>>);

impl Drop for Readers {
    fn drop(&mut self) {
        for task in self.0.values() {
            task.abort();
        }
    }
}

/// How a read went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// There may be more to read at once.
    More,
    /// Read what was new and caught up.
    Done,
    /// Nothing was new (after the node waited for it, or at once where it cannot).
    Quiet,
    /// The server has no audit log (auditd not installed).
    NoLog,
}

fn parse_position(line: &str) -> Option<(i64, i64)> {
    let rest = line.strip_prefix("pos=")?;
    let (inode, offset) = rest.trim().split_once(' ')?;
    Some((inode.parse().ok()?, offset.parse().ok()?))
}

/// The level a record is stored at: a cross-site denial is an error, any other denial a
/// warning, SELinux switched off a warning, the rest information.
pub fn level(r: &Record, e: Option<&explain::Explanation>) -> LogLevel {
    match (r.record_type, e) {
        (_, Some(e)) if e.severity == Severity::Critical => LogLevel::Error,
        (_, Some(_)) => LogLevel::Warning,
        (Some(RecordType::MacStatus), _) if r.enforcing == Some(false) => LogLevel::Warning,
        (Some(RecordType::SelinuxErr), _) => LogLevel::Warning,
        _ => LogLevel::Info,
    }
}

/// Rows for a batch of records: bounded message, every parsed field and the explanation in the
/// context, and the record's place among its event's records.
fn stored(records: &[Record]) -> Vec<(NewAuditRecord, Option<explain::Explanation>)> {
    let mut seen: HashMap<(u64, &str), i64> = HashMap::new();
    records
        .iter()
        .map(|r| {
            let e = explain::explain(r);
            let index = seen.entry((r.serial, r.time.as_str())).or_insert(0);
            let event_index = *index;
            *index += 1;
            let text = audit::to_text(r);
            let message: String = text.chars().take(MAX_MESSAGE).collect();
            let mut context = serde_json::to_value(r).unwrap_or_default();
            if let (Some(obj), Some(e)) = (context.as_object_mut(), &e) {
                obj.insert(
                    "explanation".into(),
                    serde_json::to_value(e).unwrap_or_default(),
                );
            }
            (
                NewAuditRecord {
                    level: level(r, e.as_ref()),
                    message,
                    context: context.to_string(),
                    serial: i64::try_from(r.serial).unwrap_or(i64::MAX),
                    event_time: r.time.clone(),
                    event_index,
                },
                e,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_levels() {
        assert_eq!(parse_position("pos=1234 5678"), Some((1234, 5678)));
        assert_eq!(parse_position("pos=12 x"), None);
        assert_eq!(parse_position("type=AVC"), None);
        let (records, _) = crate::selinux::stream::parse(
            "type=AVC msg=audit(1700000000.100:7): avc:  denied  { read } for  pid=1 comm=\"x\" scontext=system_u:system_r:laravel_php_fpm_t:s0:c1,c2 tcontext=system_u:object_r:site_content_t:s0:c3,c4 tclass=file permissive=0\n\
             type=AVC msg=audit(1700000000.100:7): avc:  denied  { getattr } for  pid=1 comm=\"x\" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n\
             type=MAC_STATUS msg=audit(1700000001.000:8): enforcing=0 old_enforcing=1 auid=0 ses=1\n\
             type=MAC_CONFIG_CHANGE msg=audit(1700000002.000:9): bool=httpd_can_network_connect val=1 old_val=0 auid=0 ses=1\n",
        );
        let rows = stored(&records);
        let levels: Vec<LogLevel> = rows.iter().map(|(r, _)| r.level).collect();
        assert_eq!(
            levels,
            [
                LogLevel::Error,
                LogLevel::Warning,
                LogLevel::Warning,
                LogLevel::Info
            ]
        );
        // Two AVCs of one event are told apart; the explanation travels in the context.
        assert_eq!((rows[0].0.event_index, rows[1].0.event_index), (0, 1));
        assert!(rows[0].0.context.contains("\"kind\":\"cross_site\""));
    }
}
