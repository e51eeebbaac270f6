//! The deploy and rollback plans. A deploy fetches a commit into a new release directory, links
//! the site's shared `.env` and storage into it, runs the site's deploy script there, labels it
//! for SELinux, switches the served path to it in one rename and reloads the site's PHP-FPM;
//! then old releases beyond the number to keep are removed. Everything that touches the
//! release runs as the site's own user (`setup/deploy.sh` phases via `sudo -u webN`); root only
//! prepares the directories, writes the deploy key to a tmpfs and, once, turns `public_html`
//! into a link. A failure before the switch leaves the live release serving.

use std::time::Duration;

use crate::domain::{AppType, DeployScript, GitBranch, KeepReleases, RepoUrl, SiteUser, Transport};
use crate::ids::DeploymentId;
use crate::ssh::Command;

use super::steps::{is_link, mkdir, nginx_diagnosis, serving, stat};
use super::{Action, Driver, FileWrite, Plan, Probe, Profile, SiteSpec, Step, selinux, tenant};

/// The phases that run as the site user, shipped with the panel.
pub const DEPLOY_SCRIPT: &str = include_str!("../../setup/deploy.sh");
const DEPLOY_SCRIPT_NAME: &str = "setup/deploy.sh";
pub use super::tenant::RUNTIME_DIR;
/// Longest a fetch may take (a large repository over a slow link).
const FETCH_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Longest a deploy script may run (Composer installs, asset builds).
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Where a site's deployments live on its server.
#[derive(Clone, Debug)]
pub struct Layout {
    pub home: String,
    /// `~/deploy`, the site user's: releases and the `current` link.
    pub deploy: String,
    pub releases: String,
    pub current: String,
    /// The git host's confirmed keys, written for each deploy next to the key (the site user
    /// cannot make its deploys trust another host).
    pub known_hosts: String,
    /// What nginx serves: a link to `deploy/current` once the site has been deployed.
    pub public_html: String,
    /// Where the first deploy moves what `public_html` held before (an entry of the home, like
    /// `public_html`: root renames one into the other, nothing the site user can redirect).
    pub before_first_deploy: String,
    pub runtime: String,
    pub key: String,
    pub script: String,
}

impl Layout {
    pub fn of(user: &SiteUser) -> Self {
        let home = user.home();
        let deploy = format!("{home}/deploy");
        let runtime = format!("{RUNTIME_DIR}/{user}");
        Self {
            releases: format!("{deploy}/releases"),
            current: format!("{deploy}/current"),
            known_hosts: format!("{runtime}/known_hosts"),
            public_html: format!("{home}/public_html"),
            before_first_deploy: format!("{home}/public_html.before-first-deploy"),
            key: format!("{runtime}/key"),
            script: format!("{runtime}/deploy-script"),
            deploy,
            runtime,
            home,
        }
    }

    pub fn release(&self, id: DeploymentId) -> String {
        format!("{}/{id}", self.releases)
    }
}

/// A phase of `setup/deploy.sh` as the site user: `sudo -u webN bash -s -- PHASE ARGS…`.
fn phase(user: &SiteUser, name: &'static str, args: &[&str]) -> Action {
    let command = Command::new("bash")
        .sudo_as_site(user)
        .flag("-s")
        .operand(name)
        .operands(args);
    Action::run_script(command, DEPLOY_SCRIPT_NAME, DEPLOY_SCRIPT)
}

/// Where a link of the site points, asked as whoever may act there (`tenant`).
fn readlink(site: &SiteSpec, path: &str, target: impl Into<String>) -> Probe {
    tenant::readlink(&site.user, path, target)
}

fn exists(site: &SiteSpec, path: &str) -> Probe {
    tenant::exists(&site.user, path)
}

