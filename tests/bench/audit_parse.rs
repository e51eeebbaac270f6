//! Benchmark: parse a generated audit log with `panel selinux parse` and with
//! `ausearch -if FILE -m avc -i`, in the same run; print both times and the ratio
//! (target: panel ≥ 10× faster); then `panel selinux explain` over all its denials vs
//! `audit2why -p` (target ≥ 100× per denial). The measurement is
//! `PANEL_BENCH_LINES=1000000 cargo bench --bench audit_parse`. Without PANEL_BENCH_LINES it
//! runs 2,000 lines: `cargo test --all-targets` (CI) runs this target too, and then only checks
//! that the benchmark still works.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn generate(path: &std::path::Path, lines: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut serial = 1000u64;
    let mut written = 0;
    while written < lines {
        serial += 1;
        let t = 1_732_279_999 + serial / 10;
        let ms = serial % 1000;
        let site = serial % 500;
        match serial % 10 {
            0 => {
                writeln!(out, "type=MAC_CONFIG_CHANGE msg=audit({t}.{ms:03}:{serial}): bool=httpd_can_network_connect val=1 old_val=0 auid=0 ses=1").unwrap();
                written += 1;
            }
            1 => {
                writeln!(out, "type=USER_AVC msg=audit({t}.{ms:03}:{serial}): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 msg='avc:  denied  {{ status }} for auid=n/a uid=0 gid=0 path=\"/etc/systemd/system/php-fpm@web{site}.service\" cmdline=\"/usr/bin/systemctl status\" scontext=system_u:system_r:init_t:s0 tcontext=system_u:object_r:systemd_unit_file_t:s0 tclass=service permissive=0 exe=\"/usr/lib/systemd/systemd\" sauid=0 hostname=? addr=? terminal=?'").unwrap();
                written += 1;
            }
            _ => {
                writeln!(out, "type=AVC msg=audit({t}.{ms:03}:{serial}): avc:  denied  {{ read open }} for  pid={serial} comm=\"php-fpm\" name=\"config{site}.php\" dev=\"vda1\" ino={serial} scontext=system_u:system_r:httpd_t:s0:c{site},c{} tcontext=system_u:object_r:httpd_sys_content_t:s0:c{},c{} tclass=file permissive=1", site + 1, site + 2, site + 3).unwrap();
                writeln!(out, "type=SYSCALL msg=audit({t}.{ms:03}:{serial}): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7ffd a2=0 a3=0 items=0 ppid=1 pid={serial} auid=4294967295 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=(none) ses=4294967295 comm=\"php-fpm\" exe=\"/usr/sbin/php-fpm8.2\" subj=system_u:system_r:httpd_t:s0:c{site},c{} key=(null)", site + 1).unwrap();
                writeln!(out, "type=PROCTITLE msg=audit({t}.{ms:03}:{serial}): proctitle=7068702D66706D3A20706F6F6C20776562").unwrap();
                written += 3;
            }
        }
    }
}

fn time(mut cmd: Command) -> (Duration, bool) {
    let start = Instant::now();
    let status = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
    (
        start.elapsed(),
        status.map(|s| s.success()).unwrap_or(false),
    )
}

fn main() {
    // Small unless asked: `cargo test --all-targets` (CI) runs this target too.
    let lines: usize = std::env::var("PANEL_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let start = Instant::now();
    generate(&log, lines);
    let size = std::fs::metadata(&log).unwrap().len();
    println!(
        "generated {lines} lines ({:.0} MB) in {:.1?}",
        size as f64 / 1e6,
        start.elapsed()
    );

    let mut panel = Command::new(env!("CARGO_BIN_EXE_panel"));
    panel.args(["selinux", "parse"]).arg(&log);
    let (ours, ok) = time(panel);
    assert!(ok, "panel selinux parse failed");
    println!("panel selinux parse:             {ours:>10.2?}");

    let mut ausearch = Command::new("ausearch");
    ausearch.args(["-if"]).arg(&log).args(["-m", "avc", "-i"]);
    match time(ausearch) {
        (theirs, true) => {
            println!("ausearch -if FILE -m avc -i:     {theirs:>10.2?}");
            let ratio = theirs.as_secs_f64() / ours.as_secs_f64();
            if lines >= 100_000 {
                let verdict = if ratio >= 10.0 {
                    ""
                } else {
                    MISSED.store(true, std::sync::atomic::Ordering::SeqCst);
                    "  — BELOW TARGET"
                };
                println!("panel is {ratio:.1}× faster (target ≥ 10×){verdict}");
            } else {
                println!("panel is {ratio:.1}× faster (smoke run: too small to judge the target)");
            }
        }
        _ => println!("ausearch unavailable (install auditd); no comparison"),
    }
    explain_vs_audit2why(&log, dir.path(), lines);
    // A judged run (100,000 lines or more) that misses a target fails.
    if MISSED.load(std::sync::atomic::Ordering::SeqCst) {
        std::process::exit(1);
    }
}

static MISSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `panel selinux explain` over every denial of the log vs `audit2why -p POLICY`. audit2why
/// takes milliseconds per denial (an hour for a million-line log), so it reads the first
/// 1,000 AVC records and the comparison is per denial.
fn explain_vs_audit2why(log: &std::path::Path, dir: &std::path::Path, lines: usize) {
    let text = std::fs::read_to_string(log).unwrap();
    let denials = text.lines().filter(|l| l.contains("avc:  denied")).count();
    let mut panel = Command::new(env!("CARGO_BIN_EXE_panel"));
    panel.args(["selinux", "explain"]).arg(log);
    let (ours, ok) = time(panel);
    assert!(ok, "panel selinux explain failed");
    let ours_each = ours.as_secs_f64() / denials as f64;
    println!(
        "panel selinux explain:           {ours:>10.2?} for {denials} denials ({:.2} µs each)",
        ours_each * 1e6
    );
    let policy = "/etc/selinux/default/policy/policy.33";
    if !std::path::Path::new(policy).exists() {
        println!("no reference policy (install selinux-policy-default); no comparison");
        return;
    }
    let sample: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("type=AVC "))
        .take(1_000)
        .collect();
    let sample_path = dir.join("sample.log");
    std::fs::write(&sample_path, sample.join("\n") + "\n").unwrap();
    let mut a2w = Command::new("audit2why");
    a2w.args(["-p", policy, "-i"]).arg(&sample_path);
    match time(a2w) {
        (theirs, true) => {
            let theirs_each = theirs.as_secs_f64() / sample.len() as f64;
            println!(
                "audit2why -p POLICY:             {theirs:>10.2?} for {} denials ({:.0} µs each)",
                sample.len(),
                theirs_each * 1e6
            );
            let ratio = theirs_each / ours_each;
            if lines >= 100_000 {
                let verdict = if ratio >= 100.0 {
                    ""
                } else {
                    MISSED.store(true, std::sync::atomic::Ordering::SeqCst);
                    "  — BELOW TARGET"
                };
                println!("explain is {ratio:.0}× faster per denial (target ≥ 100×){verdict}");
            } else {
                println!(
                    "explain is {ratio:.0}× faster per denial (smoke run: too small to judge the target)"
                );
            }
        }
        _ => println!(
            "audit2why failed or is unavailable (policycoreutils-python-utils); no comparison"
        ),
    }
}
