//! The site plans: provisioning's eight steps in the seed's order, and the smaller plans for
//! suspending, deleting, changing a database password and writing the `.env`. Each step is idempotent: its check
//! recognises the finished state, and applying it twice gives the same result.

use crate::domain::{AppType, DatabaseType, SiteDomain};
use crate::ssh::{Command, Script};

use super::profile::SOCKET_DIR;
use super::service::test_site_fpm;
use super::steps::{
    exists, http_status, https_status, is_link, mkdir, nginx_diagnosis, rm, serving,
};
use super::vhost::{vhost_name, vhost_step};
use super::{
    Action, DbSpec, Driver, FileWrite, Plan, Probe, Profile, SiteSpec, Step, selinux, sql,
    templates, tenant,
};

/// The node side of step 8: signs and sends the "site created" callback.
pub const SITE_CREATED_SCRIPT: &str = include_str!("../../setup/site-created.sh");
/// Where the panel user keeps the server's callback secret (mode 600, its own home).
pub const CALLBACK_SECRET_FILE: &str = "/run/panel-callback/secret";
/// Its directory: root's only (0700), on tmpfs.
const CALLBACK_SECRET_DIR: &str = "/run/panel-callback";

/// How step 8 reaches the panel: its URL and the ids it reports.
#[derive(Clone, Debug)]
pub struct Confirm {
    pub panel_url: String,
    pub server_id: String,
    pub site_id: String,
    pub secret: String,
}

/// Step 1: the site's own Unix user, its home the site root. An account of that name the
/// panel did not make (a cloud image's admin, the panel's own SSH user) stops the step before
/// anything changes.
fn user_step(profile: Profile, site: &SiteSpec) -> Step {
    let user = site.user.as_str();
    let home = site.user.home();
    let nginx = profile.nginx_user();
    let marker = tenant::Marker::user(site);
    let mut step = Step::new(format!("Create the system user {user}"));
    step.guards = vec![super::Guard {
        when: Probe::ok(Command::new("id").flag("-u").operand(user)),
        require: marker.is_this_sites(),
        reason: format!(
            "an account named {user} already exists on this server and was not made by the panel for {}: nothing was changed; choose another user name for the site",
            site.domain
        ),
    }];
    let home_ok = Probe::output(
        Command::new("stat")
            .flag("-c")
            .flag("%U %G %a")
            .operand(&home),
        format!("root {user} 750"),
    );
    let in_group = Probe::ok(Command::new("id").flag("-u").operand(user));
    step.check = vec![in_group.clone(), home_ok.clone(), marker.is_this_sites()];
    let mut made = marker.write();
    made.push(Action::run(
        Command::new("useradd")
            .sudo()
            .flag("--home-dir")
            .value(&home)
            .flag("--no-create-home")
            .flag("--shell")
            .flag("/usr/sbin/nologin")
            .flag("--user-group")
            .operand(user),
    ));
    step.apply = vec![
        Action::unless(in_group.clone(), Action::Sequence(made)),
        // Root owns the home (sshd's SFTP chroot requires it); the site's group may enter,
        // others may not even list it.
        mkdir("0750", "root", user, std::slice::from_ref(&home)),
        // nginx reads static files, so its user joins every site's group (PHP does not).
        Action::run(
            Command::new("usermod")
                .sudo()
                .flag("-a")
                .flag("-G")
                .value(user)
                .operand(nginx),
        ),
        Action::when(
            Probe::ok(Command::new("getent").flag("group").operand("panel-sftp")),
            Action::run(
                Command::new("usermod")
                    .sudo()
                    .flag("-a")
                    .flag("-G")
                    .flag("panel-sftp")
                    .operand(user),
            ),
        ),
    ];
    step.verify = vec![in_group, home_ok];
    step
}

