//! The audit log grammar as auditd writes it, for SELinux records:
//! `[node=NAME ]type=TYPE msg=audit(SECONDS.MILLIS:SERIAL): FIELDS[\x1dENRICHED]`.
//! Values may be bare, "quoted", or hex-encoded (untrusted strings such as `comm`, `name`,
//! `exe`). `USER_AVC` nests its AVC text in `msg='…'`. Records of one event (same node and
//! serial) are grouped, so an AVC gets `exe` and `success` from its `SYSCALL`.
//!
//! Everything here comes from a managed node: nothing panics on garbage, overlong lines are
//! skipped and counted, and values are kept as data (escaped by whoever displays them).

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Serialize;

/// Lines longer than this are skipped (and counted).
pub const MAX_LINE: usize = 64 * 1024;

/// The SELinux record kinds the parser reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RecordType {
    #[serde(rename = "AVC")]
    Avc,
    #[serde(rename = "USER_AVC")]
    UserAvc,
    #[serde(rename = "SELINUX_ERR")]
    SelinuxErr,
    #[serde(rename = "MAC_STATUS")]
    MacStatus,
    #[serde(rename = "MAC_CONFIG_CHANGE")]
    MacConfigChange,
}

impl RecordType {
    fn parse(t: &str) -> Option<Self> {
        Some(match t {
            "AVC" => Self::Avc,
            "USER_AVC" => Self::UserAvc,
            "SELINUX_ERR" => Self::SelinuxErr,
            "MAC_STATUS" => Self::MacStatus,
            "MAC_CONFIG_CHANGE" => Self::MacConfigChange,
            _ => return None,
        })
    }
}

/// One SELinux record, with the fields the CLI and the collector use. Absent fields are `None`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Record {
    pub record_type: Option<RecordType>,
    pub node: Option<String>,
    /// RFC 3339 UTC with milliseconds.
    pub time: String,
    pub serial: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scontext: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcontext: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tclass: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissive: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforcing: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_enforcing: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_value: Option<bool>,
}

/// Lines the parser passed over, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    pub overlong: u64,
    pub malformed: u64,
}

/// The parsed pieces of one audit line, borrowed from it.
struct Line<'a> {
    node: Option<&'a str>,
    kind: &'a str,
    seconds: i64,
    millis: u32,
    serial: u64,
    body: &'a str,
}

fn parse_line(line: &str) -> Option<Line<'_>> {
    let line = line.trim_end_matches(['\r', '\n']);
    let (node, rest) = match line.strip_prefix("node=") {
        Some(r) => {
            let (n, rest) = r.split_once(' ')?;
            (Some(n), rest)
        }
        None => (None, line),
    };
    let rest = rest.strip_prefix("type=")?;
    let (kind, rest) = rest.split_once(' ')?;
    let rest = rest.trim_start().strip_prefix("msg=audit(")?;
    let (stamp, rest) = rest.split_once("):")?;
    let (time, serial) = stamp.split_once(':')?;
    let (seconds, millis) = time.split_once('.')?;
    Some(Line {
        node,
        kind,
        seconds: seconds_of(seconds)?,
        millis: millis_of(millis)?,
        serial: serial.parse().ok()?,
        body: rest,
    })
}

/// The last second an RFC 3339 time can name (9999-12-31T23:59:59Z).
const MAX_SECONDS: i64 = 253_402_300_799;

/// auditd writes seconds since 1970 as plain digits: a sign, or a time past year 9999 (which
/// has no RFC 3339 form), makes the line malformed. Found by fuzzing.
fn seconds_of(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|s| *s <= MAX_SECONDS)
}

/// A fraction of a second: auditd writes 3 digits; fewer are padded, more are cut (only the
/// first three must be digits).
fn millis_of(text: &str) -> Option<u32> {
    let mut ms = 0;
    for i in 0..3 {
        let d = match text.as_bytes().get(i) {
            Some(b) if b.is_ascii_digit() => u32::from(b - b'0'),
            Some(_) => return None,
            None => 0,
        };
        ms = ms * 10 + d;
    }
    Some(ms)
}

/// `key=value` pairs of a record body (the part before the enriched 0x1d section).
/// A record's `key=value` fields in order. Few enough that a list beats a hash map, and values
/// borrow from the line unless they had to be hex-decoded.
struct Fields<'a>(Vec<(&'a str, Cow<'a, str>)>);

