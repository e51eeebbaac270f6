//! SELinux on a managed server: the policy module, its two booleans, relabelling the sites and
//! the move to enforcing. Each is a plan like provisioning (checked, applied, verified; skipped
//! where SELinux is off) run as a job. The module is built on the node from the sources the
//! panel carries: a package compiled against one distribution's policy headers does not load
//! into another's.

use chrono::{DateTime, Duration, Utc};

use crate::provision::selinux::{DISABLED, STORE_LOCK, label_step};
use crate::provision::{Action, Driver, FileWrite, Plan, Probe, Profile, SiteSpec, Step};
use crate::ssh::Command;

pub const MODULE_TE: &str = include_str!("../../selinux/panel.te");
pub const MODULE_FC: &str = include_str!("../../selinux/panel.fc");
pub const MODULE_IF: &str = include_str!("../../selinux/panel.if");
/// Where the sources, the built package and the installed version live on a node.
pub const MODULE_DIR: &str = "/usr/share/panel/selinux";
const DEVEL_MAKEFILE: &str = "/usr/share/selinux/devel/Makefile";
/// The drop-in that starts nginx in the module's domain, at `s0`.
const NGINX_DROP_IN: &str = "/etc/systemd/system/nginx.service.d/panel-selinux.conf";

/// The module version the panel carries (`policy_module(panel, X)` in panel.te).
pub fn module_version() -> &'static str {
    MODULE_TE
        .lines()
        .find_map(|l| l.trim().strip_prefix("policy_module(panel,"))
        .and_then(|rest| rest.trim().strip_suffix(')'))
        .map_or("unknown", str::trim)
}

/// The module's booleans, both off by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boolean {
    ManageUsers,
    ReloadNginx,
}

impl Boolean {
    pub const ALL: [Boolean; 2] = [Boolean::ManageUsers, Boolean::ReloadNginx];

    pub fn name(self) -> &'static str {
        match self {
            Boolean::ManageUsers => "panel_can_manage_users",
            Boolean::ReloadNginx => "panel_can_reload_nginx",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Boolean::ManageUsers => {
                "The panel daemon may create and remove Unix users and groups on this host."
            }
            Boolean::ReloadNginx => "The panel daemon may signal nginx to reload on this host.",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }
}

fn enabled() -> Probe {
    Probe::ok(Command::new("selinuxenabled"))
}

fn only_with_selinux(mut step: Step) -> Step {
    step.only_if = Some((enabled(), DISABLED.to_owned()));
    step
}

fn module_files() -> Vec<FileWrite> {
    vec![
        FileWrite::new(
            format!("{MODULE_DIR}/panel.te"),
            "0644",
            "root",
            MODULE_TE.into(),
        ),
        FileWrite::new(
            format!("{MODULE_DIR}/panel.fc"),
            "0644",
            "root",
            MODULE_FC.into(),
        ),
        FileWrite::new(
            format!("{MODULE_DIR}/panel.if"),
            "0644",
            "root",
            MODULE_IF.into(),
        ),
        FileWrite::new(
            format!("{MODULE_DIR}/VERSION"),
            "0644",
            "root",
            module_version().into(),
        ),
    ]
}

/// The name of a node's SELinux policy (`SELINUXTYPE` in `/etc/selinux/config`): `targeted` on
/// EL, `default` on Debian. Read from the node, so a word of letters, digits, `_` and `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyName(String);

impl PolicyName {
    /// The `SELINUXTYPE=` of a config file's text; `None` when it has none or a strange one.
    pub fn from_config(text: &str) -> Option<Self> {
        let value = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("SELINUXTYPE="))
            .next_back()?
            .trim();
        let ok = !value.is_empty()
            && value.len() <= 32
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        ok.then(|| PolicyName(value.to_owned()))
    }
}

impl std::fmt::Display for PolicyName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn module_loaded() -> Probe {
    Probe::line(Command::new("semodule").sudo().flag("-l"), "panel")
}

fn daemon_reload() -> Action {
    Action::run(Command::new("systemctl").sudo().flag("daemon-reload"))
}