/// Step 2: the directories and an empty `.env`, all the user's. Only what the site publishes
/// is open to nginx (its group): the code (`public_html`) and, for WordPress, `uploads/`;
/// `storage/`, `tmp/` and `logs/` are the site user's alone.
fn dirs_step(site: &SiteSpec) -> Step {
    let user = &site.user;
    let home = user.home();
    let web = format!("{home}/public_html");
    let env = format!("{home}/.env");
    let mut open = vec![web.clone()];
    if site.app_type == AppType::Laravel {
        open.push(format!("{web}/public"));
    }
    if site.app_type == AppType::WordPress {
        open.push(format!("{home}/uploads"));
    }
    let private: Vec<String> = ["storage", "tmp", "logs"]
        .iter()
        .map(|d| format!("{home}/{d}"))
        .collect();
    let mut expected: Vec<String> = open.iter().map(|_| format!("{user} 755")).collect();
    expected.extend(private.iter().map(|_| format!("{user} 700")));
    expected.push(format!("{user} 600"));
    let mut all = open.clone();
    all.extend(private.iter().cloned());
    all.push(env.clone());
    // `-L`: once deployed, `public_html` is a link to the live release, whose directory is
    // what must be the site user's. Asked as the site user: what a planted link points at is
    // none of root's business.
    let state = Probe::output(
        Command::new("stat")
            .sudo_as_site(user)
            .flag("-L")
            .flag("-c")
            .flag("%U %a")
            .operands(&all),
        expected.join("\n"),
    );
    let root = templates::document_root(site);
    let index = tenant::file(
        user,
        format!("{root}/index.html"),
        "0644",
        templates::placeholder(site),
    );
    let mut step = Step::new("Create the site's directories and .env");
    step.check = vec![state.clone()];
    step.apply = tenant::mkdir(user, "0755", &open);
    step.apply.extend(tenant::mkdir(user, "0700", &private));
    step.apply.extend([
        Action::unless(
            exists(&env),
            Action::run(
                Command::new("install")
                    .sudo()
                    .flag("-Z")
                    .flag("-m")
                    .flag("0600")
                    .flag("-o")
                    .value(user.as_str())
                    .flag("-g")
                    .value(user.as_str())
                    .operand("/dev/null")
                    .operand(&env),
            ),
        ),
        // A page to show until the site's code arrives; never over a deployed one, and never
        // into a release.
        Action::unless(
            is_link(&web),
            Action::unless(
                site_has_any(user, &[format!("{root}/index.php"), index.path.clone()]),
                Action::Write(index),
            ),
        ),
    ]);
    step.verify = vec![state];
    step
}

/// Passes when any of `paths` exists (a link counts, whatever it points at), asked as the
/// site user (below the home's own entries) in one `test`.
fn site_has_any(user: &crate::domain::SiteUser, paths: &[String]) -> Probe {
    let mut test = Command::new("test").sudo_as_site(user);
    for (i, p) in paths.iter().enumerate() {
        if i > 0 {
            test = test.flag("-o");
        }
        test = test.flag("-e").value(p).flag("-o").flag("-L").value(p);
    }
    Probe::ok(test)
}

/// The tmpfiles.d entry that recreates the socket directory at boot (`/run` is a tmpfs).
fn socket_dir_file() -> FileWrite {
    FileWrite::new(
        "/etc/tmpfiles.d/panel-php-fpm.conf".into(),
        "0644",
        "root",
        format!(
            "# Managed by Panel: the directory of the sites' PHP-FPM sockets.\nd {SOCKET_DIR} 0755 root root -\n"
        ),
    )
}

