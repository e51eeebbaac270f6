//! The SELinux policy module, built and proven offline against Debian's reference policy (there
//! is no SELinux kernel here; see ../shared/TEST-INFRA.md): `make` builds it, linking and
//! expanding against `base.pp` enforces the base policy's neverallows, and it installs into a
//! private copy of the policy store. That installed policy is then asked about types, booleans,
//! file contexts (after the exact `semanage fcontext` rules provisioning adds for two sites) and
//! hand-written denials (`audit2why`): cross-site access is refused by the MCS constraint.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use panel::domain::McsPair;
use panel::domain::{AppType, PhpVersion, SiteDomain, SiteUser};
use panel::provision::SiteSpec;
use panel::provision::selinux::{context, fcontext, rules};

const SOURCES: &[&str] = &["panel.te", "panel.fc", "panel.if", "Makefile"];
/// Modules that declare what panel.te requires besides the base (apache: httpd_exec_t; the
/// database modules for the optional socket rules).
const DEPENDENCIES: &[&str] = &["apache", "mysql", "postgresql"];

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(run(cmd).stdout).unwrap()
}

fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A copy of `selinux/` (the build writes `tmp/` and `panel.pp` next to its sources).
fn copy_sources(to: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("selinux");
    for f in SOURCES {
        std::fs::copy(src.join(f), to.join(f)).unwrap();
    }
}

/// Decompressed reference policy packages, for linking.
fn packages(dir: &Path) -> Vec<PathBuf> {
    std::iter::once("base")
        .chain(DEPENDENCIES.iter().copied())
        .map(|m| {
            let out =
                run(Command::new("bzcat").arg(format!("/usr/share/selinux/default/{m}.pp.bz2")));
            let path = dir.join(format!("{m}.pp"));
            std::fs::write(&path, out.stdout).unwrap();
            path
        })
        .collect()
}

fn link_and_expand(dir: &Path, module: &Path) -> Output {
    let mut link = Command::new("semodule_link");
    link.arg("-o").arg(dir.join("linked"));
    link.args(packages(dir)).arg(module);
    run(&mut link);
    Command::new("semodule_expand")
        .arg(dir.join("linked"))
        .arg(dir.join("policy.33"))
        .output()
        .unwrap()
}

/// The module installed into a private copy of the system's policy store (built once).
struct Store {
    root: PathBuf,
    build: PathBuf,
}

fn install_plan() -> panel::provision::Plan {
    let profile =
        panel::provision::Profile::new(panel::domain::OsVersion::Debian12).with_selinux(true);
    panel::selinux::manage::install_module(profile, panel::provision::Driver::Systemd)
}

/// The arguments (after the program's name) of the first command of `plan` that runs
/// `program` with `flag` among them ("": any).
fn rendered(program: &str, flag: &str, plan: &panel::provision::Plan) -> Vec<String> {
    let command = plan
        .commands()
        .into_iter()
        .find(|c| c.program() == program && (flag.is_empty() || c.argv().contains(&flag)))
        .unwrap_or_else(|| panic!("no {program} in {}", plan.title));
    command.argv()[1..].iter().map(|a| a.to_string()).collect()
}

impl Store {
    fn policy(&self) -> PathBuf {
        self.root.join("etc/selinux/default/policy/policy.33")
    }
}

fn copy_store(to: &Path) {
    std::fs::create_dir_all(to.join("etc")).unwrap();
    std::fs::create_dir_all(to.join("var/lib/selinux")).unwrap();
    run(Command::new("cp")
        .args(["-a", "/etc/selinux"])
        .arg(to.join("etc/")));
    run(Command::new("cp")
        .args(["-a", "/var/lib/selinux/default"])
        .arg(to.join("var/lib/selinux/")));
}