/// Install or update the module, then run nginx in its domain (systemd servers).
pub fn install_module(profile: Profile, driver: Driver) -> Plan {
    let mut tools = Step::new("Install the policy build tools");
    let (pkg, packages): (&str, &[&str]) = if profile.is_el() {
        (
            "dnf",
            &[
                "selinux-policy-devel",
                "policycoreutils-python-utils",
                "make",
            ],
        )
    } else {
        (
            "apt-get",
            &["selinux-policy-dev", "policycoreutils-python-utils", "make"],
        )
    };
    let mut install = Command::new(pkg).sudo().flag("install").flag("-y");
    for p in packages {
        install = install.operand(*p);
    }
    let devel = Probe::ok(Command::new("test").flag("-e").value(DEVEL_MAKEFILE));
    tools.check = vec![devel.clone()];
    tools.apply = vec![Action::run(install)];
    tools.verify = vec![devel];

    let version = module_version();
    let files = module_files();
    let mut module = Step::new(format!("Build and load the panel policy module {version}"));
    module.check = files.iter().map(FileWrite::unchanged).collect();
    module.check.push(module_loaded());
    module.apply = vec![Action::run(
        Command::new("install")
            .sudo()
            .flag("-d")
            .flag("-m")
            .flag("0755")
            .operand(MODULE_DIR),
    )];
    // The version file goes last: written only once the module it names is loaded.
    let (stamp, sources) = files.split_last().expect("four files");
    module
        .apply
        .extend(sources.iter().cloned().map(Action::Write));
    module.apply.push(Action::run(
        Command::new("make")
            .sudo()
            .flag("-C")
            .value(MODULE_DIR)
            .flag("-f")
            .value(DEVEL_MAKEFILE)
            .operand("panel.pp"),
    ));
    module.apply.push(Action::run(
        // The package is the value of `-i` (semodule reads `-i --` as a file named `--`).
        Command::new("semodule")
            .locked(STORE_LOCK)
            .sudo()
            .flag("-i")
            .value(format!("{MODULE_DIR}/panel.pp")),
    ));
    // Paths the module labels that exist before any site does.
    module.apply.push(Action::run(
        Command::new("restorecon")
            .sudo()
            .flag("-R")
            .flag("-F")
            .flag("-i")
            .operand("/run/php-fpm")
            .operand("/var/log/panel"),
    ));
    // The site job runner, which an older module left unlabelled (`-i` does not cover a path
    // that is not there).
    let runner = crate::provision::cron::RUNNER;
    module.apply.push(Action::when(
        Probe::ok(Command::new("test").flag("-e").value(runner)),
        Action::run(Command::new("restorecon").sudo().flag("-F").operand(runner)),
    ));
    module.apply.push(Action::Write(stamp.clone()));
    module.verify = files.iter().map(FileWrite::unchanged).collect();
    // Asked again for a few seconds: another semodule reading the store holds its lock.
    module.verify.push(module_loaded().waiting());

    let mut steps = vec![only_with_selinux(tools), only_with_selinux(module)];
    if driver == Driver::Systemd {
        let drop_in = FileWrite::new(
            NGINX_DROP_IN.into(),
            "0644",
            "root",
            "# Managed by Panel: nginx serves every site. Categories do not bind its domain, so it\n\
             # reads every site's files at s0; and at s0 the connections it opens to a site's\n\
             # PHP-FPM carry no categories (a unix socket's accepting end takes the connecting\n\
             # side's level, and a site's PHP may use only sockets its own level dominates).\n\
             [Service]\n\
             SELinuxContext=system_u:system_r:laravel_nginx_t:s0\n\
             # Every command of the unit runs in that domain, which may run nginx alone: test,\n\
             # reload and stop through nginx itself (distributions' units use rm, kill or\n\
             # start-stop-daemon there).\n\
             ExecStartPre=\n\
             ExecStartPre=/usr/sbin/nginx -t -q\n\
             ExecReload=\n\
             ExecReload=/usr/sbin/nginx -s reload\n\
             ExecStop=\n\
             ExecStop=-/usr/sbin/nginx -s quit\n"
                .into(),
        );
        let mut nginx = Step::new("Run nginx in laravel_nginx_t");
        nginx.check = vec![drop_in.unchanged()];
        nginx.apply = vec![
            Action::run(
                Command::new("install")
                    .sudo()
                    .flag("-d")
                    .flag("-m")
                    .flag("0755")
                    .operand("/etc/systemd/system/nginx.service.d"),
            ),
            // Stopped under the unit as it was: the new ExecStop runs in laravel_nginx_t,
            // which may not signal an nginx still running in the old domain.
            Action::run(
                Command::new("systemctl")
                    .sudo()
                    .flag("stop")
                    .operand("nginx.service"),
            ),
            Action::Write(drop_in.clone()),
            daemon_reload(),
            Action::when(
                Probe::ok(
                    Command::new("systemctl")
                        .flag("is-enabled")
                        .flag("--quiet")
                        .operand("nginx.service"),
                ),
                Action::run(
                    Command::new("systemctl")
                        .sudo()
                        .flag("start")
                        .operand("nginx.service"),
                ),
            ),
        ];
        nginx.verify = vec![drop_in.unchanged()];
        steps.push(only_with_selinux(nginx));
    }
    Plan {
        title: format!("install the panel SELinux policy module {version}"),
        profile,
        driver,
        steps,
    }
}