impl<'a> Fields<'a> {
    /// The value of `key` (the last one, should a key repeat).
    fn get(&self, key: &str) -> Option<&Cow<'a, str>> {
        self.0.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    fn owned(&self, key: &str) -> Option<String> {
        self.get(key).map(|v| v.clone().into_owned())
    }
}

fn fields(body: &str) -> Fields<'_> {
    let mut out = Vec::new();
    fields_into(body, &mut out);
    Fields(out)
}

/// `fields`, into a list the caller reuses from line to line (the grouping of a whole log).
fn fields_into<'a>(body: &'a str, out: &mut Vec<(&'a str, Cow<'a, str>)>) {
    out.clear();
    let raw = body.split('\u{1d}').next().unwrap_or(body);
    let mut rest = raw.trim_start();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim();
        let after = &rest[eq + 1..];
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (Cow::Borrowed(&q[..end]), &q[end + 1..]),
                None => (Cow::Borrowed(q), ""),
            }
        } else if let Some(q) = after.strip_prefix('\'') {
            match q.find('\'') {
                Some(end) => (Cow::Borrowed(&q[..end]), &q[end + 1..]),
                None => (Cow::Borrowed(q), ""),
            }
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (decode_hex_field(key, &after[..end]), &after[end..])
        };
        // A key is one word; junk before `=` (e.g. "avc:  denied  { read }  for  pid") keeps
        // only its last word.
        let key = key.rsplit(' ').next().unwrap_or(key);
        out.push((key, value));
        rest = next.trim_start();
    }
}

/// auditd hex-encodes untrusted strings that contain spaces, quotes or control characters.
fn decode_hex_field<'a>(key: &str, value: &'a str) -> Cow<'a, str> {
    const HEXABLE: &[&str] = &[
        "comm",
        "name",
        "exe",
        "path",
        "cwd",
        "proctitle",
        "cmd",
        "invalid_context",
    ];
    if HEXABLE.contains(&key)
        && value.len() >= 2
        && value.len() % 2 == 0
        && value.bytes().all(|b| b.is_ascii_hexdigit())
    {
        if let Ok(bytes) = hex::decode(value) {
            return Cow::Owned(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Cow::Borrowed(value)
}

/// `{ read write }` → ["read", "write"], and whether it says `denied`.
fn avc_permissions(text: &str) -> (Option<bool>, Vec<String>) {
    let (denied, perms) = permissions_of(text);
    (denied, perms.into_iter().map(str::to_owned).collect())
}

/// `avc_permissions`, borrowed from the text.
fn permissions_of(text: &str) -> (Option<bool>, Vec<&str>) {
    let denied = if text.contains("denied") {
        Some(true)
    } else if text.contains("granted") {
        Some(false)
    } else {
        None
    };
    let perms = match (text.find('{'), text.find('}')) {
        (Some(a), Some(b)) if a < b => text[a + 1..b].split_whitespace().collect(),
        _ => Vec::new(),
    };
    (denied, perms)
}

/// `user:role:type:level` → (type, level), borrowed.
fn context_refs(ctx: &str) -> (Option<&str>, Option<&str>) {
    let mut parts = ctx.splitn(4, ':');
    let (_user, _role) = (parts.next(), parts.next());
    (parts.next(), parts.next())
}

/// The AVC text of a record: its body, or for USER_AVC what its `msg='…'` holds.
fn avc_body<'a>(line: &Line<'a>, kind: RecordType) -> &'a str {
    if kind == RecordType::UserAvc {
        line.body
            .split_once("msg='")
            .map(|(_, m)| m.rsplit_once('\'').map_or(m, |(m, _)| m))
            .unwrap_or_default()
    } else {
        line.body
    }
}

/// `user:role:type:level` → (type, level); the level may contain colons (`s0-s0:c0.c1023`).
fn context_parts(ctx: &str) -> (Option<String>, Option<String>) {
    let (t, level) = context_refs(ctx);
    (t.map(str::to_owned), level.map(str::to_owned))
}

fn flag(v: Option<&Cow<'_, str>>) -> Option<bool> {
    v.and_then(|s| match s.as_ref() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    })
}