fn installed() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let dir = work_dir("selinux-store");
        let build = dir.join("build");
        std::fs::create_dir_all(&build).unwrap();
        copy_sources(&build);
        run(Command::new("make").arg("-s").arg("-C").arg(&build));
        let root = dir.join("root");
        copy_store(&root);
        // The install plan's own `semodule` arguments, its package path pointed at this build,
        // behind the options that select the private store.
        let args: Vec<String> = rendered("semodule", "-i", &install_plan())
            .into_iter()
            .map(|a| {
                if a.ends_with("/panel.pp") {
                    build.join("panel.pp").display().to_string()
                } else {
                    a
                }
            })
            .collect();
        run(Command::new("semodule")
            .arg("-p")
            .arg(&root)
            .args(["-s", "default", "-n", "-X", "400"])
            .args(&args));
        Store { root, build }
    })
}

#[test]
fn the_module_builds_links_and_expands_and_a_neverallow_breach_fails() {
    let dir = work_dir("selinux-build");
    copy_sources(&dir);
    run(Command::new("make").arg("-s").arg("-C").arg(&dir));
    assert!(dir.join("panel.pp").exists());
    let expanded = link_and_expand(&dir, &dir.join("panel.pp"));
    assert!(
        expanded.status.success(),
        "{}",
        String::from_utf8_lossy(&expanded.stderr)
    );
    run(Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(&dir)
        .arg("clean"));
    assert!(
        !dir.join("panel.pp").exists(),
        "make clean removes the package"
    );

    // Expansion really checks: a domain without the `domain` attribute breaks neverallows.
    let bad = work_dir("selinux-build-bad");
    copy_sources(&bad);
    let te = std::fs::read_to_string(bad.join("panel.te")).unwrap();
    let te = te.replace("domain_type(laravel_ssh_key_t)\n", "");
    std::fs::write(bad.join("panel.te"), te).unwrap();
    run(Command::new("make").arg("-s").arg("-C").arg(&bad));
    let expanded = link_and_expand(&bad, &bad.join("panel.pp"));
    assert!(!expanded.status.success());
    assert!(String::from_utf8_lossy(&expanded.stderr).contains("neverallow"));
}

#[test]
fn the_installed_policy_has_the_seed_types_and_booleans_off_by_default() {
    let policy = installed().policy();
    let types = stdout(Command::new("seinfo").arg(&policy).arg("-t"));
    for t in [
        "laravel_app_t",
        "laravel_php_fpm_t",
        "laravel_site_job_t",
        "laravel_site_job_exec_t",
        "laravel_nginx_t",
        "laravel_ssh_key_t",
        "site_content_t",
        "laravel_app_rw_t",
    ] {
        assert!(types.lines().any(|l| l.trim() == t), "no type {t}");
    }
    for b in ["panel_can_manage_users", "panel_can_reload_nginx"] {
        let shown = stdout(Command::new("seinfo").arg(&policy).args(["-x", "-b", b]));
        assert!(shown.contains(&format!("bool {b} false;")), "{shown}");
    }
    // Only the PHP pools are MCS-constrained; nginx must reach every site.
    let constrained =
        stdout(
            Command::new("seinfo")
                .arg(&policy)
                .args(["-x", "-a", "mcs_constrained_type"]),
        );
    assert!(constrained.contains("laravel_php_fpm_t"), "{constrained}");
    assert!(constrained.contains("laravel_site_job_t"), "{constrained}");
    assert!(!constrained.contains("laravel_nginx_t"), "{constrained}");
    // Cron jobs run shells and programs; a site's PHP never may (its own domain stays without).
    for (domain, allowed) in [("laravel_site_job_t", true), ("laravel_php_fpm_t", false)] {
        let rules = stdout(Command::new("sesearch").arg(&policy).args([
            "-A",
            "-s",
            domain,
            "-t",
            "shell_exec_t",
            "-c",
            "file",
            "-p",
            "execute",
        ]));
        assert_eq!(!rules.trim().is_empty(), allowed, "{domain}: {rules}");
    }
    // Both services are Type=notify units under systemd: they may write its notify socket
    // (init_runtime_t; init_var_run_t is its alias). A quote mark in a comment inside the
    // template that grants it once dropped this rule without a word from the build.
    for domain in ["laravel_php_fpm_t", "laravel_nginx_t"] {
        let rules = stdout(Command::new("sesearch").arg(&policy).args([
            "-A",
            "-s",
            domain,
            "-t",
            "init_runtime_t",
            "-c",
            "sock_file",
            "-p",
            "write",
        ]));
        assert!(
            rules.contains("write"),
            "{domain} may not write systemd's notify socket"
        );
    }
}

