//! Where things live on each supported OS. EL (Alma/Rocky 8 and 9) runs nginx as `nginx` with
//! vhosts in `conf.d/` and PHP from Remi's software collections (`/etc/opt/remi/phpXY/…`,
//! service `phpXY-php-fpm`); Debian 12 runs nginx as `www-data` with `sites-available/` plus a
//! `sites-enabled/` link and PHP from `/etc/php/X.Y/`. The seed's Debian paths were wrong on EL;
//! every path a step uses comes from here.

use crate::domain::{OsVersion, PhpVersion};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    pub os: OsVersion,
    /// SELinux is on (enforcing or permissive) on the server: its sites' PHP-FPM masters run
    /// in the module's domain at their categories. Decided by the node (what setup reported),
    /// not by the OS; a plan for an OS alone assumes EL has it and Debian does not.
    pub selinux: bool,
}

impl Profile {
    pub fn new(os: OsVersion) -> Self {
        Self {
            os,
            selinux: os != OsVersion::Debian12,
        }
    }

    /// The same OS, with SELinux as the server reports it.
    pub fn with_selinux(self, on: bool) -> Self {
        Self {
            selinux: on,
            ..self
        }
    }

    /// The `--os` names of `panel site plan` (`alma9`; `alma_9` is accepted too).
    pub fn parse(text: &str) -> Result<Self, String> {
        let key: String = text.chars().filter(|c| *c != '_' && *c != '-').collect();
        let os = match key.to_ascii_lowercase().as_str() {
            "alma8" => OsVersion::Alma8,
            "alma9" => OsVersion::Alma9,
            "rocky8" => OsVersion::Rocky8,
            "rocky9" => OsVersion::Rocky9,
            "debian12" => OsVersion::Debian12,
            _ => {
                return Err(format!(
                    "`{}` is not a supported OS (alma8, alma9, rocky8, rocky9, debian12)",
                    text.chars().take(40).collect::<String>().escape_debug()
                ));
            }
        };
        Ok(Self::new(os))
    }

