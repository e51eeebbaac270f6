//! Log rotation for what the panel makes logs of: a site's own `logs/` (rotated by logrotate
//! as the site's user, `su`, so root never writes where the site can plant a link) and the
//! PHP-FPM masters' logs (root's). nginx's per-site logs sit in its own directory, which the
//! distribution's nginx rotation covers already.

use crate::ssh::Command;

use super::{Action, FileWrite, Probe, SiteSpec, Step};

const FPM_ROTATE: &str = "/etc/logrotate.d/panel-php-fpm";

fn site_rotate_path(site: &SiteSpec) -> String {
    format!("/etc/logrotate.d/panel-site-{}", site.user)
}

/// Weekly, or sooner past 50 MB; eight kept, compressed; copied then truncated, so no process
/// needs a signal to reopen its file.
const POLICY: &str = "    weekly
    maxsize 50M
    rotate 8
    compress
    delaycompress
    missingok
    notifempty
    copytruncate
";

pub fn site_rotation(site: &SiteSpec) -> String {
    let user = site.user.as_str();
    format!(
        "# Managed by Panel: the logs in {domain}'s home, rotated as its own user.
{home}/logs/*.log {home}/logs/workers/*.log {{
    su {user} {user}
{POLICY}}}
",
        domain = site.domain,
        home = site.user.home(),
    )
}

fn fpm_rotation() -> String {
    format!(
        "# Managed by Panel: the sites' PHP-FPM masters' own logs.
{dir}/*.log {{
{POLICY}}}
",
        dir = super::templates::FPM_LOG_DIR
    )
}

fn with_logrotate() -> (Probe, String) {
    (
        Probe::ok(Command::new("test").flag("-d").value("/etc/logrotate.d")),
        "logrotate is not installed".to_owned(),
    )
}

/// Written when a site is provisioned.
pub fn rotate_step(site: &SiteSpec) -> Step {
    let files = [
        FileWrite::new(site_rotate_path(site), "0644", "root", site_rotation(site)),
        FileWrite::new(FPM_ROTATE.to_owned(), "0644", "root", fpm_rotation()),
    ];
    let mut step = Step::new(format!("Rotate the logs of {}", site.domain));
    step.only_if = Some(with_logrotate());
    let all = FileWrite::all_unchanged(&[&files[0], &files[1]]);
    step.check = vec![all.clone()];
    step.apply = files.into_iter().map(Action::Write).collect();
    step.verify = vec![all];
    step
}

/// Removed with the site.
pub fn unrotate_step(site: &SiteSpec) -> Step {
    let mut step = Step::new(format!("Stop rotating the logs of {}", site.domain));
    step.apply = vec![Action::run(
        Command::new("rm")
            .sudo()
            .flag("-f")
            .operand(site_rotate_path(site)),
    )];
    step
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AppType;

    #[test]
    fn a_sites_logs_rotate_as_its_own_user() {
        let site = super::super::test_site(AppType::Generic);
        let text = site_rotation(&site);
        assert!(text.starts_with("# Managed by Panel"));
        assert!(
            text.contains(
                "/home/web3/logs/*.log /home/web3/logs/workers/*.log {\n    su web3 web3\n"
            ),
            "{text}"
        );
        assert_eq!(rotate_step(&site).apply.len(), 2);
    }
}
