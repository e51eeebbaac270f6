//! The SELinux steps of a site: its files get the policy module's types at the site's own MCS
//! categories, as local file-context rules (`semanage fcontext -a -t TYPE -r s0:cX,cY`) and a
//! `restorecon`, so every later relabel keeps them (`chcon` would be undone by the next one).
//! On a node where SELinux is off the steps say so and change nothing.

use crate::domain::AppType;
use crate::ssh::Command;

use super::{Action, Probe, SiteSpec, Step, tenant};

/// Why the SELinux steps do nothing on a node.
pub const DISABLED: &str = "SELinux disabled";

/// The lock every change to a node's policy store is made under (in the SSH user's home):
/// `semanage`, `semodule -i` and `setsebool -P` fail at once when another holds the store, and
/// two sites created together would each run one.
pub const STORE_LOCK: &str = ".panel-selinux.lock";

/// One local file-context rule: files matching `regex` get `setype` at the site's level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub regex: String,
    pub setype: &'static str,
    /// A path the rule is the best match for, to ask `matchpathcon` about.
    pub sample: String,
}

/// The site's rules, most general first: local rules added later win over earlier ones.
pub fn rules(site: &SiteSpec) -> Vec<Rule> {
    let home = site.user.home();
    let mut rules = vec![
        // Everything under the home, the home itself included: code and static files.
        Rule {
            regex: format!("{home}(/.*)?"),
            setype: "site_content_t",
            sample: home.clone(),
        },
        // What the site's PHP alone writes: storage, sessions and uploads in progress, its
        // error log. nginx's domain has no rule for this type.
        Rule {
            regex: format!("{home}/(storage|tmp|logs)(/.*)?"),
            setype: "laravel_app_rw_t",
            sample: format!("{home}/storage"),
        },
    ];
    if site.app_type == AppType::WordPress {
        // What its PHP writes and nginx serves: the media library (shared by deployed releases
        // as `~/uploads`, or in place in a site without deploys).
        rules.push(Rule {
            regex: format!("{home}/(uploads|public_html/wp-content/uploads)(/.*)?"),
            setype: "site_upload_t",
            sample: format!("{home}/uploads"),
        });
    }
    if site.app_type == AppType::Laravel {
        rules.push(Rule {
            regex: format!("{home}/public_html/(storage|bootstrap/cache)(/.*)?"),
            setype: "laravel_app_rw_t",
            sample: format!("{home}/public_html/bootstrap/cache"),
        });
        // The same in every deployed release (`deploy/releases/ID/`).
        rules.push(Rule {
            regex: format!("{home}/deploy/releases/[^/]+/bootstrap/cache(/.*)?"),
            setype: "laravel_app_rw_t",
            sample: format!("{home}/deploy/releases/01ARZ3NDEKTSV4RRFFQ69G5FAV/bootstrap/cache"),
        });
    }
    // The secrets: the site's PHP reads them, nginx's domain has no rule for this type.
    rules.push(Rule {
        regex: format!("{home}/\\.env"),
        setype: "laravel_app_env_t",
        sample: format!("{home}/.env"),
    });
    rules
}

pub(crate) fn enabled() -> Probe {
    Probe::ok(Command::new("selinuxenabled"))
}

/// The context a rule gives its sample path, e.g. `system_u:object_r:site_content_t:s0:c100,c101`.
pub fn context(rule: &Rule, site: &SiteSpec) -> String {
    format!("system_u:object_r:{}:{}", rule.setype, site.mcs)
}

/// Asked as the site user: `matchpathcon` resolves the path (`realpath`) on its way to the
/// rules, and the samples lie in the site's home, where the site user can plant links.
fn matches(rule: &Rule, site: &SiteSpec) -> Probe {
    Probe::output(
        Command::new("matchpathcon")
            .sudo_as_site(&site.user)
            .flag("-n")
            .operand(&rule.sample),
        context(rule, site),
    )
}

/// `semanage fcontext` adding (or, if one exists, changing) a rule.
pub fn fcontext(op: &'static str, rule: &Rule, site: &SiteSpec) -> Command {
    Command::new("semanage")
        .locked(STORE_LOCK)
        .sudo()
        .flag("fcontext")
        .flag(op)
        .flag("-t")
        .value(rule.setype)
        .flag("-r")
        .value(site.mcs.level())
        .operand(&rule.regex)
}

/// Relabel the site's files: root the home itself (root's), the site user everything inside
/// it (see `tenant`: root never walks a tree the site user can rearrange under it).
fn restorecon(site: &SiteSpec) -> Action {
    Action::Sequence(vec![
        Action::run(
            Command::new("restorecon")
                .sudo()
                .flag("-F")
                .operand(site.user.home()),
        ),
        Action::run(tenant::relabel_inside(&site.user)),
    ])
}

/// Where SELinux is on, relabel a file just written in a site's home: `install -Z` gives the
/// file its rule's type but the writer's level, so the site's categories come from restorecon.
/// Run by the site user (the file is its own): root relabelling a name the site user can swap
/// for a hard link would label whatever inode it points at.
pub(crate) fn relabel_written(site: &SiteSpec, path: &str) -> Action {
    Action::when(
        enabled(),
        Action::run(tenant::relabel(&site.user, &[path.to_owned()])),
    )
}

/// Passes when every file of the site already carries the label its rule gives it.
fn labelled(site: &SiteSpec) -> Vec<Probe> {
    vec![
        Probe::output(
            Command::new("restorecon")
                .sudo()
                .flag("-F")
                .flag("-n")
                .flag("-v")
                .operand(site.user.home()),
            "",
        ),
        tenant::labelled_inside(&site.user),
    ]
}

