//! The audit parser as a stream: lines in, SELinux records out, in log order, with nothing
//! kept but the events still open. auditd writes an event's AVCs when the denial happens and
//! its SYSCALL when the system call returns, so a record waits (a bounded number of lines) for
//! the SYSCALL that gives it `exe` and `success`; a SYSCALL just before its AVCs is kept too.
//! Lines that are not SELinux records are looked at up to their type and passed over: no
//! field of theirs is read, nothing is allocated for them.

use std::collections::VecDeque;

use super::audit::{
    MAX_LINE, Record, Skipped, kind_end, kind_of, parse_line, record_from, syscall_facts, wanted,
};

/// Lines a record waits for its SYSCALL before it is given out without one (events of other
/// CPUs may come between an AVC and its SYSCALL; a USER_AVC never has one and does not wait).
const WAIT_LINES: u64 = 256;

/// An event: its node (if the log names one) and serial.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Event {
    node: Option<String>,
    serial: u64,
}

impl Event {
    fn is(&self, node: Option<&str>, serial: u64) -> bool {
        self.serial == serial && self.node.as_deref() == node
    }
}

struct Waiting {
    event: Event,
    record: Record,
    /// The line count when it arrived.
    since: u64,
    /// Its SYSCALL was seen (or is not to be waited for).
    done: bool,
}

/// Lines in, records out (to the callback given each call), in log order.
pub struct Parser {
    syscalls_too: bool,
    skipped: Skipped,
    lines: u64,
    waiting: VecDeque<Waiting>,
    /// The last SYSCALL line's event and body, per node: for AVCs written after it.
    last_syscall: Vec<(Event, String)>,
}

impl Parser {
    /// `syscalls_too`: fill `exe`/`success` from each event's SYSCALL (off for callers that
    /// need the SELinux records' own fields only).
    pub fn new(syscalls_too: bool) -> Self {
        Self {
            syscalls_too,
            skipped: Skipped::default(),
            lines: 0,
            waiting: VecDeque::new(),
            last_syscall: Vec::new(),
        }
    }

    /// One line as read (its newline may be left on; not necessarily UTF-8). A line of a
    /// kind the parser does not read is passed over by its type alone.
    pub fn line_bytes(&mut self, raw: &[u8], out: &mut impl FnMut(Record)) {
        if raw.len() > MAX_LINE || kind_of(raw).is_some_and(|k| !wanted(k)) {
            self.lines += 1;
            if raw.len() > MAX_LINE {
                self.skipped.overlong += 1;
            }
            self.emit(out, false);
            return;
        }
        // Of a SYSCALL only the part before its enriched tail (0x1d) is read, and checked;
        // one before the header's `)` (in a node name or a garbled stamp) is left to the
        // header's parser.
        let raw = match kind_end(raw) {
            Some(end) if kind_of(raw) == Some(b"SYSCALL") => {
                match memchr::memchr(b')', &raw[end..]).map(|c| end + c) {
                    Some(close) => {
                        memchr::memchr(0x1d, &raw[close..]).map_or(raw, |gs| &raw[..close + gs])
                    }
                    None => raw,
                }
            }
            _ => raw,
        };
        match std::str::from_utf8(raw) {
            Ok(text) => self.line(text, out),
            Err(_) => self.line(&String::from_utf8_lossy(raw), out),
        }
    }

    /// One line (its newline may be left on).
    pub fn line(&mut self, raw: &str, out: &mut impl FnMut(Record)) {
        self.lines += 1;
        if raw.len() <= MAX_LINE && kind_of(raw.as_bytes()).is_some_and(|k| !wanted(k)) {
            // Not a kind the parser reads: its header is not even checked.
        } else if raw.len() > MAX_LINE {
            self.skipped.overlong += 1;
        } else if !raw.trim().is_empty() {
            match parse_line(raw) {
                None => self.skipped.malformed += 1,
                Some(line) if line.kind == "SYSCALL" => {
                    if self.syscalls_too {
                        self.syscall(line.node, line.serial, line.body);
                    }
                }
                Some(line) => {
                    if let Some(kind) = super::audit::RecordType::parse(line.kind) {
                        match record_from(&line, kind) {
                            Some(record) => self.record(line.node, line.serial, record),
                            None => self.skipped.malformed += 1,
                        }
                    }
                }
            }
        }
        self.emit(out, false);
    }

    /// The records still waiting, and what was skipped.
    pub fn finish(mut self, out: &mut impl FnMut(Record)) -> Skipped {
        self.emit(out, true);
        self.skipped
    }

    fn record(&mut self, node: Option<&str>, serial: u64, mut record: Record) {
        let mut done = !self.syscalls_too;
        if !done {
            if let Some((_, body)) = self.last_syscall.iter().find(|(e, _)| e.is(node, serial)) {
                apply(&mut record, body);
                done = true;
            }
        }
        // A USER_AVC comes from a program, not the kernel: no SYSCALL follows it, and waiting
        // for one would only hold back every record after it.
        done |= record.record_type == Some(super::audit::RecordType::UserAvc);
        self.waiting.push_back(Waiting {
            event: Event {
                node: node.map(str::to_owned),
                serial,
            },
            record,
            since: self.lines,
            done,
        });
    }

    fn syscall(&mut self, node: Option<&str>, serial: u64, body: &str) {
        let mut facts = None;
        for w in self.waiting.iter_mut() {
            if !w.done && w.event.is(node, serial) {
                let (exe, success) = facts.get_or_insert_with(|| syscall_facts(body));
                if w.record.exe.is_none() {
                    w.record.exe = exe.clone();
                }
                w.record.success = *success;
                w.done = true;
            }
        }
        // Kept for AVCs that follow their SYSCALL; the buffer is reused line after line.
        match self
            .last_syscall
            .iter_mut()
            .find(|(e, _)| e.node.as_deref() == node)
        {
            Some((event, buffer)) => {
                event.serial = serial;
                buffer.clear();
                buffer.push_str(body);
            }
            None => self.last_syscall.push((
                Event {
                    node: node.map(str::to_owned),
                    serial,
                },
                body.to_owned(),
            )),
        }
    }