#[test]
fn boolean_gated_rules_exist_only_under_their_booleans() {
    let policy = installed().policy();
    let sesearch = |args: &[&str]| stdout(Command::new("sesearch").arg(&policy).args(args));
    for (boolean, query) in [
        (
            "panel_can_reload_nginx",
            vec![
                "-A",
                "-s",
                "laravel_app_t",
                "-t",
                "laravel_nginx_t",
                "-c",
                "process",
                "-p",
                "signal",
            ],
        ),
        (
            "panel_can_manage_users",
            vec![
                "-A",
                "-s",
                "laravel_app_t",
                "-t",
                "useradd_exec_t",
                "-c",
                "file",
                "-p",
                "execute",
            ],
        ),
        (
            "panel_can_manage_users",
            vec![
                "-A",
                "-s",
                "laravel_app_t",
                "-t",
                "groupadd_t",
                "-c",
                "process",
                "-p",
                "transition",
            ],
        ),
    ] {
        let rules = sesearch(&query);
        assert!(!rules.trim().is_empty(), "{query:?}: no rule at all");
        for rule in rules.lines().filter(|l| !l.trim().is_empty()) {
            assert!(
                rule.contains(&format!("[ {boolean} ]:True")),
                "{query:?}: `{rule}` is not under {boolean}"
            );
        }
        let gated = sesearch(&["-A", "-b", boolean]);
        assert!(gated.lines().all(|l| l.contains(boolean)), "{gated}");
    }
    // Without a boolean the daemon has no way to them.
    let direct = sesearch(&[
        "-A",
        "-s",
        "laravel_app_t",
        "-t",
        "httpd_t",
        "-c",
        "process",
        "-p",
        "signal",
    ]);
    assert!(direct.trim().is_empty(), "{direct}");
}

fn site(n: u32, app_type: AppType, mcs: &str) -> SiteSpec {
    SiteSpec {
        domain: SiteDomain::parse(&format!("site{n}.example.com")).unwrap(),
        aliases: Vec::new(),
        app_type,
        php: PhpVersion::V83,
        user: SiteUser::numbered(n),
        database: None,
        env: Vec::new(),
        mcs: McsPair::parse(mcs).unwrap(),
        tls: None,
        php_ini: Default::default(),
        redirects: Vec::new(),
        nginx_custom: None,
    }
}

