//! Any bytes a managed node could put in its audit log: the parser never panics, never loops,
//! never allocates without bound, and what it returns keeps the promises the panel relies on.

#![no_main]

use libfuzzer_sys::fuzz_target;

// The panel's own parser, compiled as it is (no copy): src/selinux/audit.rs (the grammar) and
// src/selinux/stream.rs (lines to records).
#[path = "../../../src/selinux/audit.rs"]
#[allow(dead_code)]
mod audit;
#[path = "../../../src/selinux/stream.rs"]
#[allow(dead_code)]
mod stream;
#[path = "../../../src/selinux/json.rs"]
mod json;

fuzz_target!(|data: &[u8]| {
    // The collector and the CLI read node bytes the same way: invalid UTF-8 becomes U+FFFD.
    let text = String::from_utf8_lossy(data);
    let lines = text.split('\n').count() as u64;
    let (records, skipped) = stream::parse(&text);
    assert!(records.len() as u64 <= lines, "more records than lines");
    assert!(skipped.overlong + skipped.malformed <= lines);
    for r in &records {
        // A record always says what it is, and the time is RFC 3339 with milliseconds.
        assert!(r.record_type.is_some());
        assert!(
            r.time.is_empty() || (r.time.ends_with('Z') && r.time.len() == 24),
            "{}",
            r.time
        );
        // Nothing a record holds is longer than the line it came from (no amplification).
        for field in [
            &r.comm,
            &r.exe,
            &r.path,
            &r.name,
            &r.scontext,
            &r.tcontext,
            &r.tclass,
        ] {
            if let Some(v) = field {
                assert!(v.len() <= audit::MAX_LINE * 3, "field of {} bytes", v.len());
            }
        }
        let _ = audit::to_text(r);
    }
    let (selinux, skipped_too) = stream::parse_selinux_only(&text);
    assert!(selinux.len() <= records.len());
    assert_eq!(skipped_too, skipped);
    // The streaming reader `explain` uses sees exactly the denials the full parser does,
    // and gives the same record for each.
    let denied: Vec<&audit::Record> = selinux.iter().filter(|r| r.denied == Some(true)).collect();
    let mut seen = 0;
    let skipped_by_stream = audit::denials(&text, |d| {
        let r = d.record();
        assert_eq!(&r, denied[seen], "denial {seen} differs");
        seen += 1;
    });
    assert_eq!(seen, denied.len());
    assert_eq!(skipped_by_stream, skipped);
    // `panel selinux parse` writes each record with its own JSON writer: byte for byte what
    // serde writes.
    let mut line = Vec::new();
    for r in &records {
        line.clear();
        json::write_record(r, &mut line);
        assert_eq!(line, serde_json::to_vec(r).unwrap());
    }
    // The CLI hands the parser raw lines (bytes, newline kept; a SYSCALL cut at its enriched
    // tail): the same records as the text. Lines near the length limit are left out, where
    // U+FFFD (3 bytes for 1) can put the text and the bytes on either side of it.
    if data.split(|&b| b == b'\n').all(|l| l.len() < audit::MAX_LINE / 3) {
        let mut parser = stream::Parser::new(true);
        let mut by_bytes = Vec::new();
        for l in data.split_inclusive(|&b| b == b'\n') {
            parser.line_bytes(l, &mut |r| by_bytes.push(r));
        }
        let skipped_by_bytes = parser.finish(&mut |r| by_bytes.push(r));
        assert_eq!(by_bytes, records, "the byte path gives other records");
        assert_eq!(skipped_by_bytes, skipped);
    }
});
