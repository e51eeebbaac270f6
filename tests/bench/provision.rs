//! Benchmark: provisioning sites on isolated Debian nodes through the real panel.
//! 1. One site on one node: its time split into time inside remote commands (the node's work
//!    and the SSH round trips) and the panel's own time (target: < 100 ms per site).
//! 2. One site on each of five nodes at once vs one site on one node (target: ≤ 1.5×).
//!
//! Run it with `cargo bench --bench provision` (root, the node rootfs from tests/run.sh). Under
//! `cargo test --all-targets` (CI) it provisions one site on one node only, to show the
//! benchmark still works.

#[path = "../suite/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::{
    IsolatedNode, add_server, create_site, onboard, panel_on, start_databases, wait_site,
};
use panel::domain::SiteStatus;

/// `(commands, remote ms, panel ms)` from the job's timing line.
async fn timing(app: &harness::TestApp, site: panel::ids::SiteId) -> (u64, u64, u64) {
    let s = panel::db::sites::get(app.db(), site)
        .await
        .unwrap()
        .unwrap();
    let log = panel::db::jobs::log_since(app.db(), s.last_job_id.unwrap(), 0)
        .await
        .unwrap();
    let line = log
        .iter()
        .find(|l| l.line.starts_with("Timing: "))
        .expect("a timing line")
        .line
        .clone();
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|t| t.parse().ok())
        .collect();
    (nums[0], nums[1], nums[2])
}

/// The machine's CPU time spent busy so far (all cores, from /proc/stat) and its core count.
/// The test nodes are namespaces on this machine, so their work competes for these cores: five
/// nodes at once cannot finish before `busy / cores`, however little the panel adds.
fn cpu_busy() -> (Duration, u32) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: all but idle and iowait are work.
    let busy: u64 = ticks.iter().take(8).sum::<u64>() - ticks[3] - ticks[4];
    let cores = stat
        .lines()
        .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
        .count();
    // USER_HZ is 100 on Linux.
    (Duration::from_millis(busy * 10), cores as u32)
}

fn fields(domain: &str) -> Vec<(&'static str, String)> {
    vec![
        ("domain", domain.to_owned()),
        ("app_type", "php".into()),
        ("php_version", "8.2".into()),
        ("database", "mariadb".into()),
    ]
}

async fn provision(
    app: &harness::TestApp,
    user: &harness::LoggedIn,
    server: panel::ids::ServerId,
    domain: &str,
) -> panel::ids::SiteId {
    let f = fields(domain);
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    create_site(app, user, server, &refs).await
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let count = if full { 5 } else { 1 };
    let nodes: Vec<IsolatedNode> = (0..count).map(|_| IsolatedNode::start_web()).collect();
    let (app, user) = panel_on(&nodes[0]).await;
    let mut servers = Vec::new();
    for node in &nodes {
        let (id, url) = add_server(&app, &user, node).await;
        onboard(&app, node, id, &url).await;
        start_databases(node);
        servers.push(id);
    }

    // 1. One site on one node, twice (the first also warms up the node's caches).
    let mut single = Duration::ZERO;
    let rounds = if full { 3 } else { 1 };
    for round in 0..rounds {
        let started = Instant::now();
        let site = provision(
            &app,
            &user,
            servers[0],
            &format!("single{round}.example.com"),
        )
        .await;
        wait_site(&app, site, SiteStatus::Active).await;
        let wall = started.elapsed();
        let (commands, remote, own) = timing(&app, site).await;
        println!(
            "one site, one node: {:>6} ms wall; {commands} remote commands, {remote} ms inside them, {own} ms in the panel (target < 100 ms)",
            wall.as_millis()
        );
        single = wall;
    }
    if !full {
        println!(
            "(CI run: one node only; `cargo bench --bench provision` runs the five-node comparison)"
        );
        app.stop().await;
        return;
    }

    // 2. One site on each of five nodes at once.
    let (busy_before, cores) = cpu_busy();
    let started = Instant::now();
    let mut sites = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        sites.push(provision(&app, &user, *server, &format!("parallel{i}.example.com")).await);
    }
    for site in &sites {
        wait_site(&app, *site, SiteStatus::Active).await;
    }
    let parallel = started.elapsed();
    let busy = cpu_busy().0 - busy_before;
    let mut own_total = 0;
    for site in &sites {
        let (_, _, own) = timing(&app, *site).await;
        own_total += own;
    }
    let ratio = parallel.as_secs_f64() / single.as_secs_f64();
    println!(
        "five sites, five nodes at once: {} ms wall vs {} ms for one: {ratio:.2}x (target <= 1.5x); panel time {} ms per site on average",
        parallel.as_millis(),
        single.as_millis(),
        own_total / sites.len() as u64
    );
    let floor = busy / cores;
    println!(
        "  the nodes share this machine: {} ms of CPU work on {cores} cores in that time, so no run \
         could take under {} ms ({:.2}x of one site); the panel's own time is above",
        busy.as_millis(),
        floor.as_millis(),
        floor.as_secs_f64() / single.as_secs_f64()
    );
    app.stop().await;
}
