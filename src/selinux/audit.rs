//! The audit log grammar as auditd writes it, for SELinux records:
//! `[node=NAME ]type=TYPE msg=audit(SECONDS.MILLIS:SERIAL): FIELDS[\x1dENRICHED]`.
//! Values may be bare, "quoted", or hex-encoded (untrusted strings such as `comm`, `name`,
//! `exe`). `USER_AVC` nests its AVC text in `msg='…'`. Records of one event (same node and
//! serial) are grouped, so an AVC gets `exe` and `success` from its `SYSCALL`.
//!
//! Everything here comes from a managed node: nothing panics on garbage, overlong lines are
//! skipped and counted, and values are kept as data (escaped by whoever displays them).

use std::borrow::Cow;

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
    pub(super) fn parse(t: &str) -> Option<Self> {
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
pub(super) struct Line<'a> {
    pub(super) node: Option<&'a str>,
    pub(super) kind: &'a str,
    seconds: i64,
    millis: u32,
    pub(super) serial: u64,
    pub(super) body: &'a str,
}

pub(super) fn parse_line(line: &str) -> Option<Line<'_>> {
    let line = line.trim_end_matches(['\r', '\n']);
    let (node, rest) = match line.strip_prefix("node=") {
        Some(r) => {
            let (n, rest) = split_at_byte(r, b' ')?;
            (Some(n), rest)
        }
        None => (None, line),
    };
    let rest = rest.strip_prefix("type=")?;
    let (kind, rest) = split_at_byte(rest, b' ')?;
    let rest = rest.trim_start().strip_prefix("msg=audit(")?;
    let (stamp, rest) = split_at_byte(rest, b')')?;
    let rest = rest.strip_prefix(':')?;
    let (time, serial) = split_at_byte(stamp, b':')?;
    let (seconds, millis) = split_at_byte(time, b'.')?;
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

/// `s` split at the first ASCII `b` (memchr; `split_once(char)` sets up a searcher each call).
fn split_at_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    find_byte(s, b).map(|i| (&s[..i], &s[i + 1..]))
}

/// The byte offset of ASCII `b` in `s` (a char boundary, since `b` is ASCII). `memchr` where
/// `str::find(char)` set up a searcher per call: field scanning was a fifth of parsing a log.
fn find_byte(s: &str, b: u8) -> Option<usize> {
    memchr::memchr(b, s.as_bytes())
}

/// `fields`, into a list the caller reuses from line to line (the grouping of a whole log).
fn fields_into<'a>(body: &'a str, out: &mut Vec<(&'a str, Cow<'a, str>)>) {
    out.clear();
    each_field(body, |key, (v, quoted)| {
        out.push((key, value_of(key, v, quoted)))
    });
}

/// Every `key=value` of a record body (before the enriched 0x1d part), in order, to `each`
/// with the raw value and whether it was quoted (a quoted value is never hex).
fn each_field<'a>(body: &'a str, mut each: impl FnMut(&'a str, (&'a str, bool))) {
    let raw = find_byte(body, 0x1d).map_or(body, |gs| &body[..gs]);
    let mut rest = raw.trim_start();
    while !rest.is_empty() {
        let Some(eq) = find_byte(rest, b'=') else {
            break;
        };
        let key = rest[..eq].trim();
        let after = &rest[eq + 1..];
        let quoted = |q: &'a str, mark: u8| match find_byte(q, mark) {
            Some(end) => ((&q[..end], true), &q[end + 1..]),
            None => ((q, true), ""),
        };
        let (value, next) = match after.as_bytes().first() {
            Some(b'"') => quoted(&after[1..], b'"'),
            Some(b'\'') => quoted(&after[1..], b'\''),
            _ => {
                let end = find_byte(after, b' ').unwrap_or(after.len());
                ((&after[..end], false), &after[end..])
            }
        };
        // A key is one word; junk before `=` (e.g. "avc:  denied  { read }  for  pid") keeps
        // only its last word.
        let key = memchr::memrchr(b' ', key.as_bytes()).map_or(key, |sp| &key[sp + 1..]);
        each(key, value);
        rest = next.trim_start();
    }
}

/// A raw value as the record means it: a bare one hex-decoded where auditd encodes.
fn value_of<'a>(key: &str, raw: &'a str, quoted: bool) -> Cow<'a, str> {
    if quoted {
        Cow::Borrowed(raw)
    } else {
        decode_hex_field(key, raw)
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
    let perms = match (find_byte(text, b'{'), find_byte(text, b'}')) {
        (Some(a), Some(b)) if a < b => text[a + 1..b].split_whitespace().collect(),
        _ => Vec::new(),
    };
    (denied, perms)
}