fn boolean_state(b: Boolean, on: bool) -> Probe {
    Probe::output(
        // getsebool reads every argument as a boolean's name: `--` would be one.
        Command::new("getsebool").operand_without_separator(b.name()),
        format!("{} --> {}", b.name(), if on { "on" } else { "off" }),
    )
}

/// Turn a boolean on or off, persistently (`setsebool -P`: no rebuild).
pub fn set_boolean(profile: Profile, driver: Driver, b: Boolean, on: bool) -> Plan {
    let value = if on { "on" } else { "off" };
    let mut step = Step::new(format!("Set {} {value}", b.name()));
    step.check = vec![boolean_state(b, on)];
    step.apply = vec![Action::run(
        Command::new("setsebool")
            .locked(STORE_LOCK)
            .sudo()
            .flag("-P")
            .operand(b.name())
            .operand(value),
    )];
    step.verify = vec![boolean_state(b, on)];
    Plan {
        title: format!("set {} {value}", b.name()),
        profile,
        driver,
        steps: vec![only_with_selinux(step)],
    }
}

/// Put every site's rules and labels back (after a restore, a manual `chcon`, a policy update).
pub fn relabel(profile: Profile, driver: Driver, sites: &[SiteSpec]) -> Plan {
    let mut steps: Vec<Step> = sites.iter().map(label_step).collect();
    let mut sockets = Step::new("Relabel the PHP-FPM sockets and logs");
    sockets.apply = vec![Action::run(
        Command::new("restorecon")
            .sudo()
            .flag("-R")
            .flag("-F")
            .flag("-i")
            .operand("/run/php-fpm")
            .operand("/var/log/panel"),
    )];
    steps.push(only_with_selinux(sockets));
    Plan {
        title: "relabel the sites".into(),
        profile,
        driver,
        steps,
    }
}

/// Switch to enforcing now and at every boot, keeping the node's policy (`policy`, its
/// `SELINUXTYPE`: `targeted` on EL, `default` on Debian).
pub fn enforce(profile: Profile, driver: Driver, policy: &PolicyName) -> Plan {
    let config = FileWrite::new(
        "/etc/selinux/config".into(),
        "0644",
        "root",
        format!(
            "# Managed by Panel: switched to enforcing after a window without denials.\n\
             SELINUX=enforcing\nSELINUXTYPE={policy}\n"
        ),
    );
    let mut now = Step::new("Switch to enforcing");
    let enforcing = Probe::output(Command::new("getenforce"), "Enforcing");
    now.check = vec![enforcing.clone()];
    // setenforce takes exactly one argument (`--` is a usage error).
    now.apply = vec![Action::run(
        Command::new("setenforce")
            .sudo()
            .operand_without_separator("1"),
    )];
    now.verify = vec![enforcing];
    let mut boot = Step::new("Stay enforcing after a reboot");
    boot.check = vec![config.unchanged()];
    boot.apply = vec![Action::Write(config.clone())];
    boot.verify = vec![config.unchanged()];
    Plan {
        title: "switch SELinux to enforcing".into(),
        profile,
        driver,
        steps: vec![only_with_selinux(now), only_with_selinux(boot)],
    }
}