/// `semanage import`: several changes in one transaction. Each `semanage` call rebuilds the
/// policy store (about 15 s on a small server, far more under emulation), so a site's rules go
/// in together: all of them, or none.
fn import(lines: &[String]) -> Action {
    Action::run_with(
        Command::new("semanage")
            .locked(STORE_LOCK)
            .sudo()
            .flag("import")
            .flag("-f")
            .flag("-"),
        lines.join("\n") + "\n",
        false,
    )
}

/// One `semanage import` line adding a rule. The regex is a site path (letters, digits, `/`,
/// `.`, regex syntax), never a quote.
fn import_add(rule: &Rule, site: &SiteSpec) -> String {
    debug_assert!(!rule.regex.contains('\''));
    format!(
        "fcontext -a -t {} -r {} '{}'",
        rule.setype,
        site.mcs.level(),
        rule.regex
    )
}

/// The site's local rules in place. A new site (its first, most general rule missing) gets
/// them all in one transaction; then each rule still missing or different (a repair, or an
/// import that failed because some existed) is added or changed on its own.
pub(crate) fn ensure_rules(site: &SiteSpec) -> Vec<Action> {
    let rules = rules(site);
    let lines: Vec<String> = rules.iter().map(|r| import_add(r, site)).collect();
    let mut out = vec![Action::unless(
        matches(&rules[0], site),
        // A failed import changed nothing: the rules below repair what is missing.
        Action::or_else(import(&lines), Action::run(Command::new("true"))),
    )];
    out.extend(rules.iter().map(|r| {
        Action::unless(
            matches(r, site),
            Action::or_else(
                Action::run(fcontext("-a", r, site)),
                Action::run(fcontext("-m", r, site)),
            ),
        )
    }));
    out
}

/// Label the site's files with its types and categories.
pub fn label_step(site: &SiteSpec) -> Step {
    let rules = rules(site);
    let mut step = Step::new(format!("Label the site's files for SELinux ({})", site.mcs));
    step.only_if = Some((enabled(), DISABLED.to_owned()));
    step.check = rules.iter().map(|r| matches(r, site)).collect();
    step.check.extend(labelled(site));
    step.apply = ensure_rules(site);
    step.apply.push(restorecon(site));
    step.verify = step.check.clone();
    step
}

/// Label what a deployment wrote (its release, the shared storage it seeded) with the site's
/// types and categories: files a deploy script creates carry its own level until relabelled.
/// `paths` are entries of the home, relabelled by the site user.
pub fn label_release_step(site: &SiteSpec, paths: &[String]) -> Step {
    let mut step = Step::new(format!("Label the release for SELinux ({})", site.mcs));
    step.only_if = Some((enabled(), DISABLED.to_owned()));
    step.apply = ensure_rules(site);
    step.apply
        .push(Action::run(tenant::relabel(&site.user, paths)));
    step
}

/// Remove the site's rules (its pair goes back to the pool) and relabel what is left of its
/// files, so a later site given the same pair cannot read them. All the rules go in one
/// transaction when all are there; any left after that (a partial state) one by one.
pub fn unlabel_step(site: &SiteSpec) -> Step {
    let rules = rules(site);
    let mut step = Step::new(format!("Remove the site's SELinux labels ({})", site.mcs));
    step.only_if = Some((enabled(), DISABLED.to_owned()));
    let lines: Vec<String> = rules
        .iter()
        .map(|r| format!("fcontext -d '{}'", r.regex))
        .collect();
    step.apply = vec![Action::when(
        matches(&rules[0], site),
        Action::or_else(import(&lines), Action::run(Command::new("true"))),
    )];
    step.apply.extend(rules.iter().rev().map(|r| {
        Action::when(
            matches(r, site),
            Action::run(
                Command::new("semanage")
                    .locked(STORE_LOCK)
                    .sudo()
                    .flag("fcontext")
                    .flag("-d")
                    .operand(&r.regex),
            ),
        )
    }));
    step.apply.push(Action::when(
        Probe::ok(Command::new("test").flag("-d").value(site.user.home())),
        restorecon(site),
    ));
    step
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::McsPair;
    use crate::domain::{PhpVersion, SiteDomain, SiteUser};

    fn site(app_type: AppType) -> SiteSpec {
        SiteSpec {
            domain: SiteDomain::parse("a.example.com").unwrap(),
            aliases: Vec::new(),
            app_type,
            php: PhpVersion::V83,
            user: SiteUser::numbered(7),
            database: None,
            env: Vec::new(),
            mcs: McsPair::parse("s0:c100,c105").unwrap(),
            tls: None,
            php_ini: Default::default(),
            redirects: Vec::new(),
            nginx_custom: None,
        }
    }

    #[test]
    fn rules_cover_the_layout_with_the_sites_level() {
        let s = site(AppType::Laravel);
        let r = rules(&s);
        assert_eq!(r[0].regex, "/home/web7(/.*)?");
        assert_eq!(r.last().unwrap().regex, "/home/web7/\\.env");
        assert_eq!(
            fcontext("-a", &r[1], &s).to_string(),
            "'flock' '-o' '-w' '900' '.panel-selinux.lock' 'sudo' '-n' '--' 'semanage' 'fcontext' '-a' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c105' '--' '/home/web7/(storage|tmp|logs)(/.*)?'"
        );
        assert!(r.iter().any(|x| x.sample.ends_with("bootstrap/cache")));
        assert!(
            !rules(&site(AppType::Generic))
                .iter()
                .any(|x| x.sample.ends_with("bootstrap/cache"))
        );
    }
}