/// Step 3: the site's PHP-FPM master and its one pool (and, under systemd, its unit).
pub(super) fn pool_step(profile: Profile, driver: Driver, site: &SiteSpec) -> Step {
    let user = site.user.as_str();
    let config = FileWrite::new(
        templates::fpm_config_path(user),
        "0644",
        "root",
        templates::fpm_config(profile, site),
    );
    let tmpfiles = socket_dir_file();
    let mut step = Step::new(format!("Configure the PHP {} FPM pool", site.php));
    step.check = vec![FileWrite::all_unchanged(&[&config, &tmpfiles])];
    // The directories every site shares are made by the first one.
    let made = |dirs: &[&str]| {
        let mut test = Command::new("test");
        for (i, d) in dirs.iter().enumerate() {
            if i > 0 {
                test = test.flag("-a");
            }
            test = test.flag("-d").value(*d);
        }
        Probe::ok(test)
    };
    step.apply = vec![
        Action::unless(
            made(&[SOCKET_DIR, templates::FPM_CONFIG_DIR]),
            mkdir(
                "0755",
                "root",
                "root",
                &[SOCKET_DIR.to_owned(), templates::FPM_CONFIG_DIR.to_owned()],
            ),
        ),
        Action::unless(
            made(&[templates::FPM_LOG_DIR]),
            mkdir("0750", "root", "root", &[templates::FPM_LOG_DIR.to_owned()]),
        ),
        Action::Write(tmpfiles),
        Action::WriteTested {
            file: config,
            link: None,
            test: test_site_fpm(profile, site),
            // Started directly, php-fpm prints why a configuration is bad in the step's output;
            // under systemd that goes to the journal, so there a new file is tested first. A
            // master that runs (its pid file is there) is reloaded, not started: tested first.
            test_new_if: (driver == Driver::Direct).then(|| {
                Box::new(
                    Command::new("test")
                        .flag("-e")
                        .value(templates::fpm_pid_path(site.user.as_str())),
                )
            }),
        },
    ];
    if driver == Driver::Systemd {
        let unit = fpm_unit_file(profile, site);
        step.check.push(unit.unchanged());
        step.apply.push(Action::Write(unit));
        step.apply.push(daemon_reload());
    }
    step.verify = step.check.clone();
    step
}

fn fpm_unit_file(profile: Profile, site: &SiteSpec) -> FileWrite {
    FileWrite::new(
        fpm_unit_path(site),
        "0644",
        "root",
        templates::fpm_unit(profile, site),
    )
}

fn fpm_unit_path(site: &SiteSpec) -> String {
    templates::fpm_unit_path(site.user.as_str())
}

fn daemon_reload() -> Action {
    Action::run(Command::new("systemctl").sudo().flag("daemon-reload"))
}

/// Step 5: the database and its user. A database or database user of that name the panel did
/// not make stops the step before anything changes.
fn database_step(site: &SiteSpec, password: Option<&str>) -> Step {
    let Some(db) = &site.database else {
        return Step::skipped("Create the database", "no database chosen");
    };
    let marker = tenant::Marker::database(site, db);
    let mut step = Step::new(format!(
        "Create the {} database {}",
        db.engine.label(),
        db.name
    ));
    step.guards = vec![tenant::database_guard(site, db)];
    // The marker first: on a new site it is missing, and the database is not asked at all.
    step.check = vec![marker.is_this_sites(), sql::exists(db)];
    step.apply = marker.write();
    step.apply.push(Action::run_with(
        sql::client(db.engine),
        sql::create(db, password.unwrap_or_default()),
        true,
    ));
    step.verify = vec![sql::exists(db)];
    step
}

fn env_write(site: &SiteSpec, password: Option<&str>) -> FileWrite {
    let user = site.user.as_str();
    FileWrite::new(
        format!("{}/.env", site.user.home()),
        "0600",
        user,
        templates::env_file(site, password),
    )
    .read_as(&site.user)
    .sensitive()
}

/// Step 6: the `.env`, outside the web root; Laravel gets a link to it in its app root (made by
/// the site user: `public_html` is its directory).
fn env_step(site: &SiteSpec, password: Option<&str>) -> Step {
    let env = env_write(site, password);
    let mut check = vec![env.unchanged()];
    let mut apply = vec![
        Action::Write(env.clone()),
        super::selinux::relabel_written(site, &env.path),
    ];
    if site.app_type == AppType::Laravel {
        let link = format!("{}/public_html/.env", site.user.home());
        check.push(tenant::readlink(&site.user, &link, env.path.clone()));
        apply.push(tenant::link(&site.user, &env.path, &link));
    }
    let mut step = Step::new("Write the .env");
    step.verify = check.clone();
    step.check = check;
    step.apply = apply;
    step
}