/// What `setup/selinux-status.sh` reports. Everything in it comes from the node: parsed into
/// known values, bounded, never shown raw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub mode: Option<crate::domain::SelinuxMode>,
    pub configured: Option<crate::domain::SelinuxMode>,
    pub module_version: Option<String>,
    pub module_loaded: bool,
    /// `None`: the boolean does not exist (module not loaded, or SELinux off).
    pub booleans: Vec<(Boolean, Option<bool>)>,
    pub nginx_in_domain: bool,
    pub devel_installed: bool,
}

pub const STATUS_SCRIPT: &str = include_str!("../../setup/selinux-status.sh");

impl Status {
    pub fn parse(text: &str) -> Self {
        let mut s = Status {
            booleans: Boolean::ALL.iter().map(|b| (*b, None)).collect(),
            ..Status::default()
        };
        for line in text.lines().take(64) {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = v.trim();
            match k {
                "mode" => s.mode = v.parse().ok(),
                "configured" => s.configured = v.parse().ok(),
                "module_version" => {
                    s.module_version = (!v.is_empty()
                        && v.len() <= 20
                        && v.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
                    .then(|| v.to_owned())
                }
                "module_loaded" => s.module_loaded = v == "yes",
                "nginx_context" => {
                    s.nginx_in_domain = v.split(':').nth(2) == Some("laravel_nginx_t")
                }
                "devel" => s.devel_installed = v == "yes",
                _ => {
                    if let Some(b) = k.strip_prefix("bool_").and_then(Boolean::parse) {
                        let value = match v {
                            "on" => Some(true),
                            "off" => Some(false),
                            _ => None,
                        };
                        for (name, state) in &mut s.booleans {
                            if *name == b {
                                *state = value;
                            }
                        }
                    }
                }
            }
        }
        s
    }

    pub fn module_current(&self) -> bool {
        self.module_loaded && self.module_version.as_deref() == Some(module_version())
    }
}

/// One condition for switching to enforcing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub label: String,
    pub ok: bool,
    pub detail: String,
}

/// What the server's denial record says about the observation window.
#[derive(Clone, Debug, Default)]
pub struct Observation {
    /// When the current module version was installed (the window starts then).
    pub since: Option<DateTime<Utc>>,
    /// The newest denial since then: the window starts again after it.
    pub last_denial: Option<DateTime<Utc>>,
    /// Denials recorded from this server since the module was installed.
    pub denials: i64,
    /// Whether the server's audit log is being collected at all.
    pub collecting: bool,
}

