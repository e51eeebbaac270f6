//! The hostile tenant (../shared/SECURITY-CASES.md, "The tenant is hostile too"): a site's own
//! Unix user, with a shell in its home, plants links, loops, FIFOs, hard links and sparse files
//! wherever it can, and the panel then retries, suspends, resumes, deploys, rolls back, rotates
//! the database password, rewrites `.env`, relabels and deletes. After each, nothing outside
//! the site's home changed owner, mode or content (`/etc`, `/root`, `/usr/local`, the cron
//! spool, every other home), and the job either worked or failed with its reason. Also: names
//! the panel did not make (an admin account in the sudo group, a database) are refused before
//! anything changes and survive a delete; and nginx serves no link into another site or into
//! the site's own `storage/` and `.env`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use panel::domain::SiteStatus;
use panel::ids::{JobId, SiteId};

use crate::harness::{
    GitHost, IsolatedNode, LoggedIn, TestApp, create_site, onboard, panel_for, start_databases,
    wait_for, wait_job, wait_site,
};

const A: &str = "app.example.com";
const B: &str = "other.example.com";

/// Run as the site user: replace what it owns with hostile things. `top` replaces every entry
/// of the home's own directories (`public_html/*`, `storage/*`, `deploy/*`, …); `deep` every
/// file and empty directory further down (the top when there are none). Each path gets the next kind in turn, starting at
/// ROUND, so successive rounds put different things in the same places.
const PLANT: &str = r#"set -u
mode=$1 round=$2 home=$3
kinds=(/etc/cron.d /etc/systemd/system /etc/sudoers.d /root /etc/shadow
       ../../../../../../../../etc /nonexistent/panel-dangling LOOP HARD FIFO SPARSE)
if [ "$mode" = top ]; then
  mapfile -d '' paths < <(find -P "$home" -mindepth 2 -maxdepth 2 -print0 2>/dev/null)
else
  mapfile -d '' paths < <(find -P "$home" -mindepth 3 \( ! -type d -o -type d -empty \) -print0 2>/dev/null)
  # Nothing that deep any more (an earlier round flattened it): the top, then.
  if [ "${#paths[@]}" = 0 ]; then
    mapfile -d '' paths < <(find -P "$home" -mindepth 2 -maxdepth 2 -print0 2>/dev/null)
  fi
fi
i=$round planted=0
for p in "${paths[@]}"; do
  kind=${kinds[i % ${#kinds[@]}]}
  i=$((i + 1))
  rm -rf -- "$p" 2>/dev/null
  if [ -e "$p" ] || [ -L "$p" ]; then continue; fi
  case $kind in
    LOOP) ln -s -- "${p##*/}" "$p" ;;
    # fs.protected_hardlinks refuses a link to root's file; then one to the site's own .env.
    HARD) ln -- /etc/passwd "$p" 2>/dev/null || ln -- "$home/.env" "$p" ;;
    FIFO) mkfifo -- "$p" ;;
    SPARSE) truncate -s 10G -- "$p" ;;
    *) ln -s -- "$kind" "$p" ;;
  esac && planted=$((planted + 1))
done
echo "planted=$planted"
"#;

/// Run as root: every path under the watched trees (the site's own home pruned, itself kept)
/// with its type, owner, mode and link target, then the content hash of every regular file.
const SNAPSHOT: &str = r#"set -u
tops=(/etc /root /usr/local /var/spool/cron /home)
for t in "${tops[@]}"; do
  [ -e "$t" ] || continue
  find -P "$t" -xdev -path "$1/*" -prune -o -printf 'M\t%p\t%y %u:%g %m %l\n'
done
for t in "${tops[@]}"; do
  [ -e "$t" ] || continue
  find -P "$t" -xdev -path "$1/*" -prune -o -type f -print0 | xargs -0 -r sha256sum | sed 's/^/C\t/'
done
"#;

/// Path → (type owner mode link, content hash).
type Snapshot = BTreeMap<String, (String, Option<String>)>;