    pub fn name(self) -> &'static str {
        match self.os {
            OsVersion::Alma8 => "alma8",
            OsVersion::Alma9 => "alma9",
            OsVersion::Rocky8 => "rocky8",
            OsVersion::Rocky9 => "rocky9",
            OsVersion::Debian12 => "debian12",
        }
    }

    pub fn is_el(self) -> bool {
        self.os != OsVersion::Debian12
    }

    /// The account nginx's workers run as.
    pub fn nginx_user(self) -> &'static str {
        if self.is_el() { "nginx" } else { "www-data" }
    }

    /// Where a vhost file is written.
    pub fn vhost_path(self, name: &str) -> String {
        if self.is_el() {
            format!("/etc/nginx/conf.d/{name}.conf")
        } else {
            format!("/etc/nginx/sites-available/{name}.conf")
        }
    }

    /// Debian's `sites-enabled/` link for a vhost (EL includes `conf.d/*.conf` directly).
    pub fn vhost_link(self, name: &str) -> Option<String> {
        (!self.is_el()).then(|| format!("/etc/nginx/sites-enabled/{name}.conf"))
    }

    /// Debian's stock default site, which would compete with the panel's catch-all server.
    pub fn stock_default_site(self) -> Option<&'static str> {
        (!self.is_el()).then_some("/etc/nginx/sites-enabled/default")
    }

    fn remi(php: PhpVersion) -> String {
        format!("php{}", php.as_str().replace('.', ""))
    }

    /// The directory PHP-FPM includes pool files from.
    pub fn pool_dir(self, php: PhpVersion) -> String {
        if self.is_el() {
            format!("/etc/opt/remi/{}/php-fpm.d", Self::remi(php))
        } else {
            format!("/etc/php/{php}/fpm/pool.d")
        }
    }

    /// PHP-FPM's main configuration file (what `php-fpm -t` checks, with every pool).
    pub fn fpm_config(self, php: PhpVersion) -> String {
        if self.is_el() {
            format!("/etc/opt/remi/{}/php-fpm.conf", Self::remi(php))
        } else {
            format!("/etc/php/{php}/fpm/php-fpm.conf")
        }
    }

    /// The PHP command-line binary of a version (what deploy scripts get as `$PHP`).
    pub fn php_cli(self, php: PhpVersion) -> &'static str {
        use PhpVersion as P;
        if self.is_el() {
            match php {
                P::V74 => "/opt/remi/php74/root/usr/bin/php",
                P::V80 => "/opt/remi/php80/root/usr/bin/php",
                P::V81 => "/opt/remi/php81/root/usr/bin/php",
                P::V82 => "/opt/remi/php82/root/usr/bin/php",
                P::V83 => "/opt/remi/php83/root/usr/bin/php",
                P::V84 => "/opt/remi/php84/root/usr/bin/php",
            }
        } else {
            match php {
                P::V74 => "/usr/bin/php7.4",
                P::V80 => "/usr/bin/php8.0",
                P::V81 => "/usr/bin/php8.1",
                P::V82 => "/usr/bin/php8.2",
                P::V83 => "/usr/bin/php8.3",
                P::V84 => "/usr/bin/php8.4",
            }
        }
    }

    /// The PHP-FPM binary: a constant per OS and version, so it can be a command's program.
    pub fn fpm_binary(self, php: PhpVersion) -> &'static str {
        use PhpVersion as P;
        if self.is_el() {
            match php {
                P::V74 => "/opt/remi/php74/root/usr/sbin/php-fpm",
                P::V80 => "/opt/remi/php80/root/usr/sbin/php-fpm",
                P::V81 => "/opt/remi/php81/root/usr/sbin/php-fpm",
                P::V82 => "/opt/remi/php82/root/usr/sbin/php-fpm",
                P::V83 => "/opt/remi/php83/root/usr/sbin/php-fpm",
                P::V84 => "/opt/remi/php84/root/usr/sbin/php-fpm",
            }
        } else {
            match php {
                P::V74 => "/usr/sbin/php-fpm7.4",
                P::V80 => "/usr/sbin/php-fpm8.0",
                P::V81 => "/usr/sbin/php-fpm8.1",
                P::V82 => "/usr/sbin/php-fpm8.2",
                P::V83 => "/usr/sbin/php-fpm8.3",
                P::V84 => "/usr/sbin/php-fpm8.4",
            }
        }
    }

    /// The PHP-FPM systemd unit.
    pub fn fpm_service(self, php: PhpVersion) -> String {
        if self.is_el() {
            format!("{}-php-fpm", Self::remi(php))
        } else {
            format!("php{php}-fpm")
        }
    }

    /// The master's pid file, as the packaged configuration writes it.
    pub fn fpm_pid(self, php: PhpVersion) -> String {
        if self.is_el() {
            format!("/var/opt/remi/{}/run/php-fpm/php-fpm.pid", Self::remi(php))
        } else {
            format!("/run/php/php{php}-fpm.pid")
        }
    }

    /// Where nginx keeps FastCGI cache files.
    pub fn fastcgi_cache_dir(self, site: &str) -> String {
        format!("/var/cache/nginx/panel/{site}")
    }

    /// The MariaDB socket PHP connects through.
    pub fn mariadb_socket(self) -> &'static str {
        if self.is_el() {
            "/var/lib/mysql/mysql.sock"
        } else {
            "/run/mysqld/mysqld.sock"
        }
    }
}

/// The directory every site's PHP-FPM socket lives in.
pub const SOCKET_DIR: &str = "/run/php-fpm";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn el_and_debian_paths_differ_where_the_distributions_do() {
        let alma = Profile::parse("alma9").unwrap();
        let deb = Profile::parse("debian_12").unwrap();
        assert_eq!(
            alma.pool_dir(PhpVersion::V83),
            "/etc/opt/remi/php83/php-fpm.d"
        );
        assert_eq!(alma.fpm_service(PhpVersion::V83), "php83-php-fpm");
        assert_eq!(
            alma.fpm_binary(PhpVersion::V83),
            "/opt/remi/php83/root/usr/sbin/php-fpm"
        );
        assert_eq!(alma.nginx_user(), "nginx");
        assert_eq!(alma.vhost_path("a.com"), "/etc/nginx/conf.d/a.com.conf");
        assert_eq!(alma.vhost_link("a.com"), None);
        assert_eq!(deb.pool_dir(PhpVersion::V82), "/etc/php/8.2/fpm/pool.d");
        assert_eq!(deb.fpm_service(PhpVersion::V82), "php8.2-fpm");
        assert_eq!(deb.nginx_user(), "www-data");
        assert_eq!(
            deb.vhost_link("a.com").as_deref(),
            Some("/etc/nginx/sites-enabled/a.com.conf")
        );
        assert!(Profile::parse("ubuntu").is_err());
    }
}