/// The checklist the SELinux tab shows before offering enforcing. All must pass; the enforce
/// handler checks it again rather than trust the button.
pub fn checklist(
    status: &Status,
    seen: &Observation,
    now: DateTime<Utc>,
    quiet: std::time::Duration,
) -> Vec<Check> {
    use crate::domain::SelinuxMode as M;
    let window = Duration::from_std(quiet).unwrap_or(Duration::days(7));
    let mut out = vec![Check {
        label: "SELinux runs permissive".into(),
        ok: status.mode == Some(M::Permissive),
        detail: match status.mode {
            Some(M::Permissive) => "denials are logged, nothing is blocked yet".into(),
            Some(M::Enforcing) => "already enforcing".into(),
            _ => "SELinux is off: setup configures it permissive (it takes a reboot)".into(),
        },
    }];
    out.push(Check {
        label: format!("The panel policy module {} is loaded", module_version()),
        ok: status.module_current(),
        detail: match (&status.module_version, status.module_loaded) {
            (Some(v), true) if v == module_version() => "loaded".into(),
            (Some(v), true) => format!("version {v} is loaded: install the update"),
            _ => "not loaded: install it".into(),
        },
    });
    out.push(Check {
        label: "nginx runs in laravel_nginx_t".into(),
        ok: status.nginx_in_domain,
        detail: if status.nginx_in_domain {
            "yes".into()
        } else {
            "not yet: installing the module adds its systemd drop-in".into()
        },
    });
    out.push(Check {
        label: "Denials are collected from this server".into(),
        ok: seen.collecting,
        detail: if seen.collecting {
            "the audit log is followed".into()
        } else {
            "no audit records have arrived from this server: without them a quiet window proves nothing".into()
        },
    });
    // The window runs from the module's installation, and again from each warning after it: a
    // denial explained and fixed needs a quiet window of its own before enforcing, and so does
    // a server someone switched back to permissive (what was blocked meanwhile is unknown).
    let start = match (seen.since, seen.last_denial) {
        (Some(s), Some(d)) => Some(s.max(d)),
        (s, _) => s,
    };
    let (ok, detail) = match start {
        None => (
            false,
            "the window starts when the module is installed".to_owned(),
        ),
        Some(from) if now - from < window => (
            false,
            match seen.last_denial {
                Some(d) => format!(
                    "the last warning (a denial, or SELinux switched to permissive) was at {}: \
                     explain and fix it; {} to go after it",
                    d.format("%Y-%m-%d %H:%M"),
                    span(window - (now - from))
                ),
                None => format!(
                    "none since {}; {} to go",
                    from.format("%Y-%m-%d %H:%M"),
                    span(window - (now - from))
                ),
            },
        ),
        Some(from) => (
            true,
            match seen.last_denial {
                Some(d) => format!(
                    "{} warning(s) since the module was installed, none since {}",
                    seen.denials,
                    d.format("%Y-%m-%d %H:%M")
                ),
                None => format!("none since {}", from.format("%Y-%m-%d %H:%M")),
            },
        ),
    };
    out.push(Check {
        label: format!("No denials for {}", span(window)),
        ok,
        detail,
    });
    out
}