/// Step 8: (re)start the site's PHP-FPM, then ask nginx for the site (nginx was reloaded by
/// the vhost step).
pub(super) fn reload_step(profile: Profile, driver: Driver, site: &SiteSpec) -> Step {
    let mut step = Step::new("Start PHP-FPM and check the site answers");
    step.apply = vec![driver.reload_site_fpm(profile, site)];
    step.verify = serving(site);
    step.diagnose = nginx_diagnosis();
    step
}

/// Step 8: the node tells the panel the site is up (signed like server-ready).
fn confirm_step(site: &SiteSpec, confirm: Option<&Confirm>) -> Step {
    let title = "Confirm with the panel";
    let Some(c) = confirm else {
        return Step::skipped(
            title,
            "no panel to report to (a plan printed by `panel site plan`)",
        );
    };
    let script = Script::new("site-created", SITE_CREATED_SCRIPT)
        .arg(&c.panel_url)
        .arg(&c.server_id)
        .arg(&c.site_id)
        .arg(&site.domain);
    let mut step = Step::new(title);
    // Root's, like the rest of the plan (one remote command for a whole site): the secret
    // goes to a root-only file on tmpfs, which the script removes once it has signed.
    step.apply = vec![
        // The site user's uid, for the panel's record: the step's first line of output.
        Action::run(Command::new("id").flag("-u").operand(site.user.as_str())),
        Action::run(
            Command::new("install")
                .sudo()
                .flag("-d")
                .flag("-m")
                .flag("0700")
                .operand(CALLBACK_SECRET_DIR),
        ),
        Action::run_with(
            Command::new("install")
                .sudo()
                .flag("-m")
                .flag("0600")
                .operand("/dev/stdin")
                .operand(CALLBACK_SECRET_FILE),
            format!("{}\n", c.secret),
            true,
        ),
        Action::run_with(script.command(), script.body().to_owned(), false),
    ];
    step
}

/// Secrets a plan writes: the database password (from the panel's encrypted store).
#[derive(Clone, Debug, Default)]
pub struct PlanSecrets {
    pub db_password: Option<String>,
}

/// The eight provisioning steps, in the seed's order.
pub fn provision(
    profile: Profile,
    driver: Driver,
    site: &SiteSpec,
    secrets: &PlanSecrets,
    confirm: Option<&Confirm>,
) -> Plan {
    let pw = secrets.db_password.as_deref();
    // Every name the site takes is checked before the first change: a database that is not
    // the panel's stops the plan before the account and files are made, not halfway.
    let mut user = user_step(profile, site);
    let mut database = database_step(site, pw);
    // The database step's guard moves to the first step (asked once, not twice: a retry
    // passes step 1 again before it reaches the database).
    user.guards.append(&mut database.guards);
    // nginx's one reload, right after its one test, when the vhost changed: a reload is
    // asynchronous (its new workers take a moment), so it completes while the database, the
    // .env and the PHP-FPM master are made, and the last step's wait for the site's answer
    // does not wait for it.
    let mut vhost = vhost_step(profile, site, false);
    // The vhost step's `nginx -t` has just passed.
    vhost.apply.push(driver.reload_nginx_tested());
    Plan {
        title: format!(
            "provision {} ({}, PHP {}) as {}",
            site.domain,
            site.app_type.label(),
            site.php,
            site.user
        ),
        profile,
        driver,
        steps: vec![
            user,
            dirs_step(site),
            selinux::label_step(site),
            pool_step(profile, driver, site),
            vhost,
            database,
            env_step(site, pw),
            reload_step(profile, driver, site),
            confirm_step(site, confirm),
        ],
    }
}

