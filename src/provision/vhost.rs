//! A site's nginx vhost (or its suspended page) and the catch-all server, written and tested
//! with `nginx -t` (a bad file is put back): shared by the site plans and the HTTPS plans.

use crate::domain::AppType;
use crate::ssh::Command;

use super::service::test_nginx;
use super::steps::{link_probe, mkdir, rm};
use super::{Action, FileWrite, Probe, Profile, SiteSpec, Step, templates};

/// The vhost file's base name.
pub(super) fn vhost_name(site: &SiteSpec) -> String {
    site.domain.to_string()
}

fn default_server(profile: Profile) -> (FileWrite, Option<String>) {
    (
        FileWrite::new(
            profile.vhost_path(templates::DEFAULT_SERVER_NAME),
            "0644",
            "root",
            templates::DEFAULT_SERVER.to_owned(),
        ),
        profile.vhost_link(templates::DEFAULT_SERVER_NAME),
    )
}

/// Checks and changes that put `file` (and its Debian link) in place, tested by `nginx -t`.
pub(super) fn nginx_file(file: FileWrite, link: Option<String>) -> (Vec<Probe>, Action) {
    let mut probes = vec![file.unchanged()];
    if let Some(l) = &link {
        probes.push(link_probe(l, &file.path));
    }
    (
        probes,
        Action::WriteTested {
            file,
            link,
            test: test_nginx(),
            test_new_if: None,
        },
    )
}

/// Step 4: the vhost, and the catch-all server that keeps unknown hosts off every site.
pub(super) fn vhost_step(profile: Profile, site: &SiteSpec, suspended: bool) -> Step {
    let name = vhost_name(site);
    let content = if suspended {
        templates::suspended_vhost(site)
    } else {
        templates::vhost(profile, site)
    };
    let vhost = FileWrite::new(profile.vhost_path(&name), "0644", "root", content);
    let (default_file, default_link) = default_server(profile);
    let default_unchanged = default_file.unchanged();
    let default_linked = default_link
        .as_ref()
        .map(|l| (link_probe(l, &default_file.path), l.clone()));
    let default_path = default_file.path.clone();
    // Both files' contents are asked in one `sha256sum`; then their links.
    let both_unchanged = FileWrite::all_unchanged(&[&default_file, &vhost]);
    let (default_check, default_apply) = nginx_file(default_file, default_link);
    let (vhost_check, vhost_apply) = nginx_file(vhost, profile.vhost_link(&name));
    let mut check = vec![both_unchanged];
    check.extend(default_check.into_iter().skip(1));
    let mut apply = Vec::new();
    if let Some(stock) = profile.stock_default_site() {
        // Debian's stock site also claims `default_server`; two cannot coexist.
        check.push(Probe::ok(
            Command::new("test").flag("!").flag("-e").value(stock),
        ));
        // Removed once; later sites find it gone (`test` is a builtin: no process).
        apply.push(Action::when(
            Probe::ok(
                Command::new("test")
                    .flag("-e")
                    .value(stock)
                    .flag("-o")
                    .flag("-L")
                    .value(stock),
            ),
            rm(&[stock.to_owned()]),
        ));
    }
    if site.app_type == AppType::WordPress && !suspended {
        apply.push(mkdir(
            "0700",
            profile.nginx_user(),
            "root",
            &[profile.fastcgi_cache_dir(site.user.as_str())],
        ));
    }
    // The catch-all server is written (and tested) only when it is not already in place: the
    // site's own file is then the one `nginx -t` of this step (one test, not two).
    apply.push(Action::Unless {
        probe: default_unchanged,
        action: Box::new(default_apply),
    });
    if let Some((linked, link)) = default_linked {
        apply.push(Action::Unless {
            probe: linked,
            action: Box::new(Action::run(
                Command::new("ln")
                    .sudo()
                    .flag("-sfn")
                    .operand(&default_path)
                    .operand(link),
            )),
        });
    }
    apply.push(vhost_apply);
    check.extend(vhost_check.into_iter().skip(1));
    let title = if suspended {
        format!("Serve the suspended page for {}", site.domain)
    } else {
        format!("Configure the nginx vhost for {}", site.domain)
    };
    let mut step = Step::new(title);
    step.verify = check.clone();
    step.check = check;
    step.apply = apply;
    step
}