/// What a deployment puts on the node.
#[derive(Clone, Debug)]
pub struct DeploySpec<'a> {
    pub site: &'a SiteSpec,
    /// The new release's name: the deployment's id.
    pub release: DeploymentId,
    pub url: &'a RepoUrl,
    pub branch: &'a GitBranch,
    /// The deploy key's private half (an ssh repository).
    pub deploy_key: Option<&'a str>,
    /// The git host's confirmed keys as known_hosts lines (an ssh repository).
    pub known_hosts: Option<&'a str>,
    pub script: &'a DeployScript,
    pub keep: KeepReleases,
}

/// A deploy plan, and where in it the steps the job reads are.
#[derive(Clone, Debug)]
pub struct DeployPlan {
    pub plan: Plan,
    /// The fetch prints `commit=` and `subject=`.
    pub fetch: usize,
    /// Once this step is done the new release is live.
    pub switch: usize,
    /// The prune prints `pruned=` for each release it removed.
    pub prune: usize,
}

/// Step: directories, and the script and key the next steps use.
fn prepare_step(d: &DeploySpec<'_>, l: &Layout) -> Step {
    let user = d.site.user.as_str();
    let mut step = Step::new(format!("Prepare release {}", d.release));
    step.apply = tenant::mkdir(
        &d.site.user,
        "0755",
        &[l.deploy.clone(), l.releases.clone()],
    );
    step.apply.extend([
        mkdir("0711", "root", "root", &[RUNTIME_DIR.to_owned()]),
        mkdir("0750", "root", user, std::slice::from_ref(&l.runtime)),
        Action::Write(FileWrite::new(
            l.script.clone(),
            "0500",
            user,
            d.script.as_str().to_owned(),
        )),
    ]);
    let mut expected = format!("root 750\n{user} 500");
    let mut paths = vec![l.runtime.clone(), l.script.clone()];
    if let Some(key) = d.deploy_key {
        step.apply.push(Action::Write(
            FileWrite::new(l.key.clone(), "0400", user, key.to_owned()).sensitive(),
        ));
        expected.push_str(&format!("\n{user} 400"));
        paths.push(l.key.clone());
    }
    if let Some(hosts) = d.known_hosts {
        step.apply.push(Action::Write(FileWrite::new(
            l.known_hosts.clone(),
            "0400",
            user,
            hosts.to_owned(),
        )));
        expected.push_str(&format!("\n{user} 400"));
        paths.push(l.known_hosts.clone());
    }
    step.verify = vec![Probe::output(stat("%U %a", &paths), expected)];
    step
}

/// Step: the branch's newest commit, cloned into the release directory.
fn fetch_step(d: &DeploySpec<'_>, l: &Layout) -> Step {
    let release = l.release(d.release);
    let key = match d.url.transport() {
        Transport::Ssh => l.key.as_str(),
        Transport::Https => "",
    };
    let mut step = Step::new(format!("Fetch {} from {}", d.branch, d.url));
    step.apply = vec![phase(
        &d.site.user,
        "fetch",
        &[
            &release,
            d.url.as_str(),
            d.branch.as_str(),
            key,
            &l.known_hosts,
        ],
    )];
    step.verify = vec![exists(d.site, &format!("{release}/.git"))];
    step.timeout = Some(FETCH_TIMEOUT);
    step
}

/// Step: the shared `.env` and storage linked into the release.
fn link_step(d: &DeploySpec<'_>, l: &Layout) -> Step {
    let release = l.release(d.release);
    let mut step = Step::new("Link the shared .env and storage");
    step.apply = vec![phase(
        &d.site.user,
        "link",
        &[&release, &l.home, d.site.app_type.as_str()],
    )];
    step.verify = vec![readlink(
        d.site,
        &format!("{release}/.env"),
        format!("{}/.env", l.home),
    )];
    step
}