fn socket_gone(site: &SiteSpec) -> Probe {
    Probe::ok(
        Command::new("test")
            .flag("!")
            .flag("-S")
            .value(templates::socket_path(site.user.as_str())),
    )
}

/// Suspend: the vhost answers 503 and the site's PHP-FPM master is stopped.
pub fn suspend(profile: Profile, driver: Driver, site: &SiteSpec) -> Plan {
    let mut stop = Step::new("Stop the site's PHP-FPM pool");
    stop.check = vec![socket_gone(site)];
    stop.apply = vec![driver.stop_site_fpm(site)];
    stop.verify = vec![socket_gone(site).waiting()];
    let mut reload = Step::new("Reload nginx");
    reload.apply = vec![driver.reload_nginx()];
    // With HTTPS (plain HTTP may only redirect), the 503 is asked for over HTTPS.
    let status = match site.tls {
        Some(_) => https_status(&site.domain),
        None => http_status(&site.domain),
    };
    reload.verify = vec![Probe::output(status, "503").waiting()];
    reload.diagnose = nginx_diagnosis();
    Plan {
        title: format!("suspend {}", site.domain),
        profile,
        driver,
        steps: vec![vhost_step(profile, site, true), stop, reload],
    }
}

/// What a delete removes besides the vhost and the pool.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeleteScope {
    pub files: bool,
    pub database: bool,
}