fn snapshot(node: &IsolatedNode) -> Snapshot {
    let out = node.must("bash -s -- /home/web1", SNAPSHOT);
    let mut snap = Snapshot::new();
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("M\t") {
            let (path, meta) = rest.split_once('\t').unwrap();
            snap.entry(path.to_owned()).or_default().0 = meta.to_owned();
        } else if let Some(rest) = line.strip_prefix("C\t") {
            let (hash, path) = rest.split_once("  ").unwrap();
            snap.entry(path.to_owned()).or_default().1 = Some(hash.to_owned());
        }
    }
    assert!(
        snap.len() > 500 && snap.contains_key("/etc/shadow"),
        "the snapshot sees the system: {} paths",
        snap.len()
    );
    snap
}

/// Files the account tools rewrite (backups, the lock) even when nothing about an account
/// changes: their content may differ, never their owner or mode.
const ACCOUNT_TOOLS: &[&str] = &[
    "/etc/.pwd.lock",
    "/etc/passwd-",
    "/etc/group-",
    "/etc/shadow-",
    "/etc/gshadow-",
];

/// What differs between two snapshots, beyond what the operation may legitimately change:
/// paths in `may_change` may appear, disappear or get new content, but a path present in both
/// keeps its type, owner and mode; every other path is identical.
fn differences(before: &Snapshot, after: &Snapshot, may_change: &[&str]) -> Vec<String> {
    let paths: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    for path in paths {
        let allowed = ACCOUNT_TOOLS
            .iter()
            .chain(may_change)
            .any(|p| path.starts_with(p));
        match (before.get(path), after.get(path)) {
            // Content may change; type, owner and mode may not.
            (Some(b), Some(a)) if allowed && b.0 != a.0 => {
                out.push(format!("{path}: {} → {}", b.0, a.0));
            }
            (Some(b), Some(a)) if !allowed && b != a => {
                out.push(format!("{path}: {b:?} → {a:?}"));
            }
            (Some(_), None) if !allowed => out.push(format!("{path}: removed")),
            (None, Some(a)) if !allowed => out.push(format!("{path}: appeared {a:?}")),
            _ => {}
        }
    }
    out
}