/// Step: the site's deploy script, in the release, as the site user.
fn build_step(profile: Profile, d: &DeploySpec<'_>, l: &Layout) -> Step {
    let release = l.release(d.release);
    let id = d.release.to_string();
    let mut step = Step::new("Run the deploy script");
    step.apply = vec![phase(
        &d.site.user,
        "build",
        &[
            &release,
            &l.script,
            d.branch.as_str(),
            d.site.domain.as_str(),
            d.site.user.as_str(),
            &l.home,
            d.site.app_type.as_str(),
            profile.php_cli(d.site.php),
            &id,
        ],
    )];
    step.timeout = Some(BUILD_TIMEOUT);
    step
}

/// Step: `deploy/current` points at `release`; the first time, `public_html` becomes a link
/// to it (what it held is kept beside it, in `public_html.before-first-deploy`: both are
/// entries of the root-owned home, so root renames them without following anything).
fn switch_step(site: &SiteSpec, l: &Layout, release: DeploymentId) -> Step {
    let id = release.to_string();
    let served = readlink(site, &l.public_html, "deploy/current");
    let mut step = Step::new(format!("Switch to release {release}"));
    step.apply = vec![
        phase(&site.user, "activate", &[&l.deploy, &id]),
        Action::unless(
            served.clone(),
            Action::Sequence(vec![
                Action::unless(
                    is_link(&l.public_html),
                    Action::run(
                        Command::new("mv")
                            .sudo()
                            .flag("-T")
                            .operand(&l.public_html)
                            .operand(&l.before_first_deploy),
                    ),
                ),
                Action::run(
                    Command::new("ln")
                        .sudo()
                        .flag("-sfn")
                        .operand("deploy/current")
                        .operand(&l.public_html),
                ),
            ]),
        ),
    ];
    // The link is the site user's (root made it, in root's home): nginx follows a link only
    // to what the link's owner owns (`disable_symlinks if_not_owner`).
    let user = site.user.as_str();
    let owned = Probe::output(stat("%U", std::slice::from_ref(&l.public_html)), user);
    step.apply.push(Action::unless(
        owned.clone(),
        Action::run(
            Command::new("chown")
                .sudo()
                .flag("-h")
                .value(format!("{user}:{user}"))
                .operand(&l.public_html),
        ),
    ));
    step.verify = vec![
        readlink(site, &l.current, format!("releases/{release}")),
        served,
        owned,
    ];
    step
}

/// Step: the site's PHP-FPM reloaded (workers start again in the new release; running requests
/// finish in the old one), a WordPress page cache emptied, then the site must answer.
fn reload_step(profile: Profile, driver: Driver, site: &SiteSpec) -> Step {
    let mut step = Step::new("Reload PHP-FPM");
    step.apply = vec![driver.reload_site_fpm(profile, site)];
    if site.app_type == AppType::WordPress {
        let cache = profile.fastcgi_cache_dir(site.user.as_str());
        step.apply.push(Action::run(
            Command::new("rm").sudo().flag("-rf").operand(&cache),
        ));
        step.apply.push(mkdir(
            "0700",
            profile.nginx_user(),
            "root",
            std::slice::from_ref(&cache),
        ));
    }
    step.verify = serving(site);
    step.diagnose = nginx_diagnosis();
    step
}

/// The plan of one deploy.
pub fn deploy(profile: Profile, driver: Driver, d: &DeploySpec<'_>) -> DeployPlan {
    let l = Layout::of(&d.site.user);
    // Relabelled by the site user from entries of the home down: the new release under
    // `deploy/` and the shared files it may have seeded (WordPress: `uploads/`).
    let shared = match d.site.app_type {
        AppType::WordPress => format!("{}/uploads", l.home),
        _ => format!("{}/storage", l.home),
    };
    let mut prune = Step::new(format!("Keep the last {} releases", d.keep.get()));
    prune.apply = vec![phase(
        &d.site.user,
        "prune",
        &[&l.deploy, &d.keep.get().to_string()],
    )];
    let steps = vec![
        prepare_step(d, &l),
        fetch_step(d, &l),
        link_step(d, &l),
        build_step(profile, d, &l),
        selinux::label_release_step(d.site, &[l.deploy.clone(), shared]),
        switch_step(d.site, &l, d.release),
        reload_step(profile, driver, d.site),
        super::workers::deploy_restart_step(driver, d.site),
        prune,
    ];
    DeployPlan {
        plan: Plan {
            title: format!(
                "deploy {} ({} of {}) as release {}",
                d.site.domain, d.branch, d.url, d.release
            ),
            profile,
            driver,
            steps,
        },
        fetch: 1,
        switch: 5,
        prune: 8,
    }
}

