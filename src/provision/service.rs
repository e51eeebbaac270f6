//! Service control. Real servers run systemd; the CI nodes have no init system, so the direct
//! driver runs the daemons' own binaries with their pid files and signals. Both render to plain
//! commands, so a plan shows exactly what either would do; CI executes the direct one.

use crate::ssh::Command;

use super::profile::Profile;
use super::{Action, Probe, SiteSpec, templates};

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
            // `nginx -s reload` parses the whole configuration and fails on a broken one (a HUP
            // alone would keep the old configuration and say nothing), then signals the master
            // named in its pid file; with none running it fails, and plain `nginx` starts one.
            Driver::Direct => Action::or_else(
                Action::run(Command::new("nginx").sudo().flag("-s").flag("reload")),
                Action::run(Command::new("nginx").sudo()),
            ),
        }
    }

    /// `reload_nginx` right after `nginx -t` passed on the configuration it loads: the master
    /// is signalled (`panel_signal`, no process) instead of parsing everything once more.
    pub fn reload_nginx_tested(self) -> Action {
        match self {
            Driver::Systemd => self.reload_nginx(),
            Driver::Direct => Action::or_else(
                Action::run(
                    Command::new("panel_signal")
                        .value("HUP")
                        .value(NGINX_PID)
                        .value("nginx"),
                ),
                Action::run(Command::new("nginx").sudo()),
            ),
        }
    }

    /// Start the site's PHP-FPM master, or reload it gracefully (running requests finish) when
    /// it runs already.
    pub fn reload_site_fpm(self, profile: Profile, site: &SiteSpec) -> Action {
        let user = site.user.as_str();
        match self {
            Driver::Systemd => {
                let unit = templates::fpm_unit_name(user);
                Action::Sequence(vec![
                    Action::run(
                        Command::new("systemctl")
                            .sudo()
                            .flag("enable")
                            .flag("--quiet")
                            .operand(&unit),
                    ),
                    Action::run(
                        Command::new("systemctl")
                            .sudo()
                            .flag("reload-or-restart")
                            .operand(unit),
                    ),
                ])
            }
            // USR2 to the master named in the pid file; with none running it fails and the
            // master is started (it daemonises once its socket listens).
            Driver::Direct => Action::or_else(
                Action::run(
                    Command::new("panel_signal")
                        .value("USR2")
                        .value(templates::fpm_pid_path(user))
                        .value("php-fpm"),
                ),
                Action::run(
                    Command::new(profile.fpm_binary(site.php))
                        .sudo()
                        .flag("--daemonize")
                        .flag("--fpm-config")
                        .value(templates::fpm_config_path(user)),
                ),
            ),
        }
    }

    /// Stop the site's master (gracefully) and keep it stopped across reboots.
    pub fn stop_site_fpm(self, site: &SiteSpec) -> Action {
        let user = site.user.as_str();
        match self {
            // A unit already removed (a delete that stopped half way) has nothing to stop.
            Driver::Systemd => Action::when(
                Probe::ok(
                    Command::new("test")
                        .flag("-e")
                        .value(templates::fpm_unit_path(user)),
                ),
                Action::run(
                    Command::new("systemctl")
                        .sudo()
                        .flag("disable")
                        .flag("--now")
                        .flag("--quiet")
                        .operand(templates::fpm_unit_name(user)),
                ),
            ),
            Driver::Direct => Action::when(
                self.site_fpm_running(site),
                Action::run(
                    Command::new("pkill")
                        .sudo()
                        .flag("--signal")
                        .flag("QUIT")
                        .flag("--pidfile")
                        .value(templates::fpm_pid_path(user)),
                ),
            ),
        }
    }

    /// Whether the site's master runs.
    pub fn site_fpm_running(self, site: &SiteSpec) -> Probe {
        let user = site.user.as_str();
        match self {
            Driver::Systemd => Probe::ok(
                Command::new("systemctl")
                    .flag("is-active")
                    .flag("--quiet")
                    .operand(templates::fpm_unit_name(user)),
            ),
            Driver::Direct => Probe::ok(
                Command::new("pkill")
                    .sudo()
                    .flag("--signal")
                    .flag("0")
                    .flag("--pidfile")
                    .value(templates::fpm_pid_path(user)),
            ),
        }
    }
}

/// `nginx -t`: the whole configuration, as the next reload would load it.
/// Where nginx (both profiles' packages) writes its master's pid.
const NGINX_PID: &str = "/run/nginx.pid";

pub fn test_nginx() -> Command {
    Command::new("nginx").sudo().flag("-t").flag("-q")
}

/// `php-fpm -t`: the site master's configuration, as its next start or reload would load it.
pub fn test_site_fpm(profile: Profile, site: &SiteSpec) -> Command {
    Command::new(profile.fpm_binary(site.php))
        .sudo()
        .flag("-t")
        .flag("--fpm-config")
        .value(templates::fpm_config_path(site.user.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AppType, PhpVersion};

    fn site(php: PhpVersion) -> SiteSpec {
        SiteSpec {
            php,
            ..super::super::test_site(AppType::Generic)
        }
    }

    #[test]
    fn both_drivers_render_plain_commands() {
        let deb = Profile::parse("debian12").unwrap();
        let alma = Profile::parse("alma9").unwrap();
        assert_eq!(
            Driver::Systemd
                .reload_site_fpm(alma, &site(PhpVersion::V83))
                .to_string(),
            "'systemctl' 'enable' '--quiet' '--' 'panel-php-fpm-web3.service'\n\
             'systemctl' 'reload-or-restart' '--' 'panel-php-fpm-web3.service'"
        );
        let direct = Driver::Direct
            .reload_site_fpm(deb, &site(PhpVersion::V82))
            .to_string();
        assert_eq!(
            direct,
            "'panel_signal' 'USR2' '/run/php-fpm/web3.pid' 'php-fpm' || \
             '/usr/sbin/php-fpm8.2' '--daemonize' '--fpm-config' '/etc/panel/php-fpm/web3.conf'"
        );
        assert_eq!(
            Driver::Systemd
                .stop_site_fpm(&site(PhpVersion::V83))
                .to_string(),
            "if 'test' '-e' '/etc/systemd/system/panel-php-fpm-web3.service'; then\n\
             'systemctl' 'disable' '--now' '--quiet' '--' 'panel-php-fpm-web3.service'\n\
             fi"
        );
        assert_eq!(
            Driver::Direct.reload_nginx().to_string(),
            "'nginx' '-s' 'reload' || 'nginx'"
        );
    }
}
