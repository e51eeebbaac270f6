//! Benchmark: a denial written to a node's audit log → its toast on the panel's live SSE stream
//! (target: p90 within 1 s) and its alert mail in a real SMTP sink on loopback (target: every
//! one within 5 s). The collector long-polls each server (the node waits on `tail -F` for the
//! log to change), so the toast's time is the node's wake-up, one SSH round trip, the store
//! and the broadcast. Each denial is of a new kind (so it is mailed at once, not digested) and
//! is appended once the previous one has arrived, after a pause, so each is measured from a
//! quiet log.
//!
//! Then the collector's cost at rest: the node answers at as many more addresses as it takes
//! to make 100 active servers (each its own SSH connection and long poll, as separate machines
//! would be), the logs stay quiet, and the panel's CPU time over 30 s is read from
//! `/proc/self/stat` (target: < 2 % of one core).
//!
//! `cargo bench --bench collect_latency` measures 20 denials and 100 idle servers;
//! `cargo test --all-targets` (CI) measures 10 denials and 10 servers for 10 s. Both judge the
//! targets and exit 1 when one is missed.

#[path = "../suite/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use harness::{IsolatedNode, SmtpSink, add_server, onboard, panel_on_with, wait_for};

const LOG: &str = "/var/log/audit/audit.log";

/// A denial of a kind of its own (its own target type).
fn denial(serial: u32) -> String {
    format!(
        "type=AVC msg=audit(1763900000.{:03}:{serial}): avc:  denied  {{ read }} for  pid={serial} comm=\"php-fpm\" name=\"f{serial}.php\" dev=\"vda1\" ino={serial} scontext=system_u:system_r:laravel_php_fpm_t:s0:c100,c101 tcontext=system_u:object_r:kind{serial}_t:s0:c100,c101 tclass=file permissive=1\n",
        serial % 1000
    )
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let count: u32 = if full { 20 } else { 10 };
    let sink = SmtpSink::start().await;
    let node = IsolatedNode::start();
    let (app, user) = panel_on_with(&node, Some(sink.config(Duration::from_secs(600)))).await;
    let (id, setup_url) = add_server(&app, &user, &node).await;
    node.must(
        &format!("install -d -m 0700 /var/log/audit && install -m 0600 /dev/null {LOG}"),
        "",
    );
    onboard(&app, &node, id, &setup_url).await;
    wait_for(&app, id, "active").await;
    let mut stream = user.get("/selinux/events").await.bytes_stream();
    // The collector's first read of the new server (its position is stored), then a quiet log.
    harness::wait_first_audit_read(&app).await;
    // One `cat >> LOG` on the node for the whole run: a line written to its stdin is in the log
    // a moment later, so the clock starts when the denial is written, not before an ssh
    // handshake.
    let mut writer = node.root_with_stdin(&format!("cat >> {LOG}"));
    let (mut toasts, mut mails) = (Vec::new(), Vec::new());
    let mut seen = String::new();
    for i in 0..count {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let serial = 5000 + i;
        let appended = Instant::now();
        {
            use std::io::Write;
            let stdin = writer.stdin.as_mut().unwrap();
            stdin.write_all(denial(serial).as_bytes()).unwrap();
            stdin.flush().unwrap();
        }
        // One toast event per denial, in order.
        let toast = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                if seen.matches("event: denial").count() > i as usize {
                    return appended.elapsed();
                }
                match stream.next().await {
                    Some(Ok(chunk)) => seen.push_str(&String::from_utf8_lossy(&chunk)),
                    other => panic!("the live stream ended: {other:?}"),
                }
            }
        })
        .await
        .expect("the denial's toast");
        let marker = format!("kind{serial}_t");
        let deadline = appended + Duration::from_secs(30);
        let mail = loop {
            if sink.messages().iter().any(|m| m.contains(&marker)) {
                break appended.elapsed();
            }
            assert!(Instant::now() < deadline, "no mail for denial {serial}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        toasts.push(toast);
        mails.push(mail);
    }
    toasts.sort();
    mails.sort();
    let toast_ok = quantile(&toasts, 0.9) <= Duration::from_secs(1);
    let mail_ok = *mails.last().unwrap() <= Duration::from_secs(5);
    let verdict = |ok: bool| if ok { "" } else { "  — BELOW TARGET" };
    println!(
        "denial on the node → SSE toast, {count} denials: median {:.0?}, p90 {:.0?}, max {:.0?} (target p90 ≤ 1 s){}",
        quantile(&toasts, 0.5),
        quantile(&toasts, 0.9),
        toasts.last().unwrap(),
        verdict(toast_ok)
    );
    println!(
        "denial on the node → alert mail in the SMTP sink: median {:.0?}, max {:.0?} (target ≤ 5 s each){}",
        quantile(&mails, 0.5),
        mails.last().unwrap(),
        verdict(mail_ok)
    );
    drop(writer.stdin.take());
    let _ = writer.wait();

    let idle_ok = idle_cost(
        &app,
        &node,
        id,
        if full { 100 } else { 10 },
        Duration::from_secs(if full { 30 } else { 10 }),
    )
    .await;
    app.stop().await;
    drop(node);
    if !(toast_ok && mail_ok && idle_ok) {
        std::process::exit(1);
    }
}