/// RFC 3339 UTC with milliseconds (`2024-11-22T12:53:20.123Z`).
pub fn timestamp(seconds: i64, millis: u32) -> String {
    chrono::DateTime::from_timestamp(seconds, millis * 1_000_000)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn record_from(line: &Line<'_>, kind: RecordType) -> Record {
    let mut r = Record {
        record_type: Some(kind),
        node: line.node.map(str::to_owned),
        time: timestamp(line.seconds, line.millis),
        serial: line.serial,
        ..Default::default()
    };
    // USER_AVC carries its AVC text inside msg='…'.
    let body = avc_body(line, kind);
    let f = fields(body);
    if matches!(kind, RecordType::Avc | RecordType::UserAvc) {
        let (denied, perms) = avc_permissions(body);
        r.denied = denied;
        r.permissions = perms;
    }
    r.pid = f.get("pid").and_then(|p| p.parse().ok());
    r.comm = f.owned("comm");
    r.exe = f.owned("exe");
    r.path = f.owned("path");
    r.name = f.owned("name");
    r.scontext = f.owned("scontext");
    r.tcontext = f.owned("tcontext");
    r.tclass = f.owned("tclass");
    r.permissive = flag(f.get("permissive"));
    if let Some(s) = &r.scontext {
        (r.source_type, r.source_level) = context_parts(s);
    }
    if let Some(t) = &r.tcontext {
        (r.target_type, r.target_level) = context_parts(t);
    }
    if kind == RecordType::MacStatus {
        r.enforcing = flag(f.get("enforcing"));
        r.old_enforcing = flag(f.get("old_enforcing"));
    }
    if kind == RecordType::MacConfigChange {
        r.bool = f.owned("bool");
        r.value = flag(f.get("val"));
        r.old_value = flag(f.get("old_val"));
    }
    r
}

/// An event's identity (node and serial) and what its SYSCALL record says (exe, success).
type EventKey = (Option<String>, u64);
type SyscallFacts = (Option<String>, Option<bool>);

/// Parse a whole log: SELinux records in log order, `exe`/`success` filled in from each event's
/// SYSCALL record, and what was skipped.
pub fn parse(text: &str) -> (Vec<Record>, Skipped) {
    parse_with(text, true)
}

/// Like `parse`, but without reading SYSCALL records: for callers that need only the SELinux
/// records' own fields (the explanation groups on types, class and permissions), this skips
/// the costliest lines of a typical log.
pub fn parse_selinux_only(text: &str) -> (Vec<Record>, Skipped) {
    parse_with(text, false)
}

fn parse_with(text: &str, syscalls_too: bool) -> (Vec<Record>, Skipped) {
    let mut records: Vec<Record> = Vec::new();
    let mut skipped = Skipped::default();
    // (node, serial) → (exe, success) from SYSCALL records, applied after the pass because a
    // SYSCALL may come before or after the AVCs of its event.
    let mut syscalls: HashMap<EventKey, SyscallFacts> = HashMap::new();
    each_line(text, &mut skipped, |line| {
        if line.kind == "SYSCALL" {
            if syscalls_too {
                let f = fields(line.body);
                let success = f.get("success").map(|s| s == "yes");
                syscalls.insert(
                    (line.node.map(str::to_owned), line.serial),
                    (f.owned("exe"), success),
                );
            }
        } else if let Some(kind) = RecordType::parse(line.kind) {
            records.push(record_from(&line, kind));
        }
    });
    if syscalls.is_empty() {
        return (records, skipped);
    }
    for r in &mut records {
        if let Some((exe, success)) = syscalls.get(&(r.node.clone(), r.serial)) {
            if r.exe.is_none() {
                r.exe = exe.clone();
            }
            r.success = *success;
        }
    }
    (records, skipped)
}

/// One denial (an AVC or USER_AVC that says `denied`) as it sits in the log: what grouping
/// needs, borrowed from the line, and the whole record only when asked for. Grouping a large
/// log this way builds one record per kind of denial instead of one per line.
pub struct DenialRef<'a> {
    pub seconds: i64,
    pub millis: u32,
    pub source_type: &'a str,
    pub target_type: &'a str,
    pub tclass: &'a str,
    pub source_level: Option<&'a str>,
    pub target_level: Option<&'a str>,
    /// In log order.
    pub permissions: Vec<&'a str>,
    line: Line<'a>,
    kind: RecordType,
}