/// Switch back to a kept release: no fetch, no script.
pub fn rollback(profile: Profile, driver: Driver, site: &SiteSpec, release: DeploymentId) -> Plan {
    let l = Layout::of(&site.user);
    let mut check = Step::new(format!("Find release {release} on the server"));
    check.verify = vec![exists(site, &l.release(release))];
    Plan {
        title: format!("roll {} back to release {release}", site.domain),
        profile,
        driver,
        steps: vec![
            check,
            switch_step(site, &l, release),
            reload_step(profile, driver, site),
            super::workers::deploy_restart_step(driver, site),
        ],
    }
}

/// After every deploy, whatever happened: the key and script go; a release that never went live
/// (or was switched away from because it failed) goes too.
pub fn cleanup(
    profile: Profile,
    driver: Driver,
    site: &SiteSpec,
    unused: Option<DeploymentId>,
) -> Plan {
    let l = Layout::of(&site.user);
    let mut secrets = Step::new("Remove the deploy key and script");
    secrets.apply = vec![Action::run(
        Command::new("rm").sudo().flag("-rf").operand(&l.runtime),
    )];
    secrets.verify = vec![Probe::ok(
        Command::new("test").flag("!").flag("-e").value(&l.runtime),
    )];
    let mut steps = vec![secrets];
    if let Some(release) = unused {
        let id = release.to_string();
        let mut remove = Step::new(format!("Remove the unused release {release}"));
        remove.apply = vec![Action::when(
            exists(site, &l.release(release)),
            phase(&site.user, "remove", &[&l.deploy, &id]),
        )];
        steps.push(remove);
    }
    Plan {
        title: format!("clean up after deploying {}", site.domain),
        profile,
        driver,
        steps,
    }
}

/// The values a fetch step printed: the commit and its subject line (untrusted: bounded, no
/// control characters).
pub fn fetched(stdout: &str) -> (Option<String>, Option<String>) {
    let mut commit = None;
    let mut subject = None;
    for line in stdout.lines() {
        if let Some(c) = line.strip_prefix("commit=") {
            commit = crate::domain::CommitHash::parse(c)
                .ok()
                .map(|c| c.as_str().to_owned());
        } else if let Some(s) = line.strip_prefix("subject=") {
            subject = Some(crate::domain::untrusted_text(s, 200));
        }
    }
    (commit, subject)
}