/// `user:role:type:level` → (type, level), borrowed.
fn context_refs(ctx: &str) -> (Option<&str>, Option<&str>) {
    let after = |s: &str| find_byte(s, b':').map(|i| i + 1);
    let Some(role) = after(ctx) else {
        return (None, None);
    };
    let Some(ty) = after(&ctx[role..]).map(|i| role + i) else {
        return (None, None);
    };
    match find_byte(&ctx[ty..], b':') {
        Some(end) => (Some(&ctx[ty..ty + end]), Some(&ctx[ty + end + 1..])),
        None => (Some(&ctx[ty..]), None),
    }
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

/// RFC 3339 UTC with milliseconds (`2024-11-22T12:53:20.123Z`), for 0 ≤ `seconds` ≤ year 9999
/// (what `parse_line` lets through). Written by hand: a formatter per record was the parser's
/// largest cost on a log of many denials.
pub fn timestamp(seconds: i64, millis: u32) -> String {
    if !(0..=MAX_SECONDS).contains(&seconds) {
        return String::new();
    }
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Digits pushed one by one: `format!` was a tenth of parsing a log of many records.
    let mut out = String::with_capacity(24);
    let mut digits = |n: i64, width: u32, then: char| {
        for p in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10_i64.pow(p) % 10) as u8));
        }
        out.push(then);
    };
    digits(year, 4, '-');
    digits(month, 2, '-');
    digits(day, 2, 'T');
    digits(secs / 3_600, 2, ':');
    digits(secs % 3_600 / 60, 2, ':');
    digits(secs % 60, 2, '.');
    digits(i64::from(millis.min(999)), 3, 'Z');
    out
}