#[test]
fn file_contexts_give_each_path_its_type_and_each_site_its_categories() {
    // A store of this test's own: semanage rewrites it.
    let dir = work_dir("selinux-fcontext");
    let root = dir.join("root");
    copy_store(&root);
    let installed = installed();
    for sub in ["etc/selinux", "var/lib/selinux"] {
        let _ = std::fs::remove_dir_all(root.join(sub));
        run(Command::new("cp")
            .arg("-a")
            .arg(installed.root.join(sub))
            .arg(root.join(sub).parent().unwrap()));
    }
    let fc = root.join("etc/selinux/default/contexts/files/file_contexts");
    let matchpathcon = |path: &str| {
        stdout(
            Command::new("matchpathcon")
                .arg("-n")
                .arg("-f")
                .arg(&fc)
                .arg(path),
        )
        .trim()
        .to_owned()
    };
    // The module's own paths.
    for (path, want) in [
        ("/usr/bin/panel", "system_u:object_r:laravel_app_exec_t:s0"),
        (
            "/usr/bin/panel-ssh-manager",
            "system_u:object_r:laravel_ssh_key_exec_t:s0",
        ),
        (
            "/var/lib/panel/panel.sqlite",
            "system_u:object_r:laravel_app_var_lib_t:s0",
        ),
        (
            "/var/lib/panel/ssh/id_ed25519",
            "system_u:object_r:laravel_ssh_key_file_t:s0",
        ),
        (
            "/var/log/panel/panel.log",
            "system_u:object_r:laravel_app_log_t:s0",
        ),
        (
            "/run/php-fpm/web1.sock",
            "system_u:object_r:laravel_php_fpm_run_t:s0",
        ),
        (
            "/run/php-fpm/web1.pid",
            "system_u:object_r:laravel_php_fpm_run_t:s0",
        ),
        (
            "/var/log/panel/php-fpm/web1.log",
            "system_u:object_r:laravel_php_fpm_log_t:s0",
        ),
        // HTTPS: keys nginx reads and no site's PHP can; public ACME challenges.
        (
            "/etc/nginx/panel-tls/web1.key",
            "system_u:object_r:site_tls_t:s0",
        ),
        (
            "/var/www/panel-acme/web1/.well-known/acme-challenge/tok",
            "system_u:object_r:site_content_t:s0",
        ),
    ] {
        assert_eq!(matchpathcon(path), want, "{path}");
    }

    // The rules provisioning adds for two sites, with the same arguments the plan passes to
    // `semanage fcontext` (here in one `semanage import` transaction, inside a mount namespace
    // where the private store stands in for the system's).
    let laravel = site(1, AppType::Laravel, "s0:c100,c101");
    let wordpress = site(2, AppType::WordPress, "s0:c101,c102");
    let mut commands = String::new();
    for s in [&laravel, &wordpress] {
        for rule in rules(s) {
            let argv = fcontext("-a", &rule, s).argv().join(" ");
            commands.push_str(argv.strip_prefix("semanage ").unwrap());
            commands.push('\n');
        }
    }
    std::fs::write(dir.join("import"), &commands).unwrap();
    run(Command::new("unshare")
        .arg("--mount")
        .arg("sh")
        .arg("-c")
        .arg(
            "mount --make-rprivate / && mount --bind \"$1/etc/selinux\" /etc/selinux && \
             mount --bind \"$1/var/lib/selinux\" /var/lib/selinux && \
             semanage import -N < \"$2\"",
        )
        .arg("sh")
        .arg(&root)
        .arg(dir.join("import")));

    for (s, paths) in [
        (
            &laravel,
            vec![
                ("/home/web1", "site_content_t"),
                (
                    "/home/web1/public_html/app/Models/User.php",
                    "site_content_t",
                ),
                ("/home/web1/public_html/public/index.php", "site_content_t"),
                ("/home/web1/storage/logs/laravel.log", "laravel_app_rw_t"),
                (
                    "/home/web1/public_html/bootstrap/cache/config.php",
                    "laravel_app_rw_t",
                ),
                (
                    "/home/web1/public_html/storage/framework/views/x.php",
                    "laravel_app_rw_t",
                ),
                ("/home/web1/tmp/sess_abc", "laravel_app_rw_t"),
                ("/home/web1/logs/php-error.log", "laravel_app_rw_t"),
                ("/home/web1/.env", "laravel_app_env_t"),
            ],
        ),
        (
            &wordpress,
            vec![
                ("/home/web2/public_html/wp-config.php", "site_content_t"),
                ("/home/web2/storage/x", "laravel_app_rw_t"),
                ("/home/web2/.env", "laravel_app_env_t"),
                // Not Laravel: no bootstrap/cache exception.
                ("/home/web2/public_html/bootstrap/cache/x", "site_content_t"),
            ],
        ),
    ] {
        for (path, setype) in paths {
            assert_eq!(
                matchpathcon(path),
                format!("system_u:object_r:{setype}:{}", s.mcs),
                "{path}"
            );
        }
        // What the plan's check expects for each rule's sample path is what the store says.
        for rule in rules(s) {
            assert_eq!(
                matchpathcon(&rule.sample),
                context(&rule, s),
                "{}",
                rule.sample
            );
        }
    }
}