impl DenialRef<'_> {
    /// The full record, as `parse` gives it (without what a SYSCALL would add).
    pub fn record(&self) -> Record {
        record_from(&self.line, self.kind)
    }
}

/// A field that was not hex-decoded (the contexts and class never are): borrowed.
fn borrowed<'a>(v: Option<&Cow<'a, str>>) -> Option<&'a str> {
    match v {
        Some(Cow::Borrowed(s)) => Some(s),
        _ => None,
    }
}

/// Every denial of a log, in log order, to `each`; lines are skipped and counted as `parse`
/// does.
pub fn denials<'a>(text: &'a str, mut each: impl FnMut(DenialRef<'a>)) -> Skipped {
    let mut skipped = Skipped::default();
    let mut f = Vec::new();
    each_line(text, &mut skipped, |line| {
        let kind = match line.kind {
            "AVC" => RecordType::Avc,
            "USER_AVC" => RecordType::UserAvc,
            _ => return,
        };
        let body = avc_body(&line, kind);
        let (denied, permissions) = permissions_of(body);
        if denied != Some(true) {
            return;
        }
        fields_into(body, &mut f);
        let get = |key: &str| borrowed(f.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v));
        let (source_type, source_level) = get("scontext").map_or((None, None), context_refs);
        let (target_type, target_level) = get("tcontext").map_or((None, None), context_refs);
        let tclass = get("tclass").unwrap_or_default();
        each(DenialRef {
            seconds: line.seconds,
            millis: line.millis,
            source_type: source_type.unwrap_or_default(),
            target_type: target_type.unwrap_or_default(),
            tclass,
            source_level,
            target_level,
            permissions,
            line,
            kind,
        });
    });
    skipped
}

/// Every well-formed line of a log, in order; overlong and malformed ones are counted in
/// `skipped` (blank ones pass silently).
fn each_line<'a>(text: &'a str, skipped: &mut Skipped, mut each: impl FnMut(Line<'a>)) {
    for raw in text.split('\n') {
        if raw.len() > MAX_LINE {
            skipped.overlong += 1;
            continue;
        }
        if raw.trim().is_empty() {
            continue;
        }
        match parse_line(raw) {
            Some(line) => each(line),
            None => skipped.malformed += 1,
        }
    }
}