    /// Give out the records at the front that are complete or waited long enough.
    fn emit(&mut self, out: &mut impl FnMut(Record), all: bool) {
        while let Some(front) = self.waiting.front() {
            if !(all || front.done || self.lines - front.since >= WAIT_LINES) {
                break;
            }
            if let Some(w) = self.waiting.pop_front() {
                out(w.record);
            }
        }
    }
}

fn apply(record: &mut Record, syscall_body: &str) {
    let (exe, success) = syscall_facts(syscall_body);
    if record.exe.is_none() {
        record.exe = exe;
    }
    record.success = success;
}

/// Parse a whole log: SELinux records in log order, `exe`/`success` filled in from each event's
/// SYSCALL record, and what was skipped.
pub fn parse(text: &str) -> (Vec<Record>, Skipped) {
    parse_with(text, true)
}

/// Like `parse`, but without reading SYSCALL records: for callers that need only the SELinux
/// records' own fields (the explanation groups on types, class and permissions).
pub fn parse_selinux_only(text: &str) -> (Vec<Record>, Skipped) {
    parse_with(text, false)
}

fn parse_with(text: &str, syscalls_too: bool) -> (Vec<Record>, Skipped) {
    let mut records = Vec::new();
    let mut parser = Parser::new(syscalls_too);
    for line in text.split('\n') {
        parser.line(line, &mut |r| records.push(r));
    }
    let skipped = parser.finish(&mut |r| records.push(r));
    (records, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Vec<Record>, Skipped) {
        let mut p = Parser::new(true);
        let mut out = Vec::new();
        for line in text.lines() {
            p.line(line, &mut |r| out.push(r));
        }
        let skipped = p.finish(&mut |r| out.push(r));
        (out, skipped)
    }

    const AVC: &str = "type=AVC msg=audit(1732279999.123:42): avc:  denied  { read } for  pid=7 comm=\"php-fpm\" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0";
    const SYSCALL: &str = "type=SYSCALL msg=audit(1732279999.123:42): arch=c000003e syscall=257 success=no exit=-13 comm=\"php-fpm\" exe=\"/usr/sbin/php-fpm\"\u{1d}ARCH=x86_64 SYSCALL=openat UID=\"apache\"";

    #[test]
    fn a_syscall_after_or_before_its_avc_completes_it_and_order_is_kept() {
        let other = AVC.replace(":42)", ":43)");
        for text in [
            format!("{AVC}\n{other}\n{SYSCALL}\n"),
            format!("{SYSCALL}\n{AVC}\n{other}\n"),
        ] {
            let (records, skipped) = run(&text);
            assert_eq!(skipped, Skipped::default());
            assert_eq!(
                records.iter().map(|r| r.serial).collect::<Vec<_>>(),
                [42, 43]
            );
            assert_eq!(records[0].exe.as_deref(), Some("/usr/sbin/php-fpm"));
            assert_eq!(records[0].success, Some(false));
            assert_eq!(
                records[1].exe, None,
                "another event's SYSCALL is not its own"
            );
        }
    }

    #[test]
    fn a_record_without_its_syscall_is_given_out_after_a_while_not_held_forever() {
        let mut p = Parser::new(true);
        let mut out = Vec::new();
        p.line(AVC, &mut |r| out.push(r));
        for i in 0..WAIT_LINES {
            p.line(
                &format!("type=CWD msg=audit(1.000:{}): cwd=\"/\"", 100 + i),
                &mut |r| out.push(r),
            );
        }
        assert_eq!(
            out.len(),
            1,
            "emitted once the wait is over, before the end"
        );
    }

    /// Found by the fuzz target: a 0x1d inside a SYSCALL's header (here its stamp) is not
    /// where the enriched tail begins; bytes and text agree on every line.
    #[test]
    fn the_byte_path_cuts_a_syscall_only_after_its_header() {
        let log = format!(
            "{AVC}\ntype=SYSCALL msg=audit(1732279999.123x msg\x1dy(2.003:42): success=no exe=\"/a\"\x1dARCH=x\n{}\n",
            SYSCALL.replace(":42)", ":43)")
        );
        let (text_records, text_skipped) = run(&log);
        let mut p = Parser::new(true);
        let mut bytes = Vec::new();
        for line in log.as_bytes().split_inclusive(|&b| b == b'\n') {
            p.line_bytes(line, &mut |r| bytes.push(r));
        }
        let skipped = p.finish(&mut |r| bytes.push(r));
        assert_eq!((bytes, skipped), (text_records, text_skipped));
    }

    #[test]
    fn avcs_without_contexts_or_class_are_malformed_not_records() {
        let cut = "type=AVC msg=audit(1.000:9): avc:  denied  { read } for  pid=7 comm=\"x\" scontext=system_u:system_r:httpd_t:s0";
        let no_class = format!("{} ", AVC.replace(" tclass=file", ""));
        let (records, skipped) = run(&format!("{cut}\n{no_class}\n{AVC}\n"));
        assert_eq!(records.len(), 1);
        assert_eq!(skipped.malformed, 2);
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;
    use crate::selinux::audit::{MAX_LINE, RecordType, to_text};

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
        assert_eq!(
            skipped.malformed, 4,
            "the truncated AVC (no target context, no class) is malformed, not a record"
        );
        assert_eq!(records.len(), 1, "the whole one");
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