/// Delete: vhost and pool always; the user with its files, and the database, when asked.
pub fn delete(profile: Profile, driver: Driver, site: &SiteSpec, scope: DeleteScope) -> Plan {
    let name = vhost_name(site);
    let mut config = vec![
        profile.vhost_path(&name),
        templates::fpm_config_path(site.user.as_str()),
    ];
    config.extend(profile.vhost_link(&name));
    if driver == Driver::Systemd {
        config.push(fpm_unit_path(site));
    }
    let mut remove = Step::new("Stop the PHP-FPM pool, remove it and the vhost");
    let files_gone: Vec<Probe> = config
        .iter()
        .map(|p| Probe::ok(Command::new("test").flag("!").flag("-e").value(p)))
        .collect();
    remove.check = files_gone.clone();
    remove.check.push(socket_gone(site));
    // The master removes its socket as it exits, a moment after the signal.
    remove.verify = files_gone;
    remove.verify.push(socket_gone(site).waiting());
    // Its certificate, key and ACME challenge directory (root's; absent without HTTPS).
    let user = site.user.as_str();
    config.extend([
        templates::tls_cert_path(user),
        templates::tls_key_path(user),
    ]);
    let acme_dir = templates::acme_dir(user);
    remove.apply = vec![
        driver.stop_site_fpm(site),
        rm(&config),
        Action::run(Command::new("rm").sudo().flag("-rf").operand(acme_dir)),
    ];
    if driver == Driver::Systemd {
        remove.apply.push(daemon_reload());
    }
    if site.app_type == AppType::WordPress {
        remove.apply.push(Action::run(
            Command::new("rm")
                .sudo()
                .flag("-rf")
                .operand(profile.fastcgi_cache_dir(site.user.as_str())),
        ));
    }
    let mut reload = Step::new("Reload nginx");
    reload.apply = vec![driver.reload_nginx()];
    let db_step = match (&site.database, scope.database) {
        (Some(db), true) => {
            let mut s = Step::new(format!(
                "Drop the {} database {}",
                db.engine.label(),
                db.name
            ));
            s.apply = vec![Action::run_with(
                sql::client(db.engine),
                sql::drop(db),
                false,
            )];
            let gone = super::Probe {
                expect: super::Expect::Output("0".into()),
                ..sql::exists(db)
            };
            s.check = vec![gone.clone()];
            s.verify = vec![gone];
            let marker = tenant::Marker::database(site, db);
            s.apply.push(rm(std::slice::from_ref(&marker.path)));
            // Only what the panel made (for this site) is dropped.
            s.only_if = Some((
                marker.is_this_sites(),
                "the database was not made by the panel for this site: left alone".into(),
            ));
            s
        }
        (Some(_), false) => Step::skipped("Drop the database", "kept, as asked"),
        (None, _) => Step::skipped("Drop the database", "the site has no database"),
    };
    let user_step = if scope.files {
        let user = site.user.as_str();
        let mut s = Step::new(format!("Remove the user {user} and its files"));
        let gone = Probe::ok(
            Command::new("test")
                .flag("!")
                .flag("-e")
                .value(site.user.home()),
        );
        let no_user = Probe::ok(
            Command::new("bash")
                .flag("-c")
                .flag("! id -u -- \"$1\" >/dev/null 2>&1")
                .flag("--")
                .value(user),
        );
        s.check = vec![gone.clone(), no_user.clone()];
        s.apply = vec![
            // Whatever the site user still runs (a shell, a worker it started) goes first: it
            // cannot keep writing while its home is removed, and `userdel` refuses a busy user.
            // Asked again a few times: a process that forks as it dies leaves children.
            Action::Sequence(vec![super::steps::kill_all(user); 3]),
            // Not across mounts: a file system mounted inside the home is not the site's.
            Action::run(
                Command::new("rm")
                    .sudo()
                    .flag("-rf")
                    .flag("--one-file-system")
                    .operand(site.user.home()),
            ),
            // Its crontab (Debian's spool, then EL's): a later account of the same name must not
            // inherit it. The names are root's directories' entries; `rm` follows no link.
            rm(&[
                format!("/var/spool/cron/crontabs/{user}"),
                format!("/var/spool/cron/{user}"),
            ]),
            Action::when(
                Probe::ok(Command::new("id").flag("-u").operand(user)),
                Action::run(Command::new("userdel").sudo().operand(user)),
            ),
            rm(&[tenant::Marker::user(site).path]),
        ];
        s.verify = vec![gone, no_user];
        // Only an account the panel made for this site is removed, with its home.
        s.only_if = Some((
            tenant::Marker::user(site).is_this_sites(),
            "the account was not made by the panel for this site: it and its home are left alone"
                .into(),
        ));
        s
    } else {
        Step::skipped("Remove the user and its files", "kept, as asked")
    };
    Plan {
        title: format!("delete {}", site.domain),
        profile,
        driver,
        steps: vec![
            remove,
            reload,
            db_step,
            selinux::unlabel_step(site),
            user_step,
        ],
    }
}

/// A new database password: set on the server, then written to the `.env`.
pub fn rotate_password(site: &SiteSpec, password: &str, profile: Profile, driver: Driver) -> Plan {
    let mut steps = Vec::new();
    if let Some(db) = &site.database {
        let mut s = Step::new(format!("Set the new password of {}", db.user));
        s.apply = vec![Action::run_with(
            sql::client(db.engine),
            sql::set_password(db.engine, &db.user, password),
            true,
        )];
        steps.push(s);
    }
    steps.push(env_step(site, Some(password)));
    Plan {
        title: format!("rotate the database password of {}", site.domain),
        profile,
        driver,
        steps,
    }
}

/// Rewrite the `.env` alone (after an edit in the panel).
pub fn write_env(
    site: &SiteSpec,
    password: Option<&str>,
    profile: Profile,
    driver: Driver,
) -> Plan {
    Plan {
        title: format!("write the .env of {}", site.domain),
        profile,
        driver,
        steps: vec![env_step(site, password)],
    }
}

/// The database a site gets by default: named after its domain, user of the same name.
pub fn default_database(engine: DatabaseType, domain: &SiteDomain) -> DbSpec {
    let name = crate::domain::DbName::from_domain(domain);
    DbSpec {
        engine,
        user: name.clone(),
        name,
    }
}