const DENIALS: &str = r#"type=AVC msg=audit(1700000000.100:101): avc:  denied  { read } for  pid=4242 comm="php-fpm" name="wp-config.php" dev="vda1" ino=1001 scontext=system_u:system_r:laravel_php_fpm_t:s0:c100,c101 tcontext=system_u:object_r:site_content_t:s0:c102,c103 tclass=file permissive=0
type=AVC msg=audit(1700000000.200:102): avc:  denied  { write } for  pid=4242 comm="php-fpm" name="laravel.log" dev="vda1" ino=1002 scontext=system_u:system_r:laravel_php_fpm_t:s0:c100,c101 tcontext=system_u:object_r:laravel_app_rw_t:s0:c101,c102 tclass=file permissive=0
type=AVC msg=audit(1700000000.300:103): avc:  denied  { read } for  pid=4242 comm="php-fpm" name="index.php" dev="vda1" ino=1003 scontext=system_u:system_r:laravel_php_fpm_t:s0:c100,c101 tcontext=system_u:object_r:site_content_t:s0:c100,c101 tclass=file permissive=0
type=AVC msg=audit(1700000000.400:104): avc:  denied  { write } for  pid=4242 comm="php-fpm" name="laravel.log" dev="vda1" ino=1004 scontext=system_u:system_r:laravel_php_fpm_t:s0:c100,c101 tcontext=system_u:object_r:laravel_app_rw_t:s0:c100,c101 tclass=file permissive=0
type=AVC msg=audit(1700000000.500:105): avc:  denied  { write } for  pid=4242 comm="php-fpm" name="index.php" dev="vda1" ino=1003 scontext=system_u:system_r:laravel_php_fpm_t:s0:c100,c101 tcontext=system_u:object_r:site_content_t:s0:c100,c101 tclass=file permissive=0
type=AVC msg=audit(1700000000.600:106): avc:  denied  { write } for  pid=4243 comm="nginx" name="index.php" dev="vda1" ino=1003 scontext=system_u:system_r:laravel_nginx_t:s0-s0:c0.c1023 tcontext=system_u:object_r:site_content_t:s0:c100,c101 tclass=file permissive=0
type=AVC msg=audit(1700000000.700:107): avc:  denied  { read } for  pid=4243 comm="nginx" name="style.css" dev="vda1" ino=1005 scontext=system_u:system_r:laravel_nginx_t:s0-s0:c0.c1023 tcontext=system_u:object_r:site_content_t:s0:c102,c103 tclass=file permissive=0
type=AVC msg=audit(1700000000.800:108): avc:  denied  { read } for  pid=4243 comm="nginx" name=".env" dev="vda1" ino=1006 scontext=system_u:system_r:laravel_nginx_t:s0-s0:c0.c1023 tcontext=system_u:object_r:laravel_app_env_t:s0:c100,c101 tclass=file permissive=0
type=AVC msg=audit(1700000000.900:109): avc:  denied  { signal } for  pid=77 comm="panel" scontext=system_u:system_r:laravel_app_t:s0 tcontext=system_u:system_r:laravel_nginx_t:s0-s0:c0.c1023 tclass=process permissive=0
"#;

