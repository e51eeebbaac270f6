//! Benchmark: a denial written to a node's audit log → its toast on the panel's live SSE stream
//! (target: within 1 s). The collector long-polls each server (the node waits on `tail -F` for
//! the log to change), so the time is the node's wake-up, one SSH round trip, the store and the
//! broadcast. Each denial is appended when the previous one has arrived, after a pause, so
//! every one is measured from a quiet log.
//!
//! `cargo bench --bench collect_latency` measures 20 denials; under `cargo test --all-targets`
//! (CI) it measures 3, to show the benchmark still works.

#[path = "../suite/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use harness::{IsolatedNode, onboard, panel_for, wait_for};

const LOG: &str = "/var/log/audit/audit.log";

fn denial(serial: u32) -> String {
    format!(
        "type=AVC msg=audit(1763900000.{:03}:{serial}): avc:  denied  {{ read }} for  pid={serial} comm=\"php-fpm\" name=\"f{serial}.php\" dev=\"vda1\" ino={serial} scontext=system_u:system_r:laravel_php_fpm_t:s0:c100,c101 tcontext=system_u:object_r:site_content_t:s0:c100,c101 tclass=file permissive=1\n",
        serial % 1000
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let count: u32 = if full { 20 } else { 3 };
    let (node, app, user, id, setup_url) = panel_for(IsolatedNode::start()).await;
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
    let mut latencies = Vec::new();
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
        let latency = tokio::time::timeout(Duration::from_secs(30), async {
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
        latencies.push(latency);
    }
    // The append itself goes through `ssh`; measured on the same clock, it is included.
    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    let (median, p90, max) = (pick(0.5), pick(0.9), *latencies.last().unwrap());
    let verdict = if !full {
        " (smoke run: too few to judge the target)"
    } else if p90 <= Duration::from_secs(1) {
        ""
    } else {
        "  — BELOW TARGET"
    };
    println!(
        "denial on the node → SSE toast, {count} denials: median {median:.0?}, p90 {p90:.0?}, max {max:.0?} (target ≤ 1 s){verdict}"
    );
    drop(writer.stdin.take());
    let _ = writer.wait();
    app.stop().await;
    drop(node);
}