/// The releases a prune step removed.
pub fn pruned(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("pruned="))
        .filter(|r| r.parse::<DeploymentId>().is_ok())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::McsPair;
    use crate::domain::{PhpVersion, SiteDomain};
    use crate::provision::render;

    fn site() -> SiteSpec {
        SiteSpec {
            domain: SiteDomain::parse("shop.example.com").unwrap(),
            aliases: Vec::new(),
            app_type: AppType::Laravel,
            php: PhpVersion::V83,
            user: SiteUser::numbered(4),
            database: None,
            env: Vec::new(),
            mcs: McsPair::parse("s0:c100,c101").unwrap(),
            tls: None,
            php_ini: Default::default(),
            redirects: Vec::new(),
            nginx_custom: None,
        }
    }

    #[test]
    fn values_reach_the_node_as_quoted_arguments_of_the_site_user() {
        let s = site();
        let url = RepoUrl::parse("git@github.com:o/r.git").unwrap();
        let branch = GitBranch::parse("release/1.x").unwrap();
        let script = DeployScript::parse("echo \"$BRANCH\" $(id) `id`\n").unwrap();
        let d = DeploySpec {
            site: &s,
            release: "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap(),
            url: &url,
            branch: &branch,
            deploy_key: Some(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nPRIVATEBODY\n-----END OPENSSH PRIVATE KEY-----",
            ),
            known_hosts: Some(
                "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
            ),
            script: &script,
            keep: KeepReleases::DEFAULT,
        };
        let p = deploy(
            Profile::new(crate::domain::OsVersion::Alma9),
            Driver::Systemd,
            &d,
        );
        let fetch = render::step_body(&p.plan.steps[p.fetch], 2);
        assert!(
            fetch.contains("'setpriv' '--reuid=web4' '--regid=web4' '--init-groups' '--' 'env' '-i' 'HOME=/home/web4' 'USER=web4' 'LOGNAME=web4' 'SHELL=/usr/sbin/nologin' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'bash' '-s' '--' 'fetch' '/home/web4/deploy/releases/01ARZ3NDEKTSV4RRFFQ69G5FAV' 'git@github.com:o/r.git' 'release/1.x' '/run/panel-deploy/web4/key' '/run/panel-deploy/web4/known_hosts'"),
            "{fetch}"
        );
        let build = render::step_body(&p.plan.steps[3], 4);
        assert!(
            build.contains("'/opt/remi/php83/root/usr/bin/php'"),
            "{build}"
        );
        // The script is a file's content (single-quoted on stdin), never a command line.
        let prepare = render::step_body(&p.plan.steps[0], 1);
        assert!(
            prepare.contains("printf '%s' 'echo \"$BRANCH\" $(id) `id`\n' | 'install'"),
            "{prepare}"
        );
        // The key never appears in the job's log text.
        let text = render::text(&p.plan);
        assert!(!text.contains("PRIVATEBODY"), "{text}");
        assert!(!render::step_text(&p.plan.steps[0]).contains("PRIVATEBODY"));
        assert!(text.contains("< setup/deploy.sh on stdin"), "{text}");
        assert_eq!(
            p.plan.steps[p.switch].title,
            "Switch to release 01ARZ3NDEKTSV4RRFFQ69G5FAV"
        );
        assert!(p.plan.steps[p.prune].title.starts_with("Keep the last 5"));
    }

    #[test]
    fn https_repositories_get_no_key() {
        let s = site();
        let url = RepoUrl::parse("https://github.com/laravel/laravel.git").unwrap();
        let branch = GitBranch::parse("main").unwrap();
        let script = DeployScript::parse("").unwrap();
        let d = DeploySpec {
            site: &s,
            release: "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap(),
            url: &url,
            branch: &branch,
            deploy_key: None,
            known_hosts: None,
            script: &script,
            keep: KeepReleases::DEFAULT,
        };
        let p = deploy(
            Profile::new(crate::domain::OsVersion::Debian12),
            Driver::Direct,
            &d,
        );
        let fetch = render::step_body(&p.plan.steps[p.fetch], 2);
        assert!(
            fetch.contains("'main' '' '/run/panel-deploy/web4/known_hosts'"),
            "{fetch}"
        );
        assert!(!render::step_body(&p.plan.steps[0], 1).contains("/run/panel-deploy/web4/key"));
    }

    #[test]
    fn fetch_and_prune_output_is_read_as_data() {
        let (c, s) =
            fetched("commit=0123456789ABCDEF0123456789abcdef01234567\nsubject=fix \u{1b}[2J`id`\n");
        assert_eq!(
            c.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(s.as_deref(), Some("fix [2J`id`"));
        assert_eq!(fetched("commit=HEAD\n").0, None);
        assert_eq!(
            pruned("pruned=01ARZ3NDEKTSV4RRFFQ69G5FAV\npruned=../../etc\nother\n"),
            ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]
        );
    }
}
