//! The `panel` binary as an operator runs it: flags, environment, logs, SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn panel() -> Command {
    Command::new(env!("CARGO_BIN_EXE_panel"))
}

/// Start `panel` with `args` and `envs`, wait for its "listening" log line, return the child,
/// the address it reports and the log lines so far.
#[allow(clippy::zombie_processes)] // the caller waits for the child it gets back
pub(crate) fn start(
    args: &[&str],
    envs: &[(&str, &str)],
) -> (std::process::Child, String, Vec<String>) {
    let mut cmd = panel();
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("panel starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let addr = line
                .split("listening on http://")
                .nth(1)
                .map(|rest| rest.split([' ', '"']).next().unwrap().to_owned());
            lines.push(line);
            if let Some(addr) = addr {
                // Keep draining so the child never blocks on a full pipe.
                std::thread::spawn(move || while rx.recv().is_ok() {});
                return (child, addr, lines);
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("panel never said it was listening: {lines:?}");
}

pub(crate) fn sigterm(child: &std::process::Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[tokio::test]
async fn serve_reads_env_vars_logs_json_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut child, addr, lines) = start(
        &["serve", "--log-format", "json"],
        &[
            ("PANEL_LISTEN", "127.0.0.1:0"),
            ("PANEL_DATA_DIR", data.to_str().unwrap()),
            ("PANEL_URL", "http://localhost:8095"),
        ],
    );
    let json: serde_json::Value =
        serde_json::from_str(lines.last().unwrap()).expect("JSON log line");
    assert_eq!(json["level"], "INFO");
    let body = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(body.status(), 200);
    assert!(
        data.join("panel.sqlite").exists(),
        "database created in PANEL_DATA_DIR"
    );

    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let wal = data.join("panel.sqlite-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "WAL checkpointed"
    );
}

#[tokio::test]
async fn bare_panel_serves_and_a_toml_file_configures_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("panel.toml");
    let data = dir.path().join("from-toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n",
            data.display()
        ),
    )
    .unwrap();
    let (mut child, addr, _) = start(&["--config", file.to_str().unwrap()], &[]);
    let resp = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(data.join("panel.sqlite").exists());
    sigterm(&child);
    assert!(child.wait().unwrap().success());
}

#[test]
fn bad_settings_exit_2_naming_the_setting() {
    let out = panel().args(["--listen", "nonsense"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen:"));
    let out = panel().args(["--url", "ftp://x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("url:"));
}

/// The parser streams a log through a 1 MiB buffer: records cut by the buffer's end, a line
/// of several MiB (counted as overlong, never held whole), CRLF endings and a last line without
/// a newline all come out right.
#[test]
fn selinux_parse_streams_across_buffer_ends_and_passes_over_huge_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let avc = |serial: u32| {
        format!(
            "type=AVC msg=audit(1732279999.123:{serial}): avc:  denied  {{ read }} for  pid=7 comm=\"php-fpm\" name=\"f{serial}\" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0"
        )
    };
    let mut text = String::new();
    let mut serial = 0;
    // Enough records to cross the buffer's end many times, one line with CRLF.
    while text.len() < 2_500_000 {
        serial += 1;
        text.push_str(&avc(serial));
        text.push_str(if serial == 5 { "\r\n" } else { "\n" });
        text.push_str("type=CWD msg=audit(1732279999.123:1): cwd=\"/\"\n");
    }
    text.push_str(&format!(
        "type=AVC msg=audit(1.000:1): {}\n",
        "x".repeat(3 << 20)
    ));
    serial += 1;
    text.push_str(&avc(serial));
    std::fs::write(&log, text).unwrap();
    let out = panel()
        .args(["selinux", "parse"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success());
    let names: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(names.len(), serial as usize);
    assert!(
        names
            .iter()
            .enumerate()
            .all(|(i, n)| *n == format!("f{}", i + 1)),
        "in order, none cut"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("skipped 0 malformed and 1 overlong"),
        "{stderr}"
    );
}

#[test]
fn selinux_parse_prints_one_json_line_per_record_and_summarises_skips() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut text = String::new();
    text.push_str("type=AVC msg=audit(1732279999.123:1): avc:  denied  { read write } for  pid=7 comm=\"php-fpm\" name=\"<img src=x onerror=alert(1)>\" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0\n");
    text.push_str("type=SYSCALL msg=audit(1732279999.123:1): arch=c000003e syscall=2 success=no exe=\"/usr/sbin/php-fpm\"\n");
    text.push_str("type=MAC_CONFIG_CHANGE msg=audit(1732280000.000:2): bool=httpd_can_network_connect val=1 old_val=0\n");
    text.push_str("not an audit line\n");
    std::fs::write(&log, text.as_bytes()).unwrap();
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(b"\xff\xfe invalid utf-8\n");
    std::fs::write(&log, bytes).unwrap();
    let out = panel()
        .args(["selinux", "parse"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["record_type"], "AVC");
    assert_eq!(
        lines[0]["permissions"],
        serde_json::json!(["read", "write"])
    );
    assert_eq!(lines[0]["exe"], "/usr/sbin/php-fpm");
    assert_eq!(lines[0]["success"], false);
    assert_eq!(
        lines[0]["name"], "<img src=x onerror=alert(1)>",
        "kept literally as data"
    );
    assert_eq!(lines[1]["bool"], "httpd_can_network_connect");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("skipped 2 malformed"), "{stderr}");
    let missing = panel()
        .args(["selinux", "parse", "/nonexistent/audit.log"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn selinux_explain_groups_denials_most_severe_first() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut text = String::new();
    for serial in 1..=3 {
        text.push_str(&format!("type=AVC msg=audit(1732279999.{serial:03}:{serial}): avc:  denied  {{ name_connect }} for  pid=7 comm=\"php-fpm\" dest=3306 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:mysqld_port_t:s0 tclass=tcp_socket permissive=0\n"));
    }
    text.push_str("type=AVC msg=audit(1732280000.000:9): avc:  denied  { read } for  pid=8 comm=\"php-fpm\" name=\"$(reboot)\" path=\"/home/web2/public_html/wp-config.php\" scontext=system_u:system_r:laravel_php_fpm_t:s0:c100,c101 tcontext=system_u:object_r:site_content_t:s0:c102,c103 tclass=file permissive=0\n");
    text.push_str(
        "type=MAC_STATUS msg=audit(1732280001.000:10): enforcing=0 old_enforcing=1 auid=0 ses=1\n",
    );
    std::fs::write(&log, &text).unwrap();

    let out = panel()
        .args(["selinux", "explain", "--format", "json"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["explanation"]["kind"], "cross_site");
    assert_eq!(lines[0]["explanation"]["severity"], "critical");
    assert_eq!(lines[0]["example"]["name"], "$(reboot)", "kept as data");
    assert_eq!(lines[1]["count"], 3);
    assert_eq!(lines[1]["explanation"]["kind"], "boolean");
    assert!(
        lines[1]["explanation"]["suggestion"]
            .as_str()
            .unwrap()
            .contains("'setsebool' '-P' 'httpd_can_network_connect_db' 'on'")
    );

    let text = panel()
        .args(["selinux", "explain"])
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.starts_with("[critical] 1× laravel_php_fpm_t → site_content_t file { read }"),
        "{text}"
    );
    assert!(
        text.contains("[medium] 3× httpd_t → mysqld_port_t tcp_socket { name_connect }"),
        "{text}"
    );
}
