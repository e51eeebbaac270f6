//! Service control. Real servers run systemd; the CI nodes have no init system, so the direct
//! driver runs the daemons' own binaries with their pid files and signals. Both render to plain
//! commands, so a plan shows exactly what either would do; CI executes the direct one.

use crate::domain::PhpVersion;
use crate::ssh::Command;

use super::profile::Profile;
use super::{Action, Probe};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    Systemd,
    Direct,
}

impl Driver {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "systemd" => Ok(Driver::Systemd),
            "direct" => Ok(Driver::Direct),
            _ => Err("`systemd` or `direct`".into()),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Driver::Systemd => "systemd",
            Driver::Direct => "direct",
        }
    }

    /// Load nginx's new configuration (starting it if it is not running).
    pub fn reload_nginx(self) -> Action {
        match self {
            Driver::Systemd => Action::run(
                Command::new("systemctl")
                    .sudo()
                    .flag("reload-or-restart")
                    .operand("nginx.service"),
            ),
            // `nginx -s reload` signals the master named in its pid file; with none running it
            // fails, and plain `nginx` starts one.
            Driver::Direct => Action::or_else(
                Action::run(Command::new("nginx").sudo().flag("-s").flag("reload")),
                Action::run(Command::new("nginx").sudo()),
            ),
        }
    }

    /// Load PHP-FPM's pools again (graceful: running requests finish), starting it if needed.
    pub fn reload_fpm(self, profile: Profile, php: PhpVersion) -> Action {
        match self {
            Driver::Systemd => Action::run(
                Command::new("systemctl")
                    .sudo()
                    .flag("reload-or-restart")
                    .operand(format!("{}.service", profile.fpm_service(php))),
            ),
            Driver::Direct => {
                let pid = profile.fpm_pid(php);
                let pid_dir = pid.rsplit_once('/').map_or("/run", |(d, _)| d).to_owned();
                Action::or_else(
                    Action::run(
                        Command::new("pkill")
                            .sudo()
                            .flag("--signal")
                            .flag("USR2")
                            .flag("--pidfile")
                            .value(pid),
                    ),
                    Action::Sequence(vec![
                        Action::run(
                            Command::new("install")
                                .sudo()
                                .flag("-d")
                                .flag("-m")
                                .flag("0755")
                                .operand(pid_dir),
                        ),
                        Action::run(
                            Command::new(profile.fpm_binary(php))
                                .sudo()
                                .flag("--daemonize")
                                .flag("--fpm-config")
                                .value(profile.fpm_config(php)),
                        ),
                    ]),
                )
            }
        }
    }

    /// Whether the PHP-FPM master runs.
    pub fn fpm_running(self, profile: Profile, php: PhpVersion) -> Probe {
        match self {
            Driver::Systemd => Probe::ok(
                Command::new("systemctl")
                    .flag("is-active")
                    .flag("--quiet")
                    .operand(format!("{}.service", profile.fpm_service(php))),
            ),
            Driver::Direct => Probe::ok(
                Command::new("pkill")
                    .sudo()
                    .flag("--signal")
                    .flag("0")
                    .flag("--pidfile")
                    .value(profile.fpm_pid(php)),
            ),
        }
    }
}

/// `nginx -t`: the whole configuration, as the next reload would load it.
pub fn test_nginx() -> Command {
    Command::new("nginx").sudo().flag("-t").flag("-q")
}

/// `php-fpm -t`: the main configuration with every pool it includes.
pub fn test_fpm(profile: Profile, php: PhpVersion) -> Command {
    Command::new(profile.fpm_binary(php))
        .sudo()
        .flag("-t")
        .flag("--fpm-config")
        .value(profile.fpm_config(php))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_drivers_render_plain_commands() {
        let deb = Profile::parse("debian12").unwrap();
        let alma = Profile::parse("alma9").unwrap();
        assert_eq!(
            Driver::Systemd
                .reload_fpm(alma, PhpVersion::V83)
                .to_string(),
            "'sudo' '-n' '--' 'systemctl' 'reload-or-restart' '--' 'php83-php-fpm.service'"
        );
        let direct = Driver::Direct.reload_fpm(deb, PhpVersion::V82).to_string();
        assert!(
            direct.starts_with(
                "'sudo' '-n' '--' 'pkill' '--signal' 'USR2' '--pidfile' '/run/php/php8.2-fpm.pid' || {"
            ),
            "{direct}"
        );
        assert!(
            direct.contains("'/usr/sbin/php-fpm8.2' '--daemonize'"),
            "{direct}"
        );
        assert_eq!(
            Driver::Direct.reload_nginx().to_string(),
            "'sudo' '-n' '--' 'nginx' '-s' 'reload' || 'sudo' '-n' '--' 'nginx'"
        );
    }
}
