//! `panel site plan`: the exact plan for every OS profile and app type, as snapshots; every
//! rendered script passes `bash -n` and shellcheck; hostile input is refused with exit status 2
//! and the field's name, or kept literally (normalised) as data.

use std::process::{Command, Output};

/// The password the snapshots are rendered with (a real run generates one).
const PASSWORD: &str = "SnapshotPassw0rdSnapshotPassw0rd";

fn plan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_panel"))
        .args(["site", "plan"])
        .args(args)
        .env("PANEL_PLAN_DB_PASSWORD", PASSWORD)
        .env("PANEL_DATA_DIR", "/nonexistent-plan-touches-nothing")
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Each app type with the database and aliases it would typically have.
const TYPES: &[(&str, &[&str])] = &[
    (
        "wordpress",
        &[
            "--db",
            "mariadb",
            "--alias",
            "www.example.com",
            "--alias",
            "blog.example.net",
        ],
    ),
    ("laravel", &["--db", "postgresql"]),
    ("generic", &["--db", "none"]),
];

const OSES: &[&str] = &["alma8", "alma9", "rocky8", "rocky9", "debian12"];

#[test]
fn scripts_for_every_profile_and_app_type_match_snapshots_and_pass_shellcheck() {
    let dir = tempfile::tempdir().unwrap();
    let mut mismatched = Vec::new();
    for os in OSES {
        for (app_type, extra) in TYPES {
            let php = if *os == "debian12" { "8.2" } else { "8.3" };
            let mut args = vec![
                "--os",
                os,
                "--domain",
                "example.com",
                "--app-type",
                app_type,
                "--php",
                php,
                "--format",
                "script",
            ];
            args.extend_from_slice(extra);
            let out = plan(&args);
            let (script, err) = text(&out);
            assert!(out.status.success(), "{os} {app_type}: {err}");
            let file = dir.path().join(format!("{os}-{app_type}.sh"));
            std::fs::write(&file, &script).unwrap();
            let syntax = Command::new("bash").arg("-n").arg(&file).output().unwrap();
            assert!(
                syntax.status.success(),
                "{os} {app_type}: bash -n: {}",
                String::from_utf8_lossy(&syntax.stderr)
            );
            let lint = Command::new("shellcheck").arg(&file).output().unwrap();
            assert!(
                lint.status.success(),
                "{os} {app_type}: shellcheck:\n{}",
                String::from_utf8_lossy(&lint.stdout)
            );
            let path = format!(
                "{}/tests/snapshots/site-plan/{os}-{app_type}.sh",
                env!("CARGO_MANIFEST_DIR")
            );
            if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
                std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
                std::fs::write(&path, &script).unwrap();
            }
            let expected = std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("missing snapshot {path}; run with UPDATE_SNAPSHOTS=1"));
            if script != expected {
                mismatched.push(path);
            }
        }
    }
    assert!(
        mismatched.is_empty(),
        "plans differ from their snapshots (UPDATE_SNAPSHOTS=1 rewrites them): {mismatched:?}"
    );
}