/// This process's CPU time so far (user + system), from `/proc/self/stat` (ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|t| t.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Duration::from_millis((f[11] + f[12]) * 10)
}

/// `servers` active servers (the onboarded one and clones of it at more addresses of the same
/// node), all followed by the collector with quiet logs: the panel's CPU share over `window`.
async fn idle_cost(
    app: &harness::TestApp,
    node: &IsolatedNode,
    first: panel::ids::ServerId,
    servers: u32,
    window: Duration,
) -> bool {
    let prefix = node.ip.rsplit_once('.').unwrap().0.to_owned();
    let iface = node.must(
        "ip -o -4 addr show | awk '$4 ~ /^10\\./ {print $2; exit}'",
        "",
    );
    let iface = iface.trim();
    for k in 1..servers {
        let ip = format!("{prefix}.{}", 2 + k);
        node.must(&format!("ip addr add {ip}/24 dev {iface}"), "");
        // A server row like the first one (its key, its pinned host key), at the new address.
        sqlx::query(
            "INSERT INTO servers (id, name, ip_address, hostname, os_version, ssh_port, ssh_user,
                                  ssh_key_id, host_key, status, selinux_mode)
             SELECT ?, ?, ?, ?, os_version, ssh_port, ssh_user, ssh_key_id, host_key, 'active',
                    selinux_mode
             FROM servers WHERE id = ?",
        )
        .bind(panel::ids::ServerId::generate())
        .bind(format!("idle-{k}"))
        .bind(&ip)
        .bind(format!("idle-{k}.example.com"))
        .bind(first)
        .execute(app.db())
        .await
        .unwrap();
    }
    // Every server read once (its position stored), then a moment to settle.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let read: i64 = sqlx::query_scalar("SELECT count(*) FROM selinux_log_positions")
            .fetch_one(app.db())
            .await
            .unwrap();
        if read >= i64::from(servers) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the collector read {read} of {servers} servers' logs"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cpu0, t0) = (cpu_time(), Instant::now());
    tokio::time::sleep(window).await;
    let (cpu, wall) = (cpu_time() - cpu0, t0.elapsed());
    let share = cpu.as_secs_f64() / wall.as_secs_f64() * 100.0;
    let ok = share < 2.0;
    println!(
        "the collector following {servers} idle servers: {cpu:.2?} of CPU in {wall:.1?}: {share:.2} % of one core (target < 2 %){}",
        if ok { "" } else { "  — BELOW TARGET" }
    );
    ok
}
