//! A record as one line of JSON, written straight into a buffer: byte for byte what
//! `serde_json` writes for `Record` (a test holds them equal), without its generic walk and
//! per-byte escaping, which were a third of `panel selinux parse` on a log of many records.

use super::audit::{Record, RecordType};

/// Append `r` as JSON (no newline) to `out`.
pub fn write_record(r: &Record, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"record_type\":");
    match r.record_type {
        Some(kind) => {
            out.push(b'"');
            out.extend_from_slice(kind_name(kind).as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"node\":");
    match &r.node {
        Some(n) => string(n, out),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"time\":");
    string(&r.time, out);
    out.extend_from_slice(b",\"serial\":");
    number(r.serial, out);
    flag("denied", r.denied, out);
    if !r.permissions.is_empty() {
        out.extend_from_slice(b",\"permissions\":[");
        for (i, p) in r.permissions.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(p, out);
        }
        out.push(b']');
    }
    if let Some(pid) = r.pid {
        out.extend_from_slice(b",\"pid\":");
        number(pid, out);
    }
    // In the struct's order, as serde writes them.
    for (name, value) in [
        ("comm", &r.comm),
        ("exe", &r.exe),
        ("path", &r.path),
        ("name", &r.name),
        ("scontext", &r.scontext),
        ("tcontext", &r.tcontext),
        ("tclass", &r.tclass),
    ] {
        text(name, value, out);
    }
    flag("permissive", r.permissive, out);
    flag("success", r.success, out);
    for (name, value) in [
        ("source_type", &r.source_type),
        ("target_type", &r.target_type),
        ("source_level", &r.source_level),
        ("target_level", &r.target_level),
    ] {
        text(name, value, out);
    }
    flag("enforcing", r.enforcing, out);
    flag("old_enforcing", r.old_enforcing, out);
    text("bool", &r.bool, out);
    flag("value", r.value, out);
    flag("old_value", r.old_value, out);
    out.push(b'}');
}

/// The name serde gives the kind (its `rename`).
fn kind_name(kind: RecordType) -> &'static str {
    match kind {
        RecordType::Avc => "AVC",
        RecordType::UserAvc => "USER_AVC",
        RecordType::SelinuxErr => "SELINUX_ERR",
        RecordType::MacStatus => "MAC_STATUS",
        RecordType::MacConfigChange => "MAC_CONFIG_CHANGE",
    }
}

fn key(name: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

fn text(name: &str, value: &Option<String>, out: &mut Vec<u8>) {
    if let Some(v) = value {
        key(name, out);
        string(v, out);
    }
}

fn flag(name: &str, value: Option<bool>, out: &mut Vec<u8>) {
    if let Some(v) = value {
        key(name, out);
        out.extend_from_slice(if v { b"true" } else { b"false" });
    }
}

fn number(n: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// A JSON string as serde_json writes it: `"` and `\` escaped, control characters as `\b \t
/// \n \f \r` or `\u00XX` (lowercase hex), everything else (non-ASCII too) as it is. Runs of
/// plain bytes are copied at once.
fn string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut plain = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x09 => b't',
            0x0a => b'n',
            0x0c => b'f',
            0x0d => b'r',
            0..=0x1f => b'u',
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain..i]);
        plain = i + 1;
        if short == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', short]);
        }
    }
    out.extend_from_slice(&bytes[plain..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_serde(r: &Record) {
        let mut ours = Vec::new();
        write_record(r, &mut ours);
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string(r).unwrap()
        );
    }

    #[test]
    fn every_field_and_every_awkward_byte_is_written_as_serde_writes_it() {
        same_as_serde(&Record::default());
        let awkward: String = (0u8..0x80).map(char::from).collect::<String>()
            + "é \u{2028} \u{7f} \u{1d} 😀 \"quoted\" back\\slash";
        same_as_serde(&Record {
            record_type: Some(RecordType::UserAvc),
            node: Some(awkward.clone()),
            time: "2024-11-22T12:53:19.123Z".into(),
            serial: u64::MAX,
            denied: Some(false),
            permissions: vec!["read".into(), awkward.clone(), String::new()],
            pid: Some(0),
            comm: Some(awkward.clone()),
            exe: Some("/usr/bin/x".into()),
            path: Some(String::new()),
            name: Some(awkward.clone()),
            scontext: Some("a".into()),
            tcontext: Some("b".into()),
            tclass: Some("c".into()),
            permissive: Some(true),
            success: Some(false),
            source_type: Some("d".into()),
            target_type: Some("e".into()),
            source_level: Some("s0:c1,c2".into()),
            target_level: Some("s0-s0:c0.c1023".into()),
            enforcing: Some(true),
            old_enforcing: Some(false),
            bool: Some(awkward),
            value: Some(true),
            old_value: Some(false),
        });
        for kind in [
            RecordType::Avc,
            RecordType::SelinuxErr,
            RecordType::MacStatus,
            RecordType::MacConfigChange,
        ] {
            same_as_serde(&Record {
                record_type: Some(kind),
                serial: 7,
                ..Default::default()
            });
        }
    }
}