#[test]
fn audit2why_sees_cross_site_access_refused_by_the_mcs_constraint() {
    let dir = work_dir("selinux-audit2why");
    let log = dir.join("avc.log");
    std::fs::write(&log, DENIALS).unwrap();
    let out = stdout(
        Command::new("audit2why")
            .arg("-p")
            .arg(installed().policy())
            .arg("-i")
            .arg(&log),
    );
    // audit2why prints each denial followed by its verdict.
    let verdicts: Vec<&str> = out.split("type=AVC").skip(1).collect();
    assert_eq!(verdicts.len(), 9, "{out}");
    let cross_site = "Constraint DENIED";
    let allowed = "would be allowed by active policy";
    let no_rule = "Missing type enforcement (TE) allow rule";
    let expect = [
        // php-fpm of one site reading, then writing, another site's files.
        (
            cross_site,
            "source level (s0:c100,c101) and target level (s0:c102,c103) are different",
        ),
        (
            cross_site,
            "source level (s0:c100,c101) and target level (s0:c101,c102) are different",
        ),
        // The same site: read its code, write its storage.
        (allowed, ""),
        (allowed, ""),
        // Nobody writes code: not php-fpm, not nginx.
        (no_rule, ""),
        (no_rule, ""),
        // nginx reads every site's content, never a .env.
        (allowed, ""),
        (no_rule, ""),
        // The daemon signals nginx only with the boolean on.
        (
            "The boolean panel_can_reload_nginx was set incorrectly",
            "setsebool -P panel_can_reload_nginx 1",
        ),
    ];
    for (i, ((verdict, detail), text)) in expect.iter().zip(&verdicts).enumerate() {
        assert!(
            text.contains(verdict) && text.contains(detail),
            "denial {} should be `{verdict}` ({detail}):\n{text}",
            i + 1
        );
    }
    // Cross-site denials are the constraint's doing, not a missing allow rule.
    for text in &verdicts[..2] {
        assert!(
            text.contains("mcs_constrained_type") && !text.contains(no_rule),
            "{text}"
        );
    }
}

/// What the panel renders for each SELinux program goes through that program's real argument
/// parser (`--` only where the program takes one). `semodule`: the install plan's arguments
/// loaded the module into the private store above, and the `--` form fails there as it did on
/// servers. `setenforce` and `setsebool` parse their arguments before they find this host has
/// no SELinux kernel; `getsebool` asks the kernel first, so the VM node's test runs it (and
/// every other command here) for real.
#[test]
fn each_selinux_program_parses_the_arguments_the_panel_renders() {
    let store = installed();
    let listed = stdout(
        Command::new("semodule")
            .arg("-p")
            .arg(&store.root)
            .args(["-s", "default", "-l"]),
    );
    assert!(listed.lines().any(|l| l.trim() == "panel"), "{listed}");
    let dashed = Command::new("semodule")
        .arg("-p")
        .arg(&store.root)
        .args(["-s", "default", "-n", "-i", "--"])
        .arg(store.build.join("panel.pp"))
        .output()
        .unwrap();
    assert!(
        !dashed.status.success()
            && String::from_utf8_lossy(&dashed.stderr).contains("Failed on --"),
        "the `--` form was accepted: {dashed:?}"
    );

    let profile =
        panel::provision::Profile::new(panel::domain::OsVersion::Debian12).with_selinux(true);
    let policy = panel::selinux::manage::PolicyName::from_config("SELINUXTYPE=default\n").unwrap();
    let enforce =
        panel::selinux::manage::enforce(profile, panel::provision::Driver::Systemd, &policy);
    let args = rendered("setenforce", "", &enforce);
    assert_eq!(args, ["1"]);
    let out = Command::new("setenforce").args(&args).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("SELinux is disabled") && !said.contains("usage"),
        "{said}"
    );
    let out = Command::new("setenforce")
        .args(["--", "1"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("usage"),
        "the control: `--` is a usage error"
    );

    for b in [
        panel::selinux::manage::Boolean::ReloadNginx,
        panel::selinux::manage::Boolean::ManageUsers,
    ] {
        let plan = panel::selinux::manage::set_boolean(
            profile,
            panel::provision::Driver::Systemd,
            b,
            true,
        );
        let args = rendered("setsebool", "", &plan);
        let out = Command::new("setsebool").args(&args).output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        // Parsed as boolean `name` set `on`; only the boolean is unknown to this host's store.
        assert!(
            said.contains(&format!("Boolean {} is not defined", b.name())),
            "{args:?}: {said}"
        );
        let get = rendered("getsebool", "", &plan);
        assert_eq!(
            get,
            [b.name()],
            "getsebool reads every argument as a boolean's name"
        );
    }
}