/// One line of text output for a record.
pub fn to_text(r: &Record) -> String {
    let kind = r.record_type.and_then(|k| serde_json::to_value(k).ok());
    let kind = kind.as_ref().and_then(|v| v.as_str()).unwrap_or("?");
    let mut out = format!("{} {} serial={}", r.time, kind, r.serial);
    if let Some(n) = &r.node {
        out.push_str(&format!(" node={n}"));
    }
    if let Some(d) = r.denied {
        out.push_str(if d { " denied" } else { " granted" });
        out.push_str(&format!(" {{ {} }}", r.permissions.join(" ")));
    }
    for (k, v) in [
        ("comm", &r.comm),
        ("exe", &r.exe),
        ("name", &r.name),
        ("path", &r.path),
        ("scontext", &r.scontext),
        ("tcontext", &r.tcontext),
        ("tclass", &r.tclass),
        ("bool", &r.bool),
    ] {
        if let Some(v) = v {
            // Control characters from the node never reach the terminal raw.
            out.push_str(&format!(" {k}={}", v.escape_debug()));
        }
    }
    for (k, v) in [
        ("enforcing", r.enforcing),
        ("old_enforcing", r.old_enforcing),
        ("value", r.value),
        ("old_value", r.old_value),
        ("permissive", r.permissive),
    ] {
        if let Some(v) = v {
            out.push_str(&format!(" {k}={}", u8::from(v)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const AVC: &str = r#"type=AVC msg=audit(1732279999.123:4242): avc:  denied  { read write open } for  pid=1234 comm="php-fpm" name="secret.txt" dev="sda1" ino=99 scontext=system_u:system_r:laravel_php_fpm_t:s0:c100,c101 tcontext=system_u:object_r:site_content_t:s0:c102,c103 tclass=file permissive=0"#;
    const SYSCALL: &str = r#"type=SYSCALL msg=audit(1732279999.123:4242): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c items=0 ppid=1 pid=1234 auid=4294967295 uid=1001 comm="php-fpm" exe="/usr/sbin/php-fpm8.2" subj=system_u:system_r:laravel_php_fpm_t:s0:c100,c101 key=(null)"#;

    /// Found by the fuzz target (tests/fuzz): a time RFC 3339 cannot write was let through.
    #[test]
    fn times_are_plain_seconds_within_rfc_3339_and_milliseconds_are_padded_or_cut() {
        let line = |stamp: &str| {
            format!("type=MAC_STATUS msg=audit({stamp}:7): enforcing=0 old_enforcing=1")
        };
        for bad in [
            "1732280080000.002",
            "-5.000",
            "+1732279999.123",
            "99999999999999.1",
            "x.123",
            "1.1x3",
            ".123",
        ] {
            let (records, skipped) = parse(&line(bad));
            assert!(records.is_empty(), "{bad} gave {records:?}");
            assert_eq!(skipped.malformed, 1, "{bad}");
        }
        for (stamp, time) in [
            ("1732279999.5", "2024-11-22T12:53:19.500Z"),
            ("1732279999.123456", "2024-11-22T12:53:19.123Z"),
            ("1732279999.", "2024-11-22T12:53:19.000Z"),
            ("253402300799.999", "9999-12-31T23:59:59.999Z"),
        ] {
            let (records, _) = parse(&line(stamp));
            assert_eq!(records[0].time, time, "{stamp}");
        }
    }

    #[test]
    fn an_avc_gets_its_fields_and_its_syscall() {
        let (records, skipped) = parse(&format!("{AVC}\n{SYSCALL}\n"));
        assert_eq!(skipped, Skipped::default());
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(r.record_type, Some(RecordType::Avc));
        assert_eq!(r.time, "2024-11-22T12:53:19.123Z");
        assert_eq!(r.serial, 4242);
        assert_eq!(r.denied, Some(true));
        assert_eq!(r.permissions, ["read", "write", "open"]);
        assert_eq!(
            (r.pid, r.comm.as_deref(), r.name.as_deref()),
            (Some(1234), Some("php-fpm"), Some("secret.txt"))
        );
        assert_eq!(
            r.exe.as_deref(),
            Some("/usr/sbin/php-fpm8.2"),
            "from the SYSCALL"
        );
        assert_eq!(r.success, Some(false));
        assert_eq!(r.source_type.as_deref(), Some("laravel_php_fpm_t"));
        assert_eq!(r.source_level.as_deref(), Some("s0:c100,c101"));
        assert_eq!(r.target_type.as_deref(), Some("site_content_t"));
        assert_eq!(r.target_level.as_deref(), Some("s0:c102,c103"));
        assert_eq!(
            (r.tclass.as_deref(), r.permissive),
            (Some("file"), Some(false))
        );
    }

    #[test]
    fn node_prefix_hex_values_enriched_part_and_crlf() {
        let line = "node=web1 type=AVC msg=audit(1732279999.5:7): avc:  granted  { getattr } for  pid=1 comm=\"nginx\" name=3C7363726970743E616C6572742831293C2F7363726970743E scontext=system_u:system_r:httpd_t:s0-s0:c0.c1023 tcontext=system_u:object_r:site_content_t:s0 tclass=dir permissive=1\u{1d}UID=\"root\" AUID=\"unset\"\r\n";
        let (records, _) = parse(line);
        let r = &records[0];
        assert_eq!(r.node.as_deref(), Some("web1"));
        assert_eq!(r.time, "2024-11-22T12:53:19.500Z");
        assert_eq!(r.denied, Some(false));
        assert_eq!(
            r.name.as_deref(),
            Some("<script>alert(1)</script>"),
            "hex decoded, kept as data"
        );
        assert_eq!(r.source_level.as_deref(), Some("s0-s0:c0.c1023"));
        assert_eq!(r.permissive, Some(true));
        assert_eq!(
            r.tclass.as_deref(),
            Some("dir"),
            "the enriched part is not mixed in"
        );
    }

    #[test]
    fn user_avc_selinux_err_mac_status_and_config_change() {
        let log = [
            r#"type=USER_AVC msg=audit(1732280000.000:10): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 msg='avc:  denied  { start } for auid=n/a uid=0 gid=0 path="/etc/systemd/system/x.service" cmdline="" scontext=system_u:system_r:init_t:s0 tcontext=system_u:object_r:etc_t:s0 tclass=service permissive=0 exe="/usr/lib/systemd/systemd" sauid=0 hostname=? addr=? terminal=?'"#,
            r#"type=SELINUX_ERR msg=audit(1732280000.001:11): op=security_compute_sid invalid_context="system_u:system_r:bogus_t:s0" scontext=system_u:system_r:init_t:s0 tcontext=system_u:object_r:bin_t:s0 tclass=process"#,
            r#"type=MAC_STATUS msg=audit(1732280000.002:12): enforcing=0 old_enforcing=1 auid=0 ses=1 enabled=1 old-enabled=1 lsm=selinux res=1"#,
            r#"type=MAC_CONFIG_CHANGE msg=audit(1732280000.003:13): bool=panel_can_reload_nginx val=1 old_val=0 auid=0 ses=1"#,
        ]
        .join("\n");
        let (records, skipped) = parse(&log);
        assert_eq!(skipped, Skipped::default());
        let kinds: Vec<_> = records.iter().map(|r| r.record_type.unwrap()).collect();
        assert_eq!(
            kinds,
            [
                RecordType::UserAvc,
                RecordType::SelinuxErr,
                RecordType::MacStatus,
                RecordType::MacConfigChange
            ]
        );
        assert_eq!(records[0].permissions, ["start"]);
        assert_eq!(records[0].exe.as_deref(), Some("/usr/lib/systemd/systemd"));
        assert_eq!(records[0].tclass.as_deref(), Some("service"));
        assert_eq!(records[1].target_type.as_deref(), Some("bin_t"));
        assert_eq!(
            (records[2].enforcing, records[2].old_enforcing),
            (Some(false), Some(true))
        );
        assert_eq!(records[3].bool.as_deref(), Some("panel_can_reload_nginx"));
        assert_eq!(
            (records[3].value, records[3].old_value),
            (Some(true), Some(false))
        );
    }

    #[test]
    fn several_avcs_in_one_event_share_its_syscall() {
        let second = AVC.replace("secret.txt", "other.txt");
        let (records, _) = parse(&format!("{AVC}\n{second}\n{SYSCALL}"));
        assert_eq!(records.len(), 2);
        assert!(
            records
                .iter()
                .all(|r| r.exe.as_deref() == Some("/usr/sbin/php-fpm8.2"))
        );
    }

    #[test]
    fn garbage_truncation_and_overlong_lines_are_counted_not_fatal() {
        let overlong = format!("type=AVC msg=audit(1.000:1): {}", "x".repeat(MAX_LINE));
        let truncated = &AVC[..60];
        let log = format!(
            "hello\ntype=AVC msg=audit(nope): x\n{overlong}\n{truncated}\n\u{0}\u{1b}[31m\n{AVC}\n"
        );
        let (records, skipped) = parse(&log);
        assert_eq!(skipped.overlong, 1);
        assert_eq!(skipped.malformed, 3);
        assert_eq!(
            records.len(),
            2,
            "the truncated AVC still yields what it has, and the whole one"
        );
        assert_eq!(records.last().unwrap().name.as_deref(), Some("secret.txt"));
    }

    #[test]
    fn text_output_escapes_control_characters() {
        let (records, _) = parse(&AVC.replace("secret.txt", "a\\x1b[31mb"));
        let mut r = records[0].clone();
        r.name = Some("a\u{1b}[31mb\rX".into());
        let text = to_text(&r);
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text}");
    }

    #[test]
    fn json_uses_the_documented_field_names() {
        let (records, _) = parse(AVC);
        let v = serde_json::to_value(&records[0]).unwrap();
        for key in [
            "record_type",
            "node",
            "time",
            "serial",
            "denied",
            "permissions",
            "pid",
            "comm",
            "name",
            "scontext",
            "tcontext",
            "tclass",
            "permissive",
            "source_type",
            "target_type",
            "source_level",
            "target_level",
        ] {
            assert!(v.get(key).is_some(), "{key} in {v}");
        }
        assert_eq!(v["record_type"], "AVC");
        assert!(v["node"].is_null());
    }
}