/// The raw values (and whether quoted) of the fields a record keeps.
#[derive(Default)]
struct Wanted<'a> {
    pid: Option<(&'a str, bool)>,
    comm: Option<(&'a str, bool)>,
    exe: Option<(&'a str, bool)>,
    path: Option<(&'a str, bool)>,
    name: Option<(&'a str, bool)>,
    scontext: Option<(&'a str, bool)>,
    tcontext: Option<(&'a str, bool)>,
    tclass: Option<(&'a str, bool)>,
    permissive: Option<(&'a str, bool)>,
    enforcing: Option<(&'a str, bool)>,
    old_enforcing: Option<(&'a str, bool)>,
    bool: Option<(&'a str, bool)>,
    val: Option<(&'a str, bool)>,
    old_val: Option<(&'a str, bool)>,
}

/// What a SYSCALL record adds to its event's SELinux records: `exe` and `success` (the last
/// of each), read in one pass without keeping the other fields.
pub(super) fn syscall_facts(body: &str) -> (Option<String>, Option<bool>) {
    let (mut exe, mut success) = (None, None);
    each_field(body, |key, raw| match key {
        "exe" => exe = Some(raw),
        "success" => success = Some(raw),
        _ => {}
    });
    (
        exe.map(|(v, quoted)| value_of("exe", v, quoted).into_owned()),
        success.map(|(v, _)| v == "yes"),
    )
}

/// The record of a line; `None` for an AVC or USER_AVC without both contexts and a class (a
/// truncated or malformed record, counted as such, never emitted or stored).
pub(super) fn record_from(line: &Line<'_>, kind: RecordType) -> Option<Record> {
    let mut r = Record {
        record_type: Some(kind),
        node: line.node.map(str::to_owned),
        time: timestamp(line.seconds, line.millis),
        serial: line.serial,
        ..Default::default()
    };
    // USER_AVC carries its AVC text inside msg='…'.
    let body = avc_body(line, kind);
    if matches!(kind, RecordType::Avc | RecordType::UserAvc) {
        let (denied, perms) = avc_permissions(body);
        r.denied = denied;
        r.permissions = perms;
    }
    // Only the fields a record keeps are looked at (the last of a repeated key wins); the others are passed over without being collected or decoded.
    let mut f = Wanted::default();
    each_field(body, |key, raw| {
        let slot = match key {
            "pid" => &mut f.pid,
            "comm" => &mut f.comm,
            "exe" => &mut f.exe,
            "path" => &mut f.path,
            "name" => &mut f.name,
            "scontext" => &mut f.scontext,
            "tcontext" => &mut f.tcontext,
            "tclass" => &mut f.tclass,
            "permissive" => &mut f.permissive,
            "enforcing" => &mut f.enforcing,
            "old_enforcing" => &mut f.old_enforcing,
            "bool" => &mut f.bool,
            "val" => &mut f.val,
            "old_val" => &mut f.old_val,
            _ => return,
        };
        *slot = Some(raw);
    });
    let owned = |key: &str, v: Option<(&str, bool)>| {
        v.map(|(raw, quoted)| value_of(key, raw, quoted).into_owned())
    };
    let flag = |v: Option<(&str, bool)>| match v.map(|(raw, _)| raw) {
        Some("1") => Some(true),
        Some("0") => Some(false),
        _ => None,
    };
    r.pid = f.pid.and_then(|(p, _)| p.parse().ok());
    r.comm = owned("comm", f.comm);
    r.exe = owned("exe", f.exe);
    r.path = owned("path", f.path);
    r.name = owned("name", f.name);
    r.scontext = owned("scontext", f.scontext);
    r.tcontext = owned("tcontext", f.tcontext);
    r.tclass = owned("tclass", f.tclass);
    r.permissive = flag(f.permissive);
    if let Some(s) = &r.scontext {
        (r.source_type, r.source_level) = context_parts(s);
    }
    if let Some(t) = &r.tcontext {
        (r.target_type, r.target_level) = context_parts(t);
    }
    if kind == RecordType::MacStatus {
        r.enforcing = flag(f.enforcing);
        r.old_enforcing = flag(f.old_enforcing);
    }
    if kind == RecordType::MacConfigChange {
        r.bool = owned("bool", f.bool);
        r.value = flag(f.val);
        r.old_value = flag(f.old_val);
    }
    let complete = r.scontext.is_some() && r.tcontext.is_some() && r.tclass.is_some();
    if matches!(kind, RecordType::Avc | RecordType::UserAvc) && !complete {
        return None;
    }
    Some(r)
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
        // `denials` gives out only complete records, so this is always `Some`.
        record_from(&self.line, self.kind).unwrap_or_default()
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
    let mut malformed = 0;
    let mut f = Vec::new();
    each_line(text, &mut skipped, |line| {
        let kind = match line.kind {
            "AVC" => RecordType::Avc,
            "USER_AVC" => RecordType::UserAvc,
            _ => return,
        };
        let body = avc_body(&line, kind);
        fields_into(body, &mut f);
        let get = |key: &str| borrowed(f.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v));
        // Without both contexts and a class it is a cut-off record: malformed, as in `parse`
        // (granted or denied).
        let (Some(scontext), Some(tcontext), Some(tclass)) =
            (get("scontext"), get("tcontext"), get("tclass"))
        else {
            malformed += 1;
            return;
        };
        let (denied, permissions) = permissions_of(body);
        if denied != Some(true) {
            return;
        }
        let (source_type, source_level) = context_refs(scontext);
        let (target_type, target_level) = context_refs(tcontext);
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
    skipped.malformed += malformed;
    skipped
}

/// The record kinds read further: SELinux records, and SYSCALL for what it adds to them.
pub(super) fn wanted(kind: &[u8]) -> bool {
    matches!(
        kind,
        b"SYSCALL" | b"AVC" | b"USER_AVC" | b"SELINUX_ERR" | b"MAC_STATUS" | b"MAC_CONFIG_CHANGE"
    )
}

/// `[node=NAME ]type=KIND …` → KIND, looked at as bytes (no UTF-8 check, no allocation).
pub(super) fn kind_of(line: &[u8]) -> Option<&[u8]> {
    kind_span(line).map(|(start, end)| &line[start..end])
}

/// Where KIND of `[node=NAME ]type=KIND …` ends (the offset of the space after it).
pub(super) fn kind_end(line: &[u8]) -> Option<usize> {
    kind_span(line).map(|(_, end)| end)
}

fn kind_span(line: &[u8]) -> Option<(usize, usize)> {
    let skip = match line.strip_prefix(b"node=") {
        Some(r) => 5 + memchr::memchr(b' ', r)? + 1,
        None => 0,
    };
    let rest = line[skip..].strip_prefix(b"type=")?;
    Some((skip + 5, skip + 5 + memchr::memchr(b' ', rest)?))
}

/// Every well-formed line of a log, in order; overlong and malformed ones are counted in
/// `skipped` (blank ones pass silently).
fn each_line<'a>(text: &'a str, skipped: &mut Skipped, mut each: impl FnMut(Line<'a>)) {
    // Lines found with memchr (`split('\n')` set up a char searcher for every line).
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    for end in ends {
        let raw = &text[start..end];
        start = end + 1;
        if raw.len() > MAX_LINE {
            skipped.overlong += 1;
            continue;
        }
        if raw.trim().is_empty() {
            continue;
        }
        // As the stream parser: a kind not read is passed over by its type alone.
        if kind_of(raw.as_bytes()).is_some_and(|k| !wanted(k)) {
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