/// A duration in words, rounded up to its largest unit: "7 days", "3 hours", "20 seconds".
fn span(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    let (n, unit) = if s >= 86_400 {
        ((s + 86_399) / 86_400, "day")
    } else if s >= 3600 {
        ((s + 3599) / 3600, "hour")
    } else if s >= 60 {
        ((s + 59) / 60, "minute")
    } else {
        (s, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SelinuxMode;
    use crate::provision::render::script;

    #[test]
    fn the_version_comes_from_the_module_source() {
        assert_eq!(module_version(), "1.5.0");
    }

    #[test]
    fn the_install_plan_builds_on_the_node_and_moves_nginx_into_its_domain() {
        let alma = Profile::parse("alma9").unwrap();
        let s = script(&install_module(alma, Driver::Systemd));
        for line in [
            "'dnf' 'install' '-y' '--' 'selinux-policy-devel'",
            "'make' '-C' '/usr/share/panel/selinux' '-f' '/usr/share/selinux/devel/Makefile' '--' 'panel.pp'",
            "'semodule' '-i' '/usr/share/panel/selinux/panel.pp'",
            "SELinuxContext=system_u:system_r:laravel_nginx_t:s0\n",
            "'systemctl' 'start' '--' 'nginx.service'",
            "echo 'skipped: SELinux disabled'",
        ] {
            assert!(s.contains(line), "{line}\n{s}");
        }
        // The version stamp is written after the module is loaded.
        assert!(
            s.find("'semodule' '-i'").unwrap()
                < s.rfind("/usr/share/panel/selinux/VERSION").unwrap()
        );
        let direct = script(&install_module(
            Profile::parse("debian12").unwrap(),
            Driver::Direct,
        ));
        assert!(direct.contains("'apt-get' 'install' '-y' '--' 'selinux-policy-dev'"));
        assert!(!direct.contains("nginx.service"));
    }

    #[test]
    fn booleans_toggle_persistently_and_only_known_ones() {
        let p = set_boolean(
            Profile::parse("rocky8").unwrap(),
            Driver::Systemd,
            Boolean::ReloadNginx,
            true,
        );
        let s = script(&p);
        assert!(
            s.contains("'setsebool' '-P' '--' 'panel_can_reload_nginx' 'on'"),
            "{s}"
        );
        assert!(s.contains("[ \"$('getsebool' 'panel_can_reload_nginx' 2>/dev/null)\" = 'panel_can_reload_nginx --> on' ]"), "{s}");
        assert_eq!(Boolean::parse("httpd_can_network_connect"), None);
        assert_eq!(
            Boolean::parse("panel_can_manage_users"),
            Some(Boolean::ManageUsers)
        );
    }

    #[test]
    fn status_is_parsed_into_known_values_only() {
        let s = Status::parse(
            "mode=permissive\nconfigured=permissive\nmodule_version=1.0.0\nmodule_loaded=yes\n\
             bool_panel_can_manage_users=off\nbool_panel_can_reload_nginx=on\n\
             nginx_context=system_u:system_r:laravel_nginx_t:s0-s0:c0.c1023\ndevel=yes\n\
             bool_httpd_anything=on\nmodule_version=<script>\n",
        );
        assert_eq!(s.mode, Some(SelinuxMode::Permissive));
        assert_eq!(
            s.module_version, None,
            "the hostile last line wins and is refused"
        );
        assert!(s.module_loaded && s.nginx_in_domain && s.devel_installed);
        assert_eq!(
            s.booleans,
            vec![
                (Boolean::ManageUsers, Some(false)),
                (Boolean::ReloadNginx, Some(true))
            ]
        );
        let off = Status::parse(
            "mode=disabled\nmodule_loaded=no\nbool_panel_can_manage_users=absent\nnginx_context=-\n",
        );
        assert_eq!(off.mode, Some(SelinuxMode::Disabled));
        assert!(!off.module_current() && !off.nginx_in_domain);
        assert_eq!(off.booleans[0].1, None);
    }

    #[test]
    fn enforcing_waits_for_a_quiet_observed_window() {
        let ready = Status::parse(
            "mode=permissive\nmodule_version=1.5.0\nmodule_loaded=yes\n\
             nginx_context=system_u:system_r:laravel_nginx_t:s0-s0:c0.c1023\n",
        );
        let now: DateTime<Utc> = "2026-11-23T12:00:00Z".parse().unwrap();
        let quiet = Observation {
            since: Some(now - Duration::days(8)),
            last_denial: None,
            denials: 0,
            collecting: true,
        };
        let week = crate::config::DEFAULT_QUIET_WINDOW;
        let checklist = |s: &Status, o: &Observation, now| checklist(s, o, now, week);
        assert!(checklist(&ready, &quiet, now).iter().all(|c| c.ok));
        assert_eq!(
            checklist(&ready, &quiet, now)[4].label,
            "No denials for 7 days"
        );
        let young = Observation {
            since: Some(now - Duration::days(2)),
            ..quiet.clone()
        };
        let c = checklist(&ready, &young, now);
        assert!(!c[4].ok && c[4].detail.contains("5 days to go"), "{c:?}");
        // A recent denial starts the window again; an old one no longer holds it up.
        let noisy = Observation {
            denials: 3,
            last_denial: Some(now - Duration::days(1)),
            ..quiet.clone()
        };
        let c = checklist(&ready, &noisy, now);
        assert!(
            !c[4].ok && c[4].detail.contains("6 days to go after it"),
            "{c:?}"
        );
        let fixed = Observation {
            last_denial: Some(now - Duration::days(7) - Duration::minutes(1)),
            ..noisy.clone()
        };
        assert!(checklist(&ready, &fixed, now)[4].ok);
        let blind = Observation {
            collecting: false,
            ..quiet.clone()
        };
        assert!(!checklist(&ready, &blind, now)[3].ok);
        let off = Status::parse("mode=disabled\n");
        let c = checklist(&off, &quiet, now);
        assert!(!c[0].ok && !c[1].ok && !c[2].ok);
    }
}
