//! SELinux for real: a QEMU VM node (tests/nodes/vm.sh) running Debian 12 with systemd and the
//! Debian kernel enforcing the reference policy (MCS), onboarded and driven through the panel's
//! UI and jobs like any server: the module installed, its booleans toggled, sites provisioned
//! with their PHP-FPM masters confined at their own categories, isolation proven by the kernel,
//! denials collected, explained, toasted and mailed, the site lifecycle run without a denial of
//! the panel's own operations, and the switch to enforcing. The VM boots once for all of it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use panel::domain::SiteStatus;
use panel::ids::SiteId;

use crate::harness::{LoggedIn, SmtpSink, TestApp, TestNode, create_site};

const CACHE: &str = "/var/cache/panel-tests";

/// The VM, booted for this test run; stopped by its pid when dropped (a failing test too).
pub struct VmNode {
    pub ip: String,
    pub gateway: String,
    key: PathBuf,
    dir: tempfile::TempDir,
    /// `kvm` or `tcg`, and how long it took to answer on ssh.
    pub accel: String,
    pub boot: Duration,
}

fn vm_script() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/nodes/vm.sh")
}

impl VmNode {
    pub fn start() -> VmNode {
        let cache = std::env::var("PANEL_NODE_CACHE").unwrap_or_else(|_| CACHE.into());
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(vm_script())
            .arg("start")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the VM did not boot (tests/run.sh builds its image): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_default()
                .to_owned()
        };
        VmNode {
            ip: "10.202.1.2".into(),
            gateway: "10.202.1.1".into(),
            key: PathBuf::from(cache).join("vm/root_key"),
            accel: field("accel="),
            boot: Duration::from_secs(field("boot_seconds=").parse().unwrap_or(0)),
            dir,
        }
    }

    /// Run `command` as root on the VM with `stdin`.
    pub fn root(&self, command: &str, stdin: &str) -> std::process::Output {
        crate::harness::run_with_stdin(
            crate::harness::ssh_root_at(&self.key, &self.ip, command),
            stdin,
        )
    }

    /// Run `command` as root and insist that it worked; its stdout.
    pub fn must(&self, command: &str) -> String {
        let out = self.root(command, "");
        assert!(
            out.status.success(),
            "`{command}` failed on the VM: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `curl` on the VM against its nginx for `host`: (status, body).
    pub fn http(&self, host: &str, path: &str) -> (u16, String) {
        crate::harness::http_on(self, host, path)
    }

    /// Every AVC denial in the audit log after byte `from`, explained by `audit2why` (empty:
    /// none). The log's size now is the next `from`.
    pub fn denials_since(&self, from: u64) -> (String, u64) {
        let out = self.must(&format!(
            "f=/var/log/audit/audit.log; size=$(stat -c %s $f); echo \"size=$size\"; \
             tail -c +$(({from} + 1)) $f | head -c $((size - {from})) | grep -a 'avc: *denied' > /tmp/new-avc || true; \
             if [ -s /tmp/new-avc ]; then cat /tmp/new-avc; echo '--- audit2why:'; audit2why -i /tmp/new-avc 2>&1 | head -80; fi"
        ));
        let (first, rest) = out.split_once('\n').unwrap_or((&out, ""));
        let size = first
            .strip_prefix("size=")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(from);
        (rest.trim().to_owned(), size)
    }
}

impl Drop for VmNode {
    fn drop(&mut self) {
        // A failed test says what the node saw: every denial, explained, and what failed.
        // (`root`, not `must`: a second panic here would abort before the VM is stopped.)
        if std::thread::panicking() {
            let out = self.root(
                "grep -a 'avc: *denied' /var/log/audit/audit.log > /tmp/all-avc; cat /tmp/all-avc; \
                 echo '--- audit2why:'; audit2why -i /tmp/all-avc 2>&1 | head -80; \
                 systemctl --failed --no-pager; journalctl -p warning -n 40 --no-pager",
                "",
            );
            eprintln!(
                "--- every AVC denial of the run, and the node's failures:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        // PANEL_VM_KEEP=1 leaves it running to look at a failure (stop it with
        // `tests/nodes/vm.sh stop DIR`, the directory printed here).
        if std::env::var_os("PANEL_VM_KEEP").is_some() {
            let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
            eprintln!(
                "VM kept running: tests/nodes/vm.sh stop {}",
                dir.keep().display()
            );
            return;
        }
        let _ = std::process::Command::new(vm_script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

impl TestNode for VmNode {
    fn ip(&self) -> &str {
        &self.ip
    }
    fn gateway(&self) -> &str {
        &self.gateway
    }
    fn label(&self) -> String {
        "vm-node".into()
    }
    fn root(&self, command: &str, stdin: &str) -> std::process::Output {
        VmNode::root(self, command, stdin)
    }
}

/// The newest job of `kind` (after `after`, a job id or ""), once it finished.
async fn finished_job(
    app: &TestApp,
    kind: &str,
    after: &str,
    limit: Duration,
) -> panel::db::jobs::Job {
    let deadline = Instant::now() + limit;
    loop {
        let id: Option<panel::ids::JobId> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE kind = ? AND id > ? ORDER BY id DESC LIMIT 1",
        )
        .bind(kind)
        .bind(after)
        .fetch_optional(app.db())
        .await
        .unwrap();
        if let Some(id) = id {
            let job = panel::db::jobs::get(app.db(), id).await.unwrap().unwrap();
            if job.status.is_final() {
                return job;
            }
        }
        assert!(Instant::now() < deadline, "no finished {kind} job");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn job_log(app: &TestApp, job: panel::ids::JobId) -> String {
    panel::db::jobs::log_since(app.db(), job, 0)
        .await
        .unwrap()
        .iter()
        .map(|l| format!("[{}] {}", l.stream, l.line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The job worked (its steps' times printed); its log otherwise.
async fn succeeded(app: &TestApp, job: &panel::db::jobs::Job) {
    print_steps(app, job).await;
    if job.status != "success" {
        panic!(
            "{} failed: {:?}\n{}",
            job.title,
            job.error,
            job_log(app, job.id).await
        );
    }
}

/// The job's title and each step's time: where the VM part's minutes go.
async fn print_steps(app: &TestApp, job: &panel::db::jobs::Job) {
    let steps: Vec<(String, f64)> = sqlx::query_as(
        "SELECT description, (julianday(coalesce(finished_at, started_at)) - julianday(started_at)) * 86400.0
         FROM job_steps WHERE job_id = ? ORDER BY position",
    )
    .bind(job.id)
    .fetch_all(app.db())
    .await
    .unwrap();
    let total: f64 = steps.iter().map(|(_, s)| s).sum();
    println!("{} ({total:.0} s):", job.title);
    for (step, secs) in &steps {
        println!("    {secs:6.1} s  {step}");
    }
}

/// Post `path` (`fields`) and wait for the `kind` job it starts; the finished job.
async fn post_job(
    app: &TestApp,
    user: &LoggedIn,
    path: &str,
    fields: &[(&str, &str)],
    kind: &str,
) -> panel::db::jobs::Job {
    let after: String = sqlx::query_scalar("SELECT coalesce(max(id), '') FROM jobs")
        .fetch_one(app.db())
        .await
        .unwrap();
    let resp = user.post_form(path, fields).await;
    let status = resp.status();
    assert!(
        status == 303 || status == 200,
        "{path}: {status} {}",
        resp.text().await.unwrap()
    );
    finished_job(app, kind, &after, Duration::from_secs(600)).await
}

/// Wait until the site settles (its last job finished) and insist it is `want`.
async fn settled_site(app: &TestApp, id: SiteId, want: SiteStatus) -> panel::db::sites::Site {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let s = panel::db::sites::get(app.db(), id).await.unwrap().unwrap();
        let done = match s.last_job_id {
            Some(j) => panel::db::jobs::get(app.db(), j)
                .await
                .unwrap()
                .unwrap()
                .status
                .is_final(),
            None => false,
        };
        if done && s.status != SiteStatus::Provisioning {
            let job = panel::db::jobs::get(app.db(), s.last_job_id.unwrap())
                .await
                .unwrap()
                .unwrap();
            print_steps(app, &job).await;
            if s.status != want {
                panic!(
                    "{} is {:?} ({:?}), not {want:?}:\n{}",
                    s.domain,
                    s.status,
                    s.status_reason,
                    job_log(app, s.last_job_id.unwrap()).await
                );
            }
            return s;
        }
        assert!(Instant::now() < deadline, "{} never settled", s.domain);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The SELinux level of a site (`s0:cX,cY`).
fn level(site: &panel::db::sites::Site) -> String {
    panel::domain::McsPair::from_id(site.mcs_id.unwrap())
        .unwrap()
        .level()
}

/// No AVC denial since `mark`; the new mark. With `PANEL_VM_COLLECT` set (a permissive run for
/// writing policy, never in CI) the denials are printed instead.
fn no_denials(vm: &VmNode, mark: u64, during: &str) -> u64 {
    let (denials, size) = vm.denials_since(mark);
    // The node doubles as the deployments' git host: its sshd serving the `git` account (not
    // the panel) trips Debian's policy on that login's session keyring. Nothing else is let by.
    let git_host = |l: &str| {
        l.contains("comm=\"sshd\"")
            && l.contains("scontext=system_u:system_r:sshd_t:s0 ")
            && l.contains("tclass=key ")
            && l.contains("{ search }")
    };
    let denials = if denials
        .lines()
        .filter(|l| l.starts_with("type=AVC"))
        .all(git_host)
    {
        String::new()
    } else {
        denials
    };
    if collecting() {
        println!("--- denials while {during}:\n{denials}");
    } else {
        assert!(denials.is_empty(), "AVC denials while {during}:\n{denials}");
    }
    size
}

fn collecting() -> bool {
    std::env::var_os("PANEL_VM_COLLECT").is_some()
}

async fn wait_mail(sink: &SmtpSink, subject: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        if let Some(m) = sink.messages().into_iter().find(|m| {
            m.lines()
                .any(|l| l.starts_with("Subject: ") && l.contains(subject))
        }) {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "no mail `{subject}` within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A PHP page of site A: its own file, and a file of site B.
const PROBE: &str = r#"<?php
foreach (['own' => '/home/web1/public_html/own.txt', 'other' => '/home/web2/public_html/secret.txt'] as $k => $f) {
    $v = @file_get_contents($f);
    echo $k, '=', $v === false ? 'DENIED:' . (error_get_last()['message'] ?? '') : trim($v), "\n";
}
"#;

// Multi-threaded: the node's callbacks reach the panel while the test blocks on `ssh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enforcing_kernel_confines_each_site_and_the_panel_runs_without_denials() {
    let started = Instant::now();
    let vm = VmNode::start();
    println!("VM: accelerator {}, ssh after {:?}", vm.accel, vm.boot);
    assert_eq!(vm.must("getenforce").trim(), "Enforcing");
    if collecting() {
        vm.must("setenforce 0");
    }
    let (_, mut mark) = vm.denials_since(0);

    let sink = SmtpSink::start().await;
    let quiet = Duration::from_secs(30);
    let (app, user) = crate::harness::panel_on_configured(&vm, |c| {
        c.smtp = Some(sink.config(Duration::from_secs(3)));
        c.selinux_quiet_window = quiet;
    })
    .await;
    let (server, setup_url) = crate::harness::add_server(&app, &user, &vm).await;
    // As an operator would: the one-time URL fetched on the server itself, through sudo.
    assert!(
        setup_url.starts_with("http") && !setup_url.contains('\''),
        "{setup_url}"
    );
    let setup = vm.root(&format!("curl -fsS '{setup_url}' | sudo bash"), "");
    assert!(
        setup.status.success(),
        "setup failed: {}",
        String::from_utf8_lossy(&setup.stdout)
    );
    crate::harness::wait_for(&app, server, "active").await;
    let row = panel::db::servers::get(app.db(), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.service_driver.as_str(), "systemd");
    let reported = if collecting() {
        "permissive"
    } else {
        "enforcing"
    };
    assert_eq!(
        row.selinux_mode.map(|m| m.as_str()),
        Some(reported),
        "setup reported the node's mode"
    );

    // The module job the onboarding queued loads `panel` and runs nginx in its domain.
    let module = finished_job(&app, "server.selinux.module", "", Duration::from_secs(900)).await;
    succeeded(&app, &module).await;
    assert!(vm.must("semodule -l").lines().any(|l| l.trim() == "panel"));
    let nginx = vm.must("ps -eZ | grep '[n]ginx'");
    assert!(
        nginx
            .lines()
            .all(|l| l.starts_with("system_u:system_r:laravel_nginx_t:s0 ")),
        "{nginx}"
    );
    mark = no_denials(&vm, mark, "onboarding and installing the module");
    println!("onboarded, module loaded: {:?}", started.elapsed());

    // Both booleans through the UI; getsebool agrees.
    let path = format!("/servers/{server}/selinux/boolean");
    // Each `setsebool -P` rebuilds the policy store (~30 s under TCG): one toggle each.
    for (name, value) in [
        ("panel_can_reload_nginx", "on"),
        ("panel_can_manage_users", "on"),
    ] {
        let job = post_job(
            &app,
            &user,
            &path,
            &[("name", name), ("value", value)],
            "server.selinux.boolean",
        )
        .await;
        succeeded(&app, &job).await;
        assert_eq!(
            vm.must(&format!("getsebool {name}")).trim(),
            format!("{name} --> {value}")
        );
    }
    mark = no_denials(&vm, mark, "toggling booleans");

    // Two sites, each with its PHP-FPM master and workers in laravel_php_fpm_t at its own
    // categories, its files labelled with them. Created at once, as an operator adding sites
    // would (each site has its own job lane; their policy-store changes take turns). B's
    // database server is down: B fails, then *Retry* resumes it once the server is back.
    // (The socket too: systemd would start the server again on the first connection.)
    vm.must("systemctl stop mariadb.socket mariadb.service");
    let a = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", "a.example.com"),
            ("app_type", "php"),
            ("php_version", "8.2"),
            ("database", "none"),
        ],
    )
    .await;
    let b = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", "b.example.com"),
            ("app_type", "laravel"),
            ("php_version", "8.2"),
            ("database", "mariadb"),
        ],
    )
    .await;
    let a = settled_site(&app, a, SiteStatus::Active).await;
    settled_site(&app, b, SiteStatus::Error).await;
    vm.must("systemctl start mariadb.socket mariadb.service");
    let job = post_job(
        &app,
        &user,
        &format!("/sites/{b}/retry"),
        &[],
        "site.provision",
    )
    .await;
    succeeded(&app, &job).await;
    let b = settled_site(&app, b, SiteStatus::Active).await;
    println!("two sites: {:?}", started.elapsed());
    let (la, lb) = (level(&a), level(&b));
    assert_ne!(la, lb);
    for (user_name, lvl) in [("web1", &la), ("web2", &lb)] {
        let procs = vm.must(&format!(
            "ps -e -o label=,args= | grep -E 'php-fpm: (master process \\(/etc/panel/php-fpm/{user_name}.conf\\)|pool {user_name})$'"
        ));
        assert!(procs.lines().count() >= 1, "{procs}");
        for l in procs.lines() {
            assert!(
                l.starts_with(&format!("system_u:system_r:laravel_php_fpm_t:{lvl} ")),
                "{user_name}: {l}"
            );
        }
        let files = vm.must(&format!(
            "ls -dZ /home/{user_name}/public_html /home/{user_name}/.env"
        ));
        assert!(
            files.contains(&format!(
                "site_content_t:{lvl} /home/{user_name}/public_html"
            )) && files.contains(&format!("laravel_app_env_t:{lvl} /home/{user_name}/.env")),
            "{files}"
        );
    }
    assert_eq!(vm.http("a.example.com", "/").0, 200);
    assert_eq!(vm.http("b.example.com", "/").0, 200);
    mark = no_denials(&vm, mark, "provisioning two sites");

    // A page open on the SELinux events: the denial below must toast there.
    let events = user.get("/selinux/events").await;
    assert_eq!(events.status(), 200);
    let toasts = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink_text = toasts.clone();
    let reader = tokio::spawn(async move {
        let mut stream = events.bytes_stream();
        while let Some(Ok(chunk)) = stream.next().await {
            sink_text
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    // Isolation proven by the kernel: Unix permissions and open_basedir opened wide (for the
    // test only), site A's PHP reads its own file but not B's.
    vm.must(
        "set -e
        printf 'A-OWN\n' | install -Z -o web1 -g web1 -m 0644 /dev/stdin /home/web1/public_html/own.txt
        printf 'B-SECRET\n' | install -Z -o web2 -g web2 -m 0644 /dev/stdin /home/web2/public_html/secret.txt
        chmod 0777 /home/web1 /home/web2 /home/web2/public_html
        sed -i '/open_basedir/d' /etc/panel/php-fpm/web1.conf
        systemctl restart panel-php-fpm-web1.service",
    );
    vm.root(
        "install -Z -o web1 -g web1 -m 0644 /dev/stdin /home/web1/public_html/probe.php",
        PROBE,
    );
    let (code, body) = vm.http("a.example.com", "/probe.php");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("own=A-OWN"), "{body}");
    assert!(
        body.contains("other=DENIED")
            && body.contains("Permission denied")
            && !body.contains("B-SECRET"),
        "{body}"
    );
    let (denials, size) = vm.denials_since(mark);
    assert!(
        denials.contains(&format!(
            "scontext=system_u:system_r:laravel_php_fpm_t:{la}"
        )) && denials.contains(&format!("tcontext=system_u:object_r:site_content_t:{lb}")),
        "the kernel logged the cross-site read:\n{denials}"
    );
    mark = size;
    // Collected, explained as a cross-site attempt, toasted and mailed.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM selinux_audit_logs WHERE json_extract(context, '$.explanation.kind') = 'cross_site'",
        )
        .fetch_one(app.db())
        .await
        .unwrap();
        if n > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the denial was not collected");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    wait_mail(&sink, "SELinux denial on vm-node", Duration::from_secs(60)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !toasts.lock().unwrap().contains("event: denial") {
        assert!(Instant::now() < deadline, "no toast");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    reader.abort();
    // A cron job of A's runs in the job domain at A's categories, and the kernel keeps it out
    // of B's files as it keeps A's PHP out (Unix permissions still wide open).
    let cron = cron_in_the_sites_domain(&vm, &app, &user, a.id, &la, &lb, mark).await;
    mark = vm.denials_since(mark).1;
    // A worker of A's: two processes as systemd units in the job domain at A's categories.
    let (worker, pids) = worker_in_the_sites_domain(&vm, &app, &user, a.id, &la).await;
    // A slow request: the master writes its backtrace (ptrace of its own worker), enforcing.
    vm.root(
        "install -Z -o web1 -g web1 -m 0644 /dev/stdin /home/web1/public_html/slow.php",
        "<?php function slow_marker_fn() { sleep(7); } slow_marker_fn(); echo 'done';",
    );
    assert_eq!(vm.http("a.example.com", "/slow.php").1.trim(), "done");
    let slow = vm.must("cat /var/log/panel/php-fpm/web1.slow.log");
    assert!(
        slow.contains("slow_marker_fn()"),
        "the slow log has the backtrace: {slow}"
    );
    // Permissions back as the panel keeps them (the next provisioning rewrites the pool).
    vm.must("chmod 0750 /home/web1 /home/web2 && chmod 0755 /home/web2/public_html && rm -f /home/web1/public_html/probe.php /home/web1/public_html/slow.php");
    println!("isolation proven: {:?}", started.elapsed());

    // The lifecycle on the enforcing node, without one denial of the panel's own operations.
    let job = post_job(
        &app,
        &user,
        &format!("/sites/{}/suspend", a.id),
        &[],
        "site.suspend",
    )
    .await;
    succeeded(&app, &job).await;
    assert_eq!(vm.http("a.example.com", "/").0, 503);
    for k in 1..=2 {
        assert_ne!(
            vm.must(&format!(
                "systemctl is-active panel-worker-web1-{worker}@{k}.service || true"
            ))
            .trim(),
            "active",
            "suspending stops the workers"
        );
    }
    let job = post_job(
        &app,
        &user,
        &format!("/sites/{}/resume", a.id),
        &[],
        "site.provision",
    )
    .await;
    succeeded(&app, &job).await;
    assert_eq!(vm.http("a.example.com", "/").0, 200);
    assert!(
        vm.must("cat /etc/panel/php-fpm/web1.conf")
            .contains("open_basedir")
    );

    // Resuming starts the workers again; deploys restart them (new processes each time).
    let resumed = worker_pids(&vm, &worker, &pids).await;
    // Deploy twice and roll back, from a repository on the node itself (over ssh, its host key
    // confirmed like any git host's).
    deploy_and_roll_back(&vm, &app, &user, a.id).await;
    worker_pids(&vm, &worker, &resumed).await;
    let log = vm.must(&format!("cat /home/web1/logs/workers/{worker}.log"));
    assert!(
        log.matches("worker ready").count() >= 8 && log.matches("stopping on TERM").count() >= 6,
        "each stop was a TERM the worker handled, each start a new process: {log}"
    );

    // HTTPS: an uploaded certificate installed, its key labelled site_tls_t, and nginx serving
    // it enforcing.
    https_enforcing(&vm, &app, &user, a.id).await;

    // A's cron job ran from its timer too (the minute passed during the deploys): a line per
    // run, the run-now's included.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let lines = vm
            .must("cat /home/web1/storage/cron-proof 2>/dev/null || true")
            .lines()
            .count();
        if lines >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the timer never ran the job: {}",
            vm.must(&format!(
                "systemctl status --no-pager panel-cron-web1-{cron}.timer panel-cron-web1-{cron}.service 2>&1 || true"
            ))
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    // Delete B with its files.
    let job = post_job(
        &app,
        &user,
        &format!("/sites/{}/delete", b.id),
        &[("confirm", "b.example.com"), ("delete_files", "1")],
        "site.delete",
    )
    .await;
    succeeded(&app, &job).await;
    assert!(!vm.root("id web2", "").status.success());
    mark = no_denials(
        &vm,
        mark,
        "suspending, resuming, retrying, deploying, rolling back, serving HTTPS and deleting sites",
    );
    println!("lifecycle done: {:?}", started.elapsed());

    // The enforce flow. Refused while enforcing already; the operator drops to permissive (the
    // panel alerts at once, and the quiet window starts again); refused until it has passed,
    // then switched on through the panel.
    if !collecting() {
        let enforce = format!("/servers/{server}/selinux/enforce");
        let refused = user.post_form(&enforce, &[]).await;
        assert_eq!(refused.status(), 409);
        let text = refused.text().await.unwrap();
        assert!(text.contains("already enforcing"), "{text}");
        let dropped = Instant::now();
        vm.must("setenforce 0");
        wait_mail(
            &sink,
            "SELinux switched to permissive on vm-node",
            Duration::from_secs(30),
        )
        .await;
        let alerted = dropped.elapsed();
        println!("setenforce 0 → alert mail after {alerted:?}");
        assert!(
            alerted < Duration::from_secs(15),
            "alerted after {alerted:?}"
        );
        let refused = user.post_form(&enforce, &[]).await;
        assert_eq!(refused.status(), 409, "the quiet window has not passed");
        let text = refused.text().await.unwrap();
        assert!(
            text.contains("Not switching to enforcing yet")
                && text.contains("switched to permissive) was at"),
            "{text}"
        );
        tokio::time::sleep(quiet + Duration::from_secs(2)).await;
        let job = post_job(&app, &user, &enforce, &[], "server.selinux.enforce").await;
        succeeded(&app, &job).await;
        assert_eq!(vm.must("getenforce").trim(), "Enforcing");
        assert!(
            vm.must("cat /etc/selinux/config")
                .contains("SELINUX=enforcing")
        );
        assert!(
            vm.must("cat /etc/selinux/config")
                .contains("SELINUXTYPE=default")
        );
        no_denials(
            &vm,
            mark,
            "dropping to permissive and switching to enforcing",
        );
        println!("enforcing through the panel: {:?}", started.elapsed());
    }
    if collecting() {
        println!(
            "--- audit2allow of the whole run:\n{}",
            vm.must(
                "grep -a 'avc: *denied' /var/log/audit/audit.log | audit2allow -R 2>&1 || true"
            )
        );
    }
    println!(
        "the lifecycle ran enforcing without a denial; VM part took {:?} ({})",
        started.elapsed(),
        vm.accel
    );
    app.stop().await;
}

/// A cron job on `site` (level `own`), run now: `ps -Z` shows it in laravel_site_job_t at the
/// site's categories while it runs, its read of the other site's file (level `other`) is
/// refused by the kernel, and the timer is active. Then it is changed to a harmless job (so the
/// timer's later runs deny nothing); its id.
async fn cron_in_the_sites_domain(
    vm: &VmNode,
    app: &TestApp,
    user: &LoggedIn,
    site: SiteId,
    own: &str,
    other: &str,
    mark: u64,
) -> String {
    let started = Instant::now();
    let job = post_job(
        app,
        user,
        &format!("/sites/{site}/cron"),
        &[
            ("schedule", "* * * * *"),
            (
                "command",
                "cat /home/web2/public_html/secret.txt; echo \"read=$?\"; date +%s >> ~/storage/cron-proof; sleep 6",
            ),
            ("enabled", "on"),
        ],
        "site.cron",
    )
    .await;
    succeeded(app, &job).await;
    let cron: String = sqlx::query_scalar("SELECT id FROM site_cron_jobs WHERE site_id = ?")
        .bind(site)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(
        vm.must(&format!("systemctl is-active panel-cron-web1-{cron}.timer"))
            .trim(),
        "active"
    );
    let label = vm.must(
        "ls -Z /usr/local/libexec/panel-site-job; matchpathcon /usr/local/libexec/panel-site-job || true",
    );
    assert!(
        label.contains(":object_r:laravel_site_job_exec_t:s0 /usr/local/libexec/panel-site-job"),
        "the runner carries the entry type: {label}"
    );
    let after: String = sqlx::query_scalar("SELECT coalesce(max(id), '') FROM jobs")
        .fetch_one(app.db())
        .await
        .unwrap();
    let resp = user
        .post_form(&format!("/sites/{site}/cron/{cron}/run"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    let deadline = Instant::now() + Duration::from_secs(30);
    let running = loop {
        let ps = vm.must("ps -e -o label=,args= | grep -F 'sleep 6' | grep -v grep || true");
        if !ps.trim().is_empty() {
            break ps;
        }
        assert!(Instant::now() < deadline, "the job never ran");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for l in running.lines() {
        assert!(
            l.starts_with(&format!("system_u:system_r:laravel_site_job_t:{own} ")),
            "the job runs in the job domain at the site's categories: {l}"
        );
    }
    let run = finished_job(app, "site.cron_run", &after, Duration::from_secs(60)).await;
    succeeded(app, &run).await;
    let log = job_log(app, run.id).await;
    assert!(
        log.contains("Permission denied") && log.contains("read=1") && !log.contains("B-SECRET"),
        "{log}"
    );
    let (denials, _) = vm.denials_since(mark);
    assert!(
        denials.contains(&format!(
            "scontext=system_u:system_r:laravel_site_job_t:{own}"
        )) && denials.contains(&format!(
            "tcontext=system_u:object_r:site_content_t:{other}"
        )),
        "the kernel refused the job's cross-site read:\n{denials}"
    );
    // Only that denial: the runner itself needs nothing the domain does not have.
    let others: Vec<&str> = denials
        .lines()
        .filter(|l| l.contains("avc:") && !l.contains(&format!("site_content_t:{other}")))
        .collect();
    assert!(others.is_empty(), "{}", others.join("\n"));
    let job = post_job(
        app,
        user,
        &format!("/sites/{site}/cron/{cron}"),
        &[
            ("schedule", "* * * * *"),
            ("command", "date +%s >> ~/storage/cron-proof"),
            ("enabled", "on"),
        ],
        "site.cron",
    )
    .await;
    succeeded(app, &job).await;
    // A timer run of the old command that began just before the change does its read first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("cron job in the site's domain: {:?}", started.elapsed());
    cron
}

/// The main pids of a worker's two processes once both run and none is one of `not`.
async fn worker_pids(vm: &VmNode, worker: &str, not: &[u32]) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pids: Vec<u32> = (1..=2)
            .filter_map(|k| {
                vm.must(&format!(
                    "systemctl show -p MainPID --value panel-worker-web1-{worker}@{k}.service"
                ))
                .trim()
                .parse()
                .ok()
                .filter(|p| *p > 0 && !not.contains(p))
            })
            .collect();
        if pids.len() == 2 {
            return pids;
        }
        assert!(
            Instant::now() < deadline,
            "the worker's processes did not (re)start: {}",
            vm.must(&format!(
                "systemctl status --no-pager 'panel-worker-web1-{worker}@*' 2>&1 || true"
            ))
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// A worker on `site` (level `own`) with two processes: each a systemd instance whose process
/// `ps -Z` shows in laravel_site_job_t at the site's categories, as the tab shows them; its id
/// and pids.
async fn worker_in_the_sites_domain(
    vm: &VmNode,
    app: &TestApp,
    user: &LoggedIn,
    site: SiteId,
    own: &str,
) -> (String, Vec<u32>) {
    let started = Instant::now();
    let job = post_job(
        app,
        user,
        &format!("/sites/{site}/workers"),
        &[
            (
                "command",
                "trap 'echo stopping on TERM; exit 0' TERM; echo worker ready; while :; do sleep 1 & wait $!; done",
            ),
            ("processes", "2"),
            ("restart", "always"),
            ("stop_signal", "TERM"),
            ("stop_timeout", "10"),
        ],
        "site.workers",
    )
    .await;
    succeeded(app, &job).await;
    let worker: String = sqlx::query_scalar("SELECT id FROM site_workers WHERE site_id = ?")
        .bind(site)
        .fetch_one(app.db())
        .await
        .unwrap();
    let pids = worker_pids(vm, &worker, &[]).await;
    for pid in &pids {
        let label = vm.must(&format!("ps -o label=,user= -p {pid}"));
        assert!(
            label.starts_with(&format!("system_u:system_r:laravel_site_job_t:{own} "))
                && label.trim_end().ends_with("web1"),
            "the worker runs as the site user in the job domain at the site's categories: {label}"
        );
    }
    let html = user.text(&format!("/sites/{site}/workers/status")).await;
    for pid in &pids {
        assert!(html.contains(&format!("data-pid=\"{pid}\"")), "{html}");
    }
    println!("worker in the site's domain: {:?}", started.elapsed());
    (worker, pids)
}

/// Upload a certificate for site A (a CA of the test's own) and serve it over HTTPS.
async fn https_enforcing(vm: &VmNode, app: &TestApp, user: &LoggedIn, site: SiteId) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "VM test CA");
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let key = rcgen::KeyPair::generate().unwrap();
    let names = panel::certificates::names_of(
        &panel::db::sites::get(app.db(), site)
            .await
            .unwrap()
            .unwrap(),
    );
    let cert = rcgen::CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &rcgen::Issuer::from_params(&ca, &ca_key))
        .unwrap()
        .pem();
    let job = post_job(
        app,
        user,
        &format!("/sites/{site}/https/upload"),
        &[
            ("certificate", &cert),
            ("chain", &ca_pem),
            ("key", &key.serialize_pem()),
        ],
        "site.certificate",
    )
    .await;
    succeeded(app, &job).await;
    let label = vm.must("stat -c %C /etc/nginx/panel-tls/web1.key");
    assert!(label.contains(":site_tls_t:"), "{label}");
    let served = vm.must(
        "curl -sk -o /dev/null -w '%{http_code}' --resolve a.example.com:443:127.0.0.1 https://a.example.com/",
    );
    assert_eq!(served.trim(), "200");
}

/// Connect site `site` to a bare repository on the VM (a `git` account with git-shell), deploy
/// two commits and roll back to the first.
async fn deploy_and_roll_back(vm: &VmNode, app: &TestApp, user: &LoggedIn, site: SiteId) {
    vm.must(
        "set -e
        id git >/dev/null 2>&1 || useradd --create-home --shell /usr/bin/git-shell git
        install -d -o git -g git -m 0700 /home/git/.ssh
        install -o git -g git -m 0600 /dev/null /home/git/.ssh/authorized_keys
        restorecon -R /home/git/.ssh
        install -d -o git -g git /srv/git
        runuser -u git -- git init --quiet --bare --initial-branch=main /srv/git/app.git
        git init --quiet --initial-branch=main /root/work
        # root pushes into git's repository through the file system.
        git config --global --add safe.directory /srv/git/app.git
        git -C /root/work remote add origin /srv/git/app.git",
    );
    let commit = |version: &str| {
        vm.must(&format!(
            "set -e; cd /root/work; printf '<?php echo \"{version}\\n\";\n' > index.php; git add -A
            git -c user.name=Dev -c user.email=dev@example.com commit --quiet -m {version}
            git push --quiet origin HEAD:main 2>&1; chown -R git:git /srv/git"
        ))
    };
    commit("v1");
    let url = format!("git@{}:/srv/git/app.git", vm.ip);
    let resp = user
        .post_form(
            &format!("/sites/{site}/repository"),
            &[
                ("url", &url),
                ("branch", "main"),
                ("keep_releases", "3"),
                ("deploy_script", "echo \"building $COMMIT\"\n"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    let public = user.text(&format!("/sites/{site}/deploy-key/public")).await;
    vm.root(
        "cat >> /home/git/.ssh/authorized_keys",
        &format!("{}\n", public.trim()),
    );
    let resp = user
        .post_form(&format!("/sites/{site}/git-host/scan"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    let tab = user.text(&format!("/sites/{site}/deployments")).await;
    let rest = &tab[tab.find("name=\"fingerprints\"").unwrap()..];
    let rest = &rest[rest.find("value=\"").unwrap() + 7..];
    let shown = rest[..rest.find('"').unwrap()].to_owned();
    let resp = user
        .post_form(
            &format!("/sites/{site}/git-host/confirm"),
            &[("fingerprints", &shown)],
        )
        .await;
    assert_eq!(resp.status(), 303);

    let first = post_job(
        app,
        user,
        &format!("/sites/{site}/deploy"),
        &[],
        "site.deploy",
    )
    .await;
    succeeded(app, &first).await;
    assert_eq!(vm.http("a.example.com", "/").1.trim(), "v1");
    commit("v2");
    let second = post_job(
        app,
        user,
        &format!("/sites/{site}/deploy"),
        &[],
        "site.deploy",
    )
    .await;
    succeeded(app, &second).await;
    assert_eq!(vm.http("a.example.com", "/").1.trim(), "v2");
    let first_deployment: String =
        sqlx::query_scalar("SELECT id FROM deployments WHERE site_id = ? ORDER BY id LIMIT 1")
            .bind(site)
            .fetch_one(app.db())
            .await
            .unwrap();
    let back = post_job(
        app,
        user,
        &format!("/deployments/{first_deployment}/rollback"),
        &[],
        "site.deploy",
    )
    .await;
    succeeded(app, &back).await;
    assert_eq!(vm.http("a.example.com", "/").1.trim(), "v1");
}
