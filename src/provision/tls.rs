//! HTTPS on a node: publishing ACME HTTP-01 challenges, installing a site's certificate and
//! key with nginx's TLS settings, and removing them. Every path here is root's (the challenge
//! directory under `templates::ACME_ROOT`, the certificates under `templates::TLS_DIR`), never
//! one a site user can change.

use super::service::Driver;
use super::steps::{https_status, mkdir, nginx_diagnosis, rm};
use super::vhost::{nginx_file, vhost_step};
use super::{Action, FileWrite, Plan, Probe, Profile, SiteSpec, SiteTls, Step, templates};
use crate::ssh::Command;

/// A challenge token as it may name a file: base64url, bounded (RFC 8555 §8.3). The CA's word
/// is not trusted to stay inside the challenge directory otherwise.
pub fn valid_token(token: &str) -> bool {
    (16..=128).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn challenge_dir(site: &SiteSpec) -> String {
    format!(
        "{}/.well-known/acme-challenge",
        templates::acme_dir(site.user.as_str())
    )
}

fn reload(driver: Driver) -> Step {
    let mut step = Step::new("Reload nginx");
    step.apply = vec![driver.reload_nginx()];
    step.diagnose = nginx_diagnosis();
    step
}

/// Publish `challenges` (token, key authorization) for the site: the challenge directory, the
/// files, a vhost that serves them, and nginx reloaded; verified by fetching each one locally.
pub fn publish(
    profile: Profile,
    driver: Driver,
    site: &SiteSpec,
    suspended: bool,
    challenges: &[(String, String)],
) -> Plan {
    let user = site.user.as_str();
    let dir = challenge_dir(site);
    let mut files = Step::new(format!("Publish the ACME challenges for {}", site.domain));
    files.apply.push(mkdir(
        "0755",
        "root",
        "root",
        &[
            templates::ACME_ROOT.to_owned(),
            templates::acme_dir(user),
            format!("{}/.well-known", templates::acme_dir(user)),
            dir.clone(),
        ],
    ));
    // A token that could name anything but a file in the challenge directory is never written
    // (the job refuses such a CA before it gets here).
    for (token, key_authorization) in challenges.iter().filter(|(t, _)| valid_token(t)) {
        files.apply.push(Action::Write(FileWrite::new(
            format!("{dir}/{token}"),
            "0644",
            "root",
            key_authorization.clone(),
        )));
    }
    let mut reload = reload(driver);
    reload.verify = challenges
        .iter()
        .filter(|(t, _)| valid_token(t))
        .map(|(token, key_authorization)| {
            Probe::output(
                Command::new("curl")
                    .flag("-sS")
                    .flag("--max-time")
                    .flag("5")
                    .flag("-H")
                    .value(format!("Host: {}", site.domain))
                    .operand(format!(
                        "http://127.0.0.1/.well-known/acme-challenge/{token}"
                    )),
                key_authorization.clone(),
            )
            .waiting()
        })
        .collect();
    Plan {
        title: format!("Publish ACME challenges for {}", site.domain),
        profile,
        driver,
        steps: vec![files, vhost_step(profile, site, suspended), reload],
    }
}

/// Remove published challenge files (the directory stays for the next renewal).
pub fn unpublish(profile: Profile, driver: Driver, site: &SiteSpec, tokens: &[String]) -> Plan {
    let dir = challenge_dir(site);
    let mut step = Step::new(format!("Remove the ACME challenges for {}", site.domain));
    step.apply = vec![rm(&tokens
        .iter()
        .map(|t| format!("{dir}/{t}"))
        .collect::<Vec<_>>())];
    Plan {
        title: step.title.clone(),
        profile,
        driver,
        steps: vec![step],
    }
}

/// Install the site's certificate chain and key, nginx's TLS settings, and the vhost with its
/// HTTPS server; nginx reloaded and asked for the site over HTTPS.
pub fn install(
    profile: Profile,
    driver: Driver,
    site: &SiteSpec,
    suspended: bool,
    tls: SiteTls,
    chain_pem: &str,
    key_pem: &str,
) -> Plan {
    let user = site.user.as_str();
    let site = SiteSpec {
        tls: Some(tls),
        ..site.clone()
    };
    let mut files = Step::new(format!("Install the certificate of {}", site.domain));
    let cert = FileWrite::new(
        templates::tls_cert_path(user),
        "0644",
        "root",
        chain_pem.to_owned(),
    );
    let key = FileWrite::new(
        templates::tls_key_path(user),
        "0600",
        "root",
        key_pem.to_owned(),
    )
    .sensitive();
    files.check = vec![cert.unchanged(), key.unchanged()];
    files.apply = vec![
        mkdir("0700", "root", "root", &[templates::TLS_DIR.to_owned()]),
        Action::Write(cert),
        Action::Write(key),
    ];
    files.verify = files.check.clone();

    let mut settings = Step::new("Refuse HTTPS for names no site serves");
    let (check, write) = nginx_file(
        FileWrite::new(
            format!("/etc/nginx/conf.d/{}.conf", templates::TLS_SETTINGS_NAME),
            "0644",
            "root",
            templates::tls_settings(),
        ),
        None,
    );
    settings.check = check.clone();
    settings.apply = vec![write];
    settings.verify = check;

    let mut reload = reload(driver);
    reload.verify = vec![
        Probe::one_of(
            https_status(&site.domain),
            vec!["200", "301", "302", "401", "403", "404", "503"],
        )
        .waiting(),
    ];
    Plan {
        title: format!("Install the certificate of {}", site.domain),
        profile,
        driver,
        steps: vec![
            files,
            settings,
            vhost_step(profile, &site, suspended),
            reload,
        ],
    }
}

/// Serve the site without HTTPS again and remove its certificate and key.
pub fn remove(profile: Profile, driver: Driver, site: &SiteSpec, suspended: bool) -> Plan {
    let user = site.user.as_str();
    let plain = SiteSpec {
        tls: None,
        ..site.clone()
    };
    let mut files = Step::new(format!("Remove the certificate of {}", site.domain));
    files.apply = vec![rm(&[
        templates::tls_cert_path(user),
        templates::tls_key_path(user),
    ])];
    Plan {
        title: format!("Remove the certificate of {}", site.domain),
        profile,
        driver,
        steps: vec![
            vhost_step(profile, &plain, suspended),
            reload(driver),
            files,
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_base64url_tokens_name_files() {
        assert!(valid_token("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"));
        assert!(!valid_token("../../etc/passwd-aaaaaaaaaaaaa"));
        assert!(!valid_token("short"));
        assert!(!valid_token("a/b_cccccccccccccccccc"));
    }
}