#[test]
fn each_profile_uses_its_own_paths_and_services() {
    let (alma, _) = text(&plan(&[
        "--os",
        "alma9",
        "--domain",
        "example.com",
        "--app-type",
        "php",
        "--php",
        "8.3",
        "--format",
        "script",
    ]));
    // One PHP-FPM master per site (its own SELinux level), Remi's binary, a systemd unit.
    assert!(alma.contains("/etc/panel/php-fpm/web1.conf"), "{alma}");
    assert!(alma.contains(
        "'/opt/remi/php83/root/usr/sbin/php-fpm' '-t' '--fpm-config' '/etc/panel/php-fpm/web1.conf'"
    ));
    assert!(alma.contains(
        "ExecStart=/opt/remi/php83/root/usr/sbin/php-fpm --nodaemonize --fpm-config /etc/panel/php-fpm/web1.conf"
    ));
    assert!(alma.contains("'systemctl' 'reload-or-restart' '--' 'panel-php-fpm-web1.service'"));
    assert!(alma.contains("/etc/nginx/conf.d/example.com.conf"));
    assert!(alma.contains("listen.owner = nginx"));
    assert!(!alma.contains("sites-enabled"));
    let (deb, _) = text(&plan(&[
        "--os",
        "debian12",
        "--domain",
        "example.com",
        "--app-type",
        "php",
        "--php",
        "8.2",
        "--driver",
        "direct",
        "--format",
        "script",
    ]));
    assert!(deb.contains(
        "'/usr/sbin/php-fpm8.2' '--daemonize' '--fpm-config' '/etc/panel/php-fpm/web1.conf'"
    ));
    assert!(!deb.contains("SELinuxContext"));
    assert!(deb.contains("'ln' '-sfn' '--' '/etc/nginx/sites-available/example.com.conf' '/etc/nginx/sites-enabled/example.com.conf'"));
    assert!(deb.contains("listen.owner = www-data"));
    // The direct driver signals the daemons; systemd is never called.
    assert!(deb.contains("'panel_signal' 'USR2' '/run/php-fpm/web1.pid' 'php-fpm'"));
    assert!(deb.contains("'panel_signal' 'HUP' '/run/nginx.pid' 'nginx' || 'nginx'"));
    assert!(!deb.contains("systemctl"));
}

#[test]
fn the_text_plan_never_shows_the_password() {
    let (out, err) = text(&plan(&[
        "--os",
        "rocky9",
        "--domain",
        "example.com",
        "--app-type",
        "laravel",
        "--php",
        "8.3",
        "--db",
        "mariadb",
    ]));
    assert!(
        out.contains("1/14 Create the system user web1"),
        "{out}{err}"
    );
    assert!(out.contains("14/14 Confirm with the panel"));
    assert!(out.contains("holding a secret"));
    assert!(!out.contains(PASSWORD), "{out}");
}

