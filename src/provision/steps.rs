//! Step pieces every plan is made of (site, deploy and SELinux plans): look at a path without
//! following it, create directories, remove files, ask nginx for a site, and what to print when
//! a reload's check fails.

use crate::domain::SiteDomain;
use crate::ssh::Command;

use super::{Action, Probe, SiteSpec, templates};

pub(crate) fn stat(format: &'static str, paths: &[String]) -> Command {
    let mut c = Command::new("stat").sudo().flag("-c").value(format);
    for p in paths {
        c = c.operand(p);
    }
    c
}

/// Passes when `path` is a symbolic link (a deployed site's `public_html`). `test -L` looks at
/// the path itself (lstat), and is the shell's builtin: no process is started for it.
pub(crate) fn is_link(path: &str) -> Probe {
    Probe::ok(Command::new("test").flag("-L").value(path))
}

pub(crate) fn exists(path: &str) -> Probe {
    Probe::ok(stat("%n", &[path.to_owned()]))
}

pub(crate) fn rm(paths: &[String]) -> Action {
    let mut c = Command::new("rm").sudo().flag("-f");
    for p in paths {
        c = c.operand(p);
    }
    Action::run(c)
}

pub(crate) fn mkdir(mode: &'static str, owner: &str, group: &str, paths: &[String]) -> Action {
    let mut c = Command::new("install")
        .sudo()
        .flag("-d")
        .flag("-Z")
        .flag("-m")
        .value(mode)
        .flag("-o")
        .value(owner)
        .flag("-g")
        .value(group);
    for p in paths {
        c = c.operand(p);
    }
    Action::run(c)
}

pub(crate) fn link_probe(link: &str, target: &str) -> Probe {
    Probe::output(Command::new("readlink").operand(link), target)
}

/// The status nginx answers over HTTP for `domain` on the node itself: the script's own
/// `panel_http_status` (bash's /dev/tcp; see `render::PRELUDE`), no process per ask.
pub(crate) fn http_status(domain: &SiteDomain) -> Command {
    Command::new("panel_http_status").value(domain.to_string())
}

/// The status nginx answers over HTTPS for `domain` on the node itself (any certificate: the
/// node need not trust its CA).
pub(crate) fn https_status(domain: &SiteDomain) -> Command {
    Command::new("curl")
        .flag("-sSk")
        .flag("-o")
        .flag("/dev/null")
        .flag("--max-time")
        .flag("5")
        .flag("-w")
        .flag("%{http_code}")
        .flag("--resolve")
        .value(format!("{domain}:443:127.0.0.1"))
        .operand(format!("https://{domain}/"))
}

/// The site serves: its PHP-FPM socket is there and nginx answers for its domain (any answer
/// from the site itself; 500 or 502–504 would mean its PHP fails or cannot be reached).
pub(crate) fn serving(site: &SiteSpec) -> Vec<Probe> {
    vec![
        Probe::ok(
            Command::new("test")
                .flag("-S")
                .value(templates::socket_path(site.user.as_str())),
        )
        .waiting(),
        Probe::one_of(
            http_status(&site.domain),
            vec!["200", "301", "302", "401", "403", "404"],
        )
        .waiting(),
    ]
}

/// What nginx last said (a reload it refused, a socket it cannot reach), for a failed check.
pub(crate) fn nginx_errors() -> Command {
    Command::new("tail")
        .sudo()
        .flag("-n")
        .flag("20")
        .operand("/var/log/nginx/error.log")
}

/// After a failed check of a reload: what nginx said, which nginx processes run, and which one
/// the pid file (the one a reload signals) names.
pub(crate) fn nginx_diagnosis() -> Vec<Command> {
    vec![
        nginx_errors(),
        Command::new("pgrep").flag("-a").operand("nginx"),
        Command::new("cat").operand("/run/nginx.pid"),
    ]
}

/// Stop every process of `user` (when it has any).
pub(crate) fn kill_all(user: &str) -> Action {
    Action::when(
        Probe::ok(Command::new("pgrep").flag("-u").value(user)),
        Action::run(
            Command::new("pkill")
                .sudo()
                .flag("-KILL")
                .flag("-u")
                .value(user),
        ),
    )
}