fn assert_unchanged(what: &str, before: &Snapshot, after: &Snapshot, may_change: &[&str]) {
    let diff = differences(before, after, may_change);
    assert!(
        diff.is_empty(),
        "{what} changed things outside the site's home:\n{}",
        diff.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// The tenant's move: `mode` (`top` or `deep`) in round `round`.
fn plant(node: &IsolatedNode, mode: &str, round: usize) -> usize {
    let out = node.must(
        &format!("runuser -u web1 -- bash -s -- {mode} {round} /home/web1"),
        PLANT,
    );
    out.trim()
        .strip_prefix("planted=")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"))
}

/// The newest job's id (empty before the first).
async fn newest_job(app: &TestApp) -> String {
    sqlx::query_scalar::<_, String>("SELECT id FROM jobs ORDER BY id DESC LIMIT 1")
        .fetch_optional(app.db())
        .await
        .unwrap()
        .unwrap_or_default()
}

/// The first job of `kind` newer than `after`.
async fn job_after(app: &TestApp, kind: &str, after: &str) -> JobId {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let id: Option<JobId> =
            sqlx::query_scalar("SELECT id FROM jobs WHERE kind = ? AND id > ? ORDER BY id LIMIT 1")
                .bind(kind)
                .bind(after)
                .fetch_optional(app.db())
                .await
                .unwrap();
        if let Some(id) = id {
            return id;
        }
        assert!(Instant::now() < deadline, "no {kind} job started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The job finished: it worked, or it failed and says why. `true` when it worked.
async fn settled(app: &TestApp, job: JobId, what: &str) -> bool {
    let j = wait_job(app, job).await;
    match j.status.as_str() {
        "success" => true,
        "failed" => {
            let reason = j.error.clone().unwrap_or_default();
            assert!(!reason.trim().is_empty(), "{what} failed without a reason");
            println!("{what}: failed: {reason}");
            false
        }
        other => panic!("{what}: job {other}: {:?}", j.error),
    }
}

/// Post `path` (a form without fields, or `fields`) and wait for the `kind` job it starts.
async fn act(
    app: &TestApp,
    user: &LoggedIn,
    path: &str,
    fields: &[(&str, &str)],
    kind: &str,
) -> JobId {
    let after = newest_job(app).await;
    let resp = user.post_form(path, fields).await;
    let status = resp.status();
    assert_eq!(status, 303, "{path}: {}", resp.text().await.unwrap());
    job_after(app, kind, &after).await
}

/// A Laravel app: its front controller says which version it is, plus a static file.
fn release(version: &str) -> Vec<(String, String)> {
    vec![
        (
            "public/index.php".into(),
            format!("<?php echo 'A {version}', \"\\n\";\n"),
        ),
        ("public/own.txt".into(), "A-OWN\n".into()),
        ("storage/app/.gitignore".into(), "*\n".into()),
    ]
}

fn commit(git: &GitHost, version: &str) -> String {
    let files = release(version);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    git.commit(&refs, version)
}

/// Connect the site to the git host: repository settings, its deploy key authorised, the
/// host's key scanned and confirmed.
async fn connect_repository(user: &LoggedIn, git: &GitHost, site: SiteId) {
    let resp = user
        .post_form(
            &format!("/sites/{site}/repository"),
            &[
                ("url", &git.url),
                ("branch", "main"),
                ("keep_releases", "3"),
                (
                    "deploy_script",
                    "echo \"building $COMMIT\"\ntest -f public/index.php\n",
                ),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    let public = user.text(&format!("/sites/{site}/deploy-key/public")).await;
    git.authorize(public.trim());
    let resp = user
        .post_form(&format!("/sites/{site}/git-host/scan"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    let tab = user.text(&format!("/sites/{site}/deployments")).await;
    let rest = &tab[tab.find("name=\"fingerprints\"").unwrap()..];
    let rest = &rest[rest.find("value=\"").unwrap() + 7..];
    let shown = &rest[..rest.find('"').unwrap()];
    let resp = user
        .post_form(
            &format!("/sites/{site}/git-host/confirm"),
            &[("fingerprints", shown)],
        )
        .await;
    assert_eq!(resp.status(), 303);
}

async fn deploy(app: &TestApp, user: &LoggedIn, site: SiteId) -> JobId {
    act(
        app,
        user,
        &format!("/sites/{site}/deploy"),
        &[],
        "site.deploy",
    )
    .await
}

/// The id of the newest deployment of `site` that succeeded.
async fn live_deployment(app: &TestApp, site: SiteId) -> String {
    sqlx::query_scalar(
        "SELECT id FROM deployments WHERE site_id = ? AND status = 'success' ORDER BY id DESC LIMIT 1",
    )
    .bind(site)
    .fetch_one(app.db())
    .await
    .unwrap()
}

/// Install `content` at `path` on the node as `owner` (its own file, 0644).
fn put_as(node: &IsolatedNode, owner: &str, path: &str, content: &str) {
    node.must(
        &format!(
            "runuser -u {owner} -- sh -c 'umask 022; mkdir -p -- \"$(dirname -- \"$1\")\" && cat >\"$1\"' - '{path}'"
        ),
        content,
    );
}

fn mariadb(node: &IsolatedNode, sql: &str) -> String {
    node.must("mariadb -N -B", sql)
}

/// The site user of `web1`, planting before each operation of the panel.
struct Tenant<'a> {
    node: &'a IsolatedNode,
    app: &'a TestApp,
    user: &'a LoggedIn,
    round: usize,
    /// Each operation and whether its job worked (else it failed with its reason).
    outcomes: Vec<(String, bool)>,
}

impl Tenant<'_> {
    /// Plant (`mode`), then post `path` with `fields` and wait for its `kind` job: it works or
    /// fails with a reason, and nothing outside the home changes but `may_change`.
    async fn survives(
        &mut self,
        what: &str,
        mode: &'static str,
        may_change: &[&str],
        (path, fields, kind): (&str, &[(&str, &str)], &str),
    ) {
        let before = snapshot(self.node);
        self.round += 7;
        let n = plant(self.node, mode, self.round);
        assert!(n > 0, "the tenant planted nothing ({mode})");
        let job = act(self.app, self.user, path, fields, kind).await;
        let ok = settled(self.app, job, what).await;
        assert_unchanged(what, &before, &snapshot(self.node), may_change);
        self.outcomes.push((format!("{what} ({mode} plants)"), ok));
    }
}

// Multi-threaded: the node's callbacks reach the panel while the test blocks on `ssh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_site_user_never_makes_root_change_anything_outside_its_home() {
    let (node, app, user, server, setup_url) = panel_for(IsolatedNode::start_web()).await;
    let git = GitHost::start_for(&node);
    onboard(&app, &node, server, &setup_url).await;
    wait_for(&app, server, "active").await;
    start_databases(&node);
    // What a cloud image brings: an admin account with sudo, and a database of its own.
    node.must(
        "useradd --create-home --groups sudo --shell /bin/bash opsadmin",
        "",
    );
    mariadb(
        &node,
        "CREATE DATABASE legacy_db; CREATE TABLE legacy_db.t (v INT); INSERT INTO legacy_db.t VALUES (42);",
    );

    let site = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", A),
            ("app_type", "laravel"),
            ("php_version", "8.2"),
            ("database", "mariadb"),
        ],
    )
    .await;
    wait_site(&app, site, SiteStatus::Active).await;
    let other = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", B),
            ("app_type", "php"),
            ("php_version", "8.2"),
            ("database", "none"),
        ],
    )
    .await;
    wait_site(&app, other, SiteStatus::Active).await;
    let users = node.must("stat -c %U /home/web1/storage /home/web2/public_html", "");
    assert_eq!(users, "web1\nweb2\n", "A is web1, B is web2");

    // --- Names the panel did not make: refused before anything changes, kept by a delete.
    let before = snapshot(&node);
    let adopted = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", "admin.example.com"),
            ("app_type", "php"),
            ("php_version", "8.2"),
            ("database", "none"),
            ("user", "opsadmin"),
        ],
    )
    .await;
    let failed = wait_site(&app, adopted, SiteStatus::Error).await;
    let reason = failed.status_reason.unwrap_or_default();
    assert!(
        reason.contains("account named opsadmin already exists")
            && reason.contains("not made by the panel"),
        "{reason}"
    );
    assert_unchanged("refusing opsadmin", &before, &snapshot(&node), &[]);
    let resp = user
        .post_form(
            &format!("/sites/{adopted}/delete"),
            &[
                ("confirm", "admin.example.com"),
                ("delete_files", "1"),
                ("delete_database", "1"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let deadline = Instant::now() + Duration::from_secs(60);
    while panel::db::sites::get(app.db(), adopted)
        .await
        .unwrap()
        .is_some()
    {
        assert!(
            Instant::now() < deadline,
            "the refused site was not deleted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_unchanged(
        "deleting the site that named opsadmin",
        &before,
        &snapshot(&node),
        &[],
    );
    assert_eq!(
        node.must("id -nG opsadmin", "").trim(),
        "opsadmin sudo",
        "the admin account and its sudo membership are intact"
    );

    let taken_db = create_site(
        &app,
        &user,
        server,
        &[
            ("domain", "legacy.example.com"),
            ("app_type", "php"),
            ("php_version", "8.2"),
            ("database", "mariadb"),
            ("db_name", "legacy_db"),
        ],
    )
    .await;
    let failed = wait_site(&app, taken_db, SiteStatus::Error).await;
    let reason = failed.status_reason.unwrap_or_default();
    assert!(
        reason.contains("named legacy_db already exists") && reason.contains("step 1"),
        "refused at the first step, before the account: {reason}"
    );
    assert_unchanged("refusing legacy_db", &before, &snapshot(&node), &[]);
    assert_eq!(mariadb(&node, "SELECT v FROM legacy_db.t").trim(), "42");
    assert_eq!(
        mariadb(
            &node,
            "SELECT count(*) FROM mysql.user WHERE User = 'legacy_db'"
        )
        .trim(),
        "0",
        "no user was made for it"
    );

    // --- A first deploy, clean: the release serves.
    connect_repository(&user, &git, site).await;
    commit(&git, "v1");
    let first = deploy(&app, &user, site).await;
    assert!(
        settled(&app, first, "the first deploy").await,
        "first deploy"
    );
    assert_eq!(node.http(A, "/").1.trim(), "A v1");

    // --- nginx: a link the site planted serves only the site's own public files.
    put_as(
        &node,
        "web2",
        "/home/web2/public_html/b-secret.txt",
        "B-SECRET\n",
    );
    put_as(
        &node,
        "web2",
        "/home/web2/public_html/public/b-secret.txt",
        "B-SECRET\n",
    );
    put_as(
        &node,
        "web1",
        "/home/web1/storage/app/a-private.txt",
        "A-PRIVATE\n",
    );
    assert_eq!(node.http(B, "/b-secret.txt").0, 200, "B serves its file");
    let public = "/home/web1/deploy/current/public";
    node.must(
        &format!(
            "runuser -u web1 -- sh -c 'cd {public} && \
             ln -s {public}/own.txt own-link.txt && \
             ln -s /home/web2/public_html/b-secret.txt b.txt && \
             ln -s ../../../../../web2/public_html/b-secret.txt b-relative.txt && \
             ln -s /home/web1/storage/app/a-private.txt private.txt && \
             ln -s /home/web1/.env env.txt'"
        ),
        "",
    );
    assert_eq!(
        node.http(A, "/own-link.txt"),
        (200, "A-OWN\n".into()),
        "the site's own link to its own file is served"
    );
    for (path, secret) in [
        ("/b.txt", "B-SECRET"),
        ("/b-relative.txt", "B-SECRET"),
        ("/private.txt", "A-PRIVATE"),
        ("/env.txt", "DB_PASSWORD"),
    ] {
        // Refused, or (the file being out of reach) handed to the front controller instead.
        let (code, body) = node.http(A, path);
        assert!(
            !body.contains(secret) && (code != 200 || body.trim() == "A v1"),
            "{path}: {code} {body}"
        );
    }
    // The document root itself through a link of the site's: pointed at B's code.
    let live = node.must("readlink /home/web1/deploy/current", "");
    node.must(
        "runuser -u web1 -- ln -sfn /home/web2/public_html /home/web1/deploy/current",
        "",
    );
    let (code, body) = node.http(A, "/b-secret.txt");
    assert!(!body.contains("B-SECRET"), "{code} {body}");
    // Without the vhost's disable_symlinks, nginx (in every site's group) would serve both.
    let vhost = "/etc/nginx/sites-available/app.example.com.conf";
    node.must(
        &format!("cp {vhost} /tmp/vhost && sed -i '/disable_symlinks/d' {vhost} && nginx -s reload && sleep 1"),
        "",
    );
    assert_eq!(
        node.http(A, "/b-secret.txt"),
        (200, "B-SECRET\n".into()),
        "the control: served"
    );
    node.must(
        &format!(
            "runuser -u web1 -- ln -sfn '{}' /home/web1/deploy/current",
            live.trim()
        ),
        "",
    );
    assert_eq!(
        node.http(A, "/b.txt"),
        (200, "B-SECRET\n".into()),
        "the control: served"
    );
    node.must(
        &format!("cp /tmp/vhost {vhost} && nginx -s reload && sleep 1"),
        "",
    );
    assert!(!node.http(A, "/b.txt").1.contains("B-SECRET"));

    // --- The tenant plants before every operation; nothing outside its home may change.
    let mut tenant = Tenant {
        node: &node,
        app: &app,
        user: &user,
        round: 0,
        outcomes: Vec::new(),
    };
    let vhost_files: &[&str] = &[vhost];
    let site_path = |action: &str| format!("/sites/{site}/{action}");

    // Two more deploys over planted links.
    commit(&git, "v2");
    tenant
        .survives(
            "deploy",
            "deep",
            &[],
            (&site_path("deploy"), &[], "site.deploy"),
        )
        .await;
    tenant
        .survives(
            "deploy",
            "top",
            &[],
            (&site_path("deploy"), &[], "site.deploy"),
        )
        .await;

    // Roll back to the first release (or, if both later deploys failed, deploy it again).
    let first_deployment = sqlx::query_scalar::<_, String>(
        "SELECT id FROM deployments WHERE site_id = ? ORDER BY id LIMIT 1",
    )
    .bind(site)
    .fetch_one(app.db())
    .await
    .unwrap();
    let back = if live_deployment(&app, site).await != first_deployment {
        "rollback"
    } else {
        "redeploy"
    };
    let path = format!("/deployments/{first_deployment}/{back}");
    tenant
        .survives(back, "deep", &[], (&path, &[], "site.deploy"))
        .await;

    // The database password, then the .env; a relabel of every site (skipped where SELinux is
    // off, as here; the VM node runs it).
    let rotate = site_path("database/rotate");
    tenant
        .survives("rotate", "top", &[], (&rotate, &[], "site.rotate_password"))
        .await;
    let env = [("env", "MAIL_FROM=ops@example.com\nSECRET=$HOME `id`")];
    tenant
        .survives(
            ".env",
            "deep",
            &[],
            (&site_path("env"), &env, "site.write_env"),
        )
        .await;
    let relabel = format!("/servers/{server}/selinux/relabel");
    tenant
        .survives(
            "relabel",
            "top",
            &[],
            (&relabel, &[], "server.selinux.relabel"),
        )
        .await;

    // Suspend; resume while the database is down (fails); retry once it is back.
    let path = site_path("suspend");
    tenant
        .survives("suspend", "deep", vhost_files, (&path, &[], "site.suspend"))
        .await;
    node.must(
        "pkill -x mariadbd; for _ in $(seq 100); do pgrep -x mariadbd >/dev/null || exit 0; sleep 0.1; done; exit 1",
        "",
    );
    let path = site_path("resume");
    tenant
        .survives("resume", "top", vhost_files, (&path, &[], "site.provision"))
        .await;
    wait_site(&app, site, SiteStatus::Error).await;
    start_databases(&node);
    let path = site_path("retry");
    tenant
        .survives("retry", "deep", vhost_files, (&path, &[], "site.provision"))
        .await;

    // Delete, with files and database: the site's account and home go, nothing else.
    let delete = [
        ("confirm", A),
        ("delete_files", "1"),
        ("delete_database", "1"),
    ];
    let gone = [
        vhost,
        "/etc/nginx/sites-enabled/app.example.com.conf",
        "/etc/panel/php-fpm/web1.conf",
        "/etc/panel/made/user-web1",
        "/etc/panel/made/mariadb-app_example_com",
        "/etc/logrotate.d/panel-site-web1",
        "/etc/passwd",
        "/etc/group",
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/subuid",
        "/etc/subgid",
        "/home/web1",
    ];
    tenant
        .survives(
            "delete",
            "top",
            &gone,
            (&site_path("delete"), &delete, "site.delete"),
        )
        .await;
    let outcomes = tenant.outcomes;
    assert!(
        !node.root("id web1", "").status.success()
            && !node.root("test -e /home/web1", "").status.success(),
        "the site's account and home are gone"
    );
    // The other site serves as before.
    assert_eq!(node.http(B, "/b-secret.txt"), (200, "B-SECRET\n".into()));
    println!("hostile tenant outcomes: {outcomes:?}");
    assert!(
        outcomes.iter().any(|(_, ok)| *ok),
        "some operations still work with the plants in place: {outcomes:?}"
    );
    app.stop().await;
}