#[test]
fn hostile_input_is_refused_naming_the_field() {
    let long_label = format!("{}.com", "a".repeat(64));
    let long_name = format!("{}.com", ["abcdefghij"; 25].join("."));
    let base = |field: &str, value: &str| -> Vec<String> {
        let mut args: Vec<String> = [
            "--os",
            "alma9",
            "--domain",
            "example.com",
            "--app-type",
            "php",
            "--php",
            "8.3",
            "--db",
            "mariadb",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        match field {
            "domain" => args[3] = value.into(),
            "alias" => args.extend(["--alias".into(), value.into()]),
            "user" => args.extend(["--user".into(), value.into()]),
            "db-name" => args.extend(["--db-name".into(), value.into()]),
            "php" => args[7] = value.into(),
            _ => unreachable!(),
        }
        args
    };
    let mut cases: Vec<(&str, String)> = Vec::new();
    for v in [
        "example.com;id",
        "ex$(id).com",
        "ex`id`.com",
        "-oProxyCommand=id",
        "example.com\nserver_name evil",
        "..",
        "a..b.com",
        long_label.as_str(),
        long_name.as_str(),
        "*.example.com",
        "localhost",
        "192.0.2.1",
    ] {
        cases.push(("domain", v.into()));
        cases.push(("alias", v.into()));
    }
    for v in [
        "root",
        "panel",
        "nginx",
        "www-data",
        "../x",
        "a b",
        "-l",
        &"a".repeat(33),
        "Web1",
    ] {
        cases.push(("user", v.into()));
    }
    for v in [
        "test; shutdown",
        "x`id`",
        "a'b",
        "a\"b",
        "a-b",
        "information_schema",
        "mysql",
        "postgres",
        "template0",
        &"a".repeat(65),
    ] {
        cases.push(("db-name", v.into()));
    }
    cases.push(("php", "8.3;id".into()));
    for (field, value) in &cases {
        let args = base(field, value);
        let out = plan(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let (stdout, stderr) = text(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{field}={value:?} accepted:\n{stdout}"
        );
        assert!(
            stderr.contains(&format!("{field}: ")),
            "{field}={value:?}: the message names the field: {stderr}"
        );
        assert!(stdout.is_empty(), "nothing is printed for bad input");
    }
}

#[test]
fn domains_are_normalised_in_the_plan() {
    let (out, err) = text(&plan(&[
        "--os",
        "debian12",
        "--domain",
        "EXAMPLE.com.",
        "--alias",
        "bücher.de",
        "--app-type",
        "wordpress",
        "--php",
        "8.2",
        "--format",
        "script",
    ]));
    assert!(err.is_empty(), "{err}");
    assert!(
        out.contains("server_name example.com xn--bcher-kva.de;"),
        "{out}"
    );
    assert!(!out.contains("EXAMPLE") && !out.contains("bücher"));
}

/// The EL snapshots carry the SELinux side of a site: labels at its categories and its PHP-FPM
/// master in `laravel_php_fpm_t` at the same level; Debian's skip it when SELinux is off.
#[test]
fn el_plans_label_the_site_and_run_its_pool_at_its_categories() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/site-plan");
    let alma = std::fs::read_to_string(format!("{dir}/alma9-laravel.sh")).unwrap();
    for line in [
        "'semanage' 'fcontext' '-a' '-t' 'site_content_t' '-r' 's0:c100,c101' '--' '/home/web1(/.*)?'",
        "'semanage' 'fcontext' '-a' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/(storage|tmp|logs)(/.*)?'",
        "'semanage' 'fcontext' '-a' '-t' 'laravel_app_env_t' '-r' 's0:c100,c101' '--' '/home/web1/\\.env'",
        // Root relabels the home itself; the site user what is inside it.
        "'restorecon' '-F' '--' '/home/web1'\n'setpriv' '--reuid=web1' '--regid=web1' '--init-groups' '--' 'env' '-i' 'HOME=/home/web1' 'USER=web1' 'LOGNAME=web1' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-c' 'shopt -s dotglob nullglob;",
        "SELinuxContext=system_u:system_r:laravel_php_fpm_t:s0:c100,c101",
        "if ! 'selinuxenabled' >/dev/null 2>&1; then\n  echo 'skipped: SELinux disabled'",
    ] {
        assert!(alma.contains(line), "alma9 snapshot lacks {line}");
    }
    let deb = std::fs::read_to_string(format!("{dir}/debian12-laravel.sh")).unwrap();
    assert!(deb.contains("echo 'skipped: SELinux disabled'"));
    assert!(!deb.contains("SELinuxContext"));

    // Another site's pair reaches every line; a malformed one is refused by name.
    let (other, _) = text(&plan(&[
        "--os",
        "rocky9",
        "--domain",
        "b.example.com",
        "--app-type",
        "php",
        "--php",
        "8.3",
        "--mcs",
        "s0:c200,c731",
        "--format",
        "script",
    ]));
    assert!(other.contains("SELinuxContext=system_u:system_r:laravel_php_fpm_t:s0:c200,c731"));
    assert!(!other.contains("c100,c101"));
    for bad in [
        "s0:c101,c100",
        "s0:c5,c6",
        "s0:c100,c101;id",
        "s0-s0:c0.c1023",
        "",
    ] {
        let out = plan(&[
            "--os",
            "alma9",
            "--domain",
            "b.example.com",
            "--app-type",
            "php",
            "--php",
            "8.3",
            "--mcs",
            bad,
        ]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("mcs: "),
            "{bad}"
        );
    }
}

/// The deploy, rollback and clean-up plans as scripts (what their jobs run, step by step) match
/// their snapshots and pass `bash -n` and shellcheck, for an EL server under systemd and a
/// Debian one with the direct driver.
#[test]
fn deploy_plans_match_snapshots_and_pass_shellcheck() {
    use panel::domain::{
        AppType, DeployScript, GitBranch, KeepReleases, OsVersion, PhpVersion, RepoUrl, SiteDomain,
        SiteUser,
    };
    use panel::provision::deploy::{DeploySpec, cleanup, deploy, rollback};
    use panel::provision::{Driver, Profile, SiteSpec, render};
    let dir = tempfile::tempdir().unwrap();
    let release: panel::ids::DeploymentId = "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap();
    let before: panel::ids::DeploymentId = "01ARZ3NDEKTSV4RRFFQ69G5FAA".parse().unwrap();
    let mut mismatched = Vec::new();
    for (os, driver, app, php, url) in [
        (
            OsVersion::Alma9,
            Driver::Systemd,
            AppType::Laravel,
            PhpVersion::V83,
            "git@github.com:acme/shop.git",
        ),
        (
            OsVersion::Debian12,
            Driver::Direct,
            AppType::WordPress,
            PhpVersion::V82,
            "https://github.com/acme/blog.git",
        ),
    ] {
        let site = SiteSpec {
            domain: SiteDomain::parse("example.com").unwrap(),
            aliases: Vec::new(),
            app_type: app,
            php,
            user: SiteUser::numbered(1),
            database: None,
            env: Vec::new(),
            mcs: panel::domain::McsPair::parse("s0:c100,c101").unwrap(),
            tls: None,
            php_ini: Default::default(),
            redirects: Vec::new(),
            nginx_custom: None,
        };
        let profile = Profile::new(os);
        let script = DeployScript::parse(&panel::deployments::default_script(app)).unwrap();
        let url = RepoUrl::parse(url).unwrap();
        let branch = GitBranch::parse("main").unwrap();
        let spec = DeploySpec {
            site: &site,
            release,
            url: &url,
            branch: &branch,
            deploy_key: (url.transport() == panel::domain::Transport::Ssh)
                .then_some("-----BEGIN OPENSSH PRIVATE KEY-----\n(the site's deploy key)\n-----END OPENSSH PRIVATE KEY-----"),
            known_hosts: (url.transport() == panel::domain::Transport::Ssh)
                .then_some("github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"),
            script: &script,
            keep: KeepReleases::DEFAULT,
        };
        let plans = [
            ("deploy", deploy(profile, driver, &spec).plan),
            ("rollback", rollback(profile, driver, &site, before)),
            ("cleanup", cleanup(profile, driver, &site, Some(release))),
        ];
        for (kind, plan) in plans {
            let name = format!("{}-{}-{kind}.sh", profile.name(), app.as_str());
            let text = render::script(&plan);
            let file = dir.path().join(&name);
            std::fs::write(&file, &text).unwrap();
            let syntax = Command::new("bash").arg("-n").arg(&file).output().unwrap();
            assert!(
                syntax.status.success(),
                "{name}: bash -n: {}",
                String::from_utf8_lossy(&syntax.stderr)
            );
            let lint = Command::new("shellcheck").arg(&file).output().unwrap();
            assert!(
                lint.status.success(),
                "{name}: shellcheck:\n{}",
                String::from_utf8_lossy(&lint.stdout)
            );
            let path = format!(
                "{}/tests/snapshots/deploy-plan/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
                std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let expected = std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("missing snapshot {path}; run with UPDATE_SNAPSHOTS=1"));
            if text != expected {
                mismatched.push(path);
            }
        }
    }
    assert!(
        mismatched.is_empty(),
        "deploy plans differ from their snapshots (UPDATE_SNAPSHOTS=1 rewrites them): {mismatched:?}"
    );
}

/// The seed names the third app type `generic`; `php` (what the CLI took before) still means it,
/// and both render the same plan, byte for byte.
#[test]
fn generic_is_the_app_type_php_was() {
    let render = |app_type: &str| {
        let out = plan(&[
            "--os",
            "rocky9",
            "--domain",
            "example.com",
            "--app-type",
            app_type,
            "--php",
            "8.3",
            "--format",
            "script",
        ]);
        let (script, err) = text(&out);
        assert!(out.status.success(), "{app_type}: {err}");
        script
    };
    let generic = render("generic");
    assert!(generic.contains("(Generic PHP, PHP 8.3)"), "{generic}");
    assert_eq!(generic, render("php"));
    let out = plan(&[
        "--os",
        "rocky9",
        "--domain",
        "example.com",
        "--app-type",
        "joomla",
        "--php",
        "8.3",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("app-type:"), "{}", text(&out).1);
}

/// The hostile-tenant rule over every plan the panel builds: no command run as root writes,
/// moves, links or relabels a path below an entry of the site's home (where the site user can
/// plant a link); only the site user acts there.
#[test]
fn no_plan_lets_root_act_where_the_site_user_can_plant_a_link() {
    use panel::domain::{
        AppType, DatabaseType, DbName, DeployScript, GitBranch, KeepReleases, OsVersion,
        PhpVersion, RepoUrl, SiteDomain, SiteUser,
    };
    use panel::provision::deploy::{DeploySpec, cleanup, deploy, rollback};
    use panel::provision::site::{
        DeleteScope, PlanSecrets, delete, provision, rotate_password, suspend, write_env,
    };
    use panel::provision::tenant::root_violations;
    use panel::provision::{DbSpec, Driver, Profile, SiteSpec};
    let release: panel::ids::DeploymentId = "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap();
    let mut violations = Vec::new();
    for os in OsVersion::ALL {
        for driver in [Driver::Systemd, Driver::Direct] {
            for app in AppType::ALL {
                let profile = Profile::new(*os);
                let php = if *os == OsVersion::Debian12 {
                    PhpVersion::V82
                } else {
                    PhpVersion::V83
                };
                let site = SiteSpec {
                    domain: SiteDomain::parse("example.com").unwrap(),
                    aliases: Vec::new(),
                    app_type: *app,
                    php,
                    user: SiteUser::numbered(7),
                    database: Some(DbSpec {
                        engine: DatabaseType::MariaDb,
                        name: DbName::parse("shop").unwrap(),
                        user: DbName::parse("shop").unwrap(),
                    }),
                    env: Vec::new(),
                    mcs: panel::domain::McsPair::parse("s0:c100,c101").unwrap(),
                    tls: None,
                    php_ini: Default::default(),
                    redirects: Vec::new(),
                    nginx_custom: None,
                };
                let secrets = PlanSecrets {
                    db_password: Some("pw".into()),
                };
                let mut plans = vec![
                    provision(profile, driver, &site, &secrets, None),
                    suspend(profile, driver, &site),
                    delete(
                        profile,
                        driver,
                        &site,
                        DeleteScope {
                            files: true,
                            database: true,
                        },
                    ),
                    rotate_password(&site, "pw2", profile, driver),
                    write_env(&site, Some("pw"), profile, driver),
                    rollback(profile, driver, &site, release),
                    cleanup(profile, driver, &site, Some(release)),
                    panel::selinux::manage::relabel(profile, driver, std::slice::from_ref(&site)),
                ];
                // HTTPS: every plan touches root's paths only (challenges, certificates).
                let tls = panel::provision::SiteTls {
                    redirect: true,
                    hsts: true,
                };
                let challenge = vec![("A".repeat(43), "A.b".to_owned())];
                plans.extend([
                    panel::provision::tls::publish(profile, driver, &site, false, &challenge),
                    panel::provision::tls::unpublish(profile, driver, &site, &["A".repeat(43)]),
                    panel::provision::tls::install(
                        profile, driver, &site, false, tls, "CHAIN", "KEY",
                    ),
                    panel::provision::tls::install(
                        profile, driver, &site, true, tls, "CHAIN", "KEY",
                    ),
                    panel::provision::tls::remove(profile, driver, &site, false),
                ]);
                // Cron jobs: root writes only its own files (/etc, units); runs are the user's.
                let cron = panel::provision::cron::CronEntry {
                    id: "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap(),
                    schedule: panel::domain::CronSchedule::parse("*/5 * * * *").unwrap(),
                    command: panel::domain::CronCommand::parse("php artisan schedule:run").unwrap(),
                    enabled: true,
                };
                plans.push(panel::provision::cron::sync(
                    profile,
                    driver,
                    &site,
                    std::slice::from_ref(&cron),
                ));
                plans.push(panel::provision::cron::run_now(
                    profile, driver, &site, &cron,
                ));
                plans.push(panel::provision::php::settings(profile, driver, &site));
                plans.push(panel::provision::php::vhost(profile, driver, &site));
                plans.push(panel::provision::Plan {
                    title: "log rotation".into(),
                    profile,
                    driver,
                    steps: vec![
                        panel::provision::logs::rotate_step(&site),
                        panel::provision::logs::unrotate_step(&site),
                    ],
                });
                for url in [
                    "git@github.com:acme/shop.git",
                    "https://github.com/acme/shop.git",
                ] {
                    let url = RepoUrl::parse(url).unwrap();
                    let branch = GitBranch::parse("main").unwrap();
                    let script = DeployScript::parse("echo hi\n").unwrap();
                    plans.push(
                        deploy(
                            profile,
                            driver,
                            &DeploySpec {
                                site: &site,
                                release,
                                url: &url,
                                branch: &branch,
                                deploy_key: Some("KEY"),
                                known_hosts: Some("github.com ssh-ed25519 AAAA\n"),
                                script: &script,
                                keep: KeepReleases::DEFAULT,
                            },
                        )
                        .plan,
                    );
                }
                for plan in &plans {
                    for v in root_violations(plan, &site.user) {
                        violations.push(format!("{} / {}: {v}", plan.title, os.as_str()));
                    }
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "root acts below the home's entries:\n{}",
        violations.join("\n")
    );
}

/// The HTTPS plans as scripts: issue (challenges published), install with the redirect and
/// HSTS on, install without the redirect; snapshot-tested and shellchecked, the key never in
/// the text plan.
#[test]
fn certificate_plans_match_snapshots_pass_shellcheck_and_never_show_the_key() {
    use panel::domain::{AppType, OsVersion, PhpVersion, SiteDomain, SiteUser};
    use panel::provision::{Driver, Profile, SiteSpec, SiteTls, render, tls};
    let dir = tempfile::tempdir().unwrap();
    let mut mismatched = Vec::new();
    for (os, driver, app) in [
        (OsVersion::Debian12, Driver::Direct, AppType::WordPress),
        (OsVersion::Alma9, Driver::Systemd, AppType::Laravel),
    ] {
        let profile = Profile::new(os);
        let site = SiteSpec {
            domain: SiteDomain::parse("example.com").unwrap(),
            aliases: vec![SiteDomain::parse("www.example.com").unwrap()],
            app_type: app,
            php: PhpVersion::V82,
            user: SiteUser::numbered(1),
            database: None,
            env: Vec::new(),
            mcs: panel::domain::McsPair::parse("s0:c100,c101").unwrap(),
            tls: None,
            php_ini: Default::default(),
            redirects: Vec::new(),
            nginx_custom: None,
        };
        let key = "-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n";
        let chain = "-----BEGIN CERTIFICATE-----\nCHAIN\n-----END CERTIFICATE-----\n";
        let both = SiteTls {
            redirect: true,
            hsts: true,
        };
        let plain = SiteTls {
            redirect: false,
            hsts: false,
        };
        let token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0".to_owned();
        let plans = [
            (
                "publish",
                tls::publish(
                    profile,
                    driver,
                    &site,
                    false,
                    &[(token.clone(), format!("{token}.thumb"))],
                ),
            ),
            (
                "install-redirect-hsts",
                tls::install(profile, driver, &site, false, both, chain, key),
            ),
            (
                "install-plain",
                tls::install(profile, driver, &site, false, plain, chain, key),
            ),
        ];
        for (kind, plan) in plans {
            let name = format!("{}-{}-{kind}.sh", profile.name(), app.as_str());
            let text = render::script(&plan);
            // The text plan (what a person reads, what the job logs) never shows the key; the
            // script, made to be run, carries it.
            assert!(
                !render::text(&plan).contains("SECRETKEYMATERIAL"),
                "{name} shows the key"
            );
            let file = dir.path().join(&name);
            std::fs::write(&file, &text).unwrap();
            let syntax = Command::new("bash").arg("-n").arg(&file).output().unwrap();
            assert!(syntax.status.success(), "{name}: bash -n");
            let lint = Command::new("shellcheck").arg(&file).output().unwrap();
            assert!(
                lint.status.success(),
                "{name}: shellcheck:\n{}",
                String::from_utf8_lossy(&lint.stdout)
            );
            let path = format!(
                "{}/tests/snapshots/tls-plan/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
                std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let expected = std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("missing snapshot {path}; run with UPDATE_SNAPSHOTS=1"));
            if text != expected {
                mismatched.push(path);
            }
        }
    }
    assert!(
        mismatched.is_empty(),
        "certificate plans differ from their snapshots (UPDATE_SNAPSHOTS=1 rewrites them): {mismatched:?}"
    );
}
