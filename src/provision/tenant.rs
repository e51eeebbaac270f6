//! The hostile-tenant rule, in one place: **root never operates on a path a site user can
//! change.** A site's home is root's (`root:webN 0750`), so the site user cannot add, remove or
//! swap the home's own entries (`public_html`, `storage`, `.env`, `deploy`, …); everything
//! below those is the site user's to replace — with a link to `/etc/cron.d`, a FIFO, a loop.
//! So root acts only on the home and its direct children (and outside the home); deeper, the
//! site user acts itself (`sudo -u webN`), where the worst a planted link can do is point the
//! site user at what it could already reach. The plans build their site paths with these
//! helpers, and `root_violations` checks every rendered plan in the tests.
//!
//! A direct child may itself be a link root made whose target the site user controls: a deployed
//! site's `public_html` points at `deploy/current`, which the site user can repoint at
//! `/etc/cron.d`. So root never makes a directory (`install -d` follows a link) at a direct
//! child without first checking, without following, that it is not a link (`stat -c %F`);
//! the other root commands there do not follow a final link (`install` of a file replaces it,
//! `ln -sfn`, `mv -T`, `rm -f`, `chown -h`, `stat` without `-L`); anything that would (a hash
//! of `.env`) runs as the site user.
//!
//! One root operation walks down from the home: `rm -rf`, which descends through open
//! directories and never resolves a path twice. `restorecon -R` does not (it relabels each file
//! by its full path, so a directory swapped for a link mid-walk would send it into `/etc`):
//! root relabels the home itself, and the site user relabels what lies inside (`relabel_inside`).
//! Reads count too: root never `stat`s or hashes a path below an entry. The site user cannot
//! plant a hard link to another owner's file (`fs.protected_hardlinks`, which setup.sh sets).

use crate::domain::SiteUser;
use crate::ssh::Command;

use super::{Action, DbSpec, FileWrite, Plan, Probe, SiteSpec, Step, sql};

/// Where a deploy keeps its key and script while it runs: a tmpfs, root's, 0711, with one
/// directory per site user inside, `root:webN 0750` like the home (root writes the files in it,
/// so their names must not be the site user's to swap; the files themselves are the site
/// user's, 0400/0500). Neither the site's PHP (open_basedir, SELinux) nor another site can read
/// it, and it never reaches a disk.
pub const RUNTIME_DIR: &str = "/run/panel-deploy";

/// Where the panel records, on the node, the accounts and databases it made, and for which
/// site: only those are ever adopted, changed or removed, and only by that site (a name kept
/// by a deleted site is not handed to the next one). Written before the account (or
/// database) itself, so a failure between the two is retried, never refused.
pub const MARKERS: &str = "/etc/panel/made";

/// The record that an account or a database is the panel's, made for one site.
#[derive(Clone, Debug)]
pub struct Marker {
    pub path: String,
    /// Its one line: `NAME of DOMAIN`.
    pub line: String,
}

impl Marker {
    /// The marker of a site's account.
    pub fn user(site: &SiteSpec) -> Self {
        Marker {
            path: format!("{MARKERS}/user-{}", site.user),
            line: format!("{} of {}", site.user, site.domain),
        }
    }

    /// The marker of a site's database (and its database user).
    pub fn database(site: &SiteSpec, db: &DbSpec) -> Self {
        Marker {
            path: format!("{MARKERS}/{}-{}", db.engine.as_str(), db.name),
            line: format!("{} of {}", db.name, site.domain),
        }
    }

    /// Passes when the marker exists and names this site.
    pub fn is_this_sites(&self) -> Probe {
        Probe::ok(
            Command::new("grep")
                .flag("-qxF")
                .flag("-e")
                .value(&self.line)
                .operand(&self.path),
        )
    }

    /// Write it (root's, in a directory only root may change).
    pub fn write(&self) -> Vec<Action> {
        vec![
            Action::unless(
                Probe::ok(Command::new("test").flag("-d").value(MARKERS)),
                super::steps::mkdir("0755", "root", "root", &[MARKERS.to_owned()]),
            ),
            Action::Write(FileWrite::new(
                self.path.clone(),
                "0644",
                "root",
                format!("{}\n", self.line),
            )),
        ]
    }
}

/// A database or database user of that name that the panel did not make (for this site)
/// stops the plan.
pub fn database_guard(site: &SiteSpec, db: &DbSpec) -> super::Guard {
    super::Guard {
        when: sql::any_exists(db),
        require: Marker::database(site, db).is_this_sites(),
        reason: format!(
            "a {} database or user named {} already exists on this server and was not made by the panel for {}: nothing was changed; choose another database name",
            db.engine.label(),
            db.name,
            site.domain
        ),
    }
}

/// Who acts on a path of a site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Root,
    SiteUser,
}

/// `path` relative to `dir`: `Some("")` for `dir` itself, `Some("a/b")` below it, `None`
/// outside it. A path that is not canonical (`//`, `.`, `..` components) is never taken for
/// the home or one of its entries.
fn below<'a>(dir: &str, path: &'a str) -> Option<&'a str> {
    let rest = path.strip_prefix(dir)?;
    if rest.contains("//") || rest.split('/').any(|c| c == "." || c == "..") {
        return Some("non-canonical/path");
    }
    match rest {
        "" | "/" => Some(""),
        _ => rest.strip_prefix('/').map(|r| r.trim_end_matches('/')),
    }
}

/// `path` relative to the site's directory it lies in: its home or its deploy runtime
/// directory (both `root:webN 0750`).
fn in_site<'a>(site: &SiteUser, path: &'a str) -> Option<&'a str> {
    let runtime = format!("{RUNTIME_DIR}/{site}");
    below(site.home().as_str(), path).or_else(|| below(&runtime, path))
}

/// Who may act on `path`: root outside the site's directories, on each of them and on their
/// direct children (whose names only root can change); the site user anywhere deeper.
pub fn actor(site: &SiteUser, path: &str) -> Actor {
    match in_site(site, path) {
        Some(rel) if rel.contains('/') => Actor::SiteUser,
        _ => Actor::Root,
    }
}

/// A direct child of one of the site's directories: root may act on its name, but it may be a
/// link (root's) to somewhere the site user chooses.
fn direct_child(site: &SiteUser, path: &str) -> bool {
    matches!(in_site(site, path), Some(rel) if !rel.is_empty() && !rel.contains('/'))
}

/// Directories of the site, made with `mode`: by root (owned by the site user) where root may
/// act, by the site user itself (its own) deeper down.
pub fn mkdir(site: &SiteUser, mode: &'static str, paths: &[String]) -> Vec<Action> {
    let user = site.as_str();
    let (root, deep): (Vec<&String>, Vec<&String>) =
        paths.iter().partition(|p| actor(site, p) == Actor::Root);
    let mut out = Vec::new();
    let (children, others): (Vec<&String>, Vec<&String>) =
        root.into_iter().partition(|p| direct_child(site, p));
    if !others.is_empty() {
        out.push(super::steps::mkdir(
            mode,
            user,
            user,
            &others.into_iter().cloned().collect::<Vec<_>>(),
        ));
    }
    // `install -d` follows a link: a direct child that is one (a deployed `public_html`) is
    // left as it is.
    for child in children {
        out.push(Action::unless(
            super::steps::is_link(child),
            super::steps::mkdir(mode, user, user, std::slice::from_ref(child)),
        ));
    }
    if !deep.is_empty() {
        out.push(Action::run(
            Command::new("install")
                .sudo_as_site(site)
                .flag("-d")
                .flag("-Z")
                .flag("-m")
                .value(mode)
                .operands(&deep),
        ));
    }
    out
}

/// A file of the site: written by root for the site user at the top of the home, by the site
/// user itself deeper down.
pub fn file(site: &SiteUser, path: String, mode: &'static str, content: String) -> FileWrite {
    let write = FileWrite::new(path, mode, site.as_str(), content);
    if actor(site, &write.path) == Actor::SiteUser {
        write.as_site(site)
    } else if direct_child(site, &write.path) {
        write.read_as(site)
    } else {
        write
    }
}

/// How a site user relabels what lies in its home (every entry, recursively, never crossing
/// into another file system): `bash -c RELABEL_INSIDE -- HOME [check]`; with `check`, it only
/// prints what it would change.
const RELABEL_INSIDE: &str = "shopt -s dotglob nullglob; entries=(\"$1\"/*); \
    ((${#entries[@]})) || exit 0; \
    if [ \"${2:-}\" = check ]; then exec restorecon -R -F -x -n -v -- \"${entries[@]}\"; fi; \
    exec restorecon -R -F -x -- \"${entries[@]}\"";

/// The site user relabels everything inside its home (root relabels the home itself).
pub fn relabel_inside(site: &SiteUser) -> Command {
    Command::new("bash")
        .sudo_as_site(site)
        .flag("-c")
        .value(RELABEL_INSIDE)
        .operand(site.home())
}

/// Passes when nothing inside the home needs relabelling, asked as the site user.
pub fn labelled_inside(site: &SiteUser) -> Probe {
    Probe::output(relabel_inside(site).operand("check"), "")
}

/// The site user relabels `paths` (entries of its home) and everything below them.
pub fn relabel(site: &SiteUser, paths: &[String]) -> Command {
    Command::new("restorecon")
        .sudo_as_site(site)
        .flag("-R")
        .flag("-F")
        .flag("-x")
        .operands(paths)
}

/// A symbolic link `link` → `target` in the site, made by whoever may act where the link is.
pub fn link(site: &SiteUser, target: &str, link: &str) -> Action {
    let ln = match actor(site, link) {
        Actor::Root => Command::new("ln").sudo(),
        Actor::SiteUser => Command::new("ln").sudo_as_site(site),
    };
    Action::run(ln.flag("-sfn").operand(target).operand(link))
}

/// Passes when `path` in the site exists, asked (without following a final link) as whoever
/// may act there.
pub fn exists(site: &SiteUser, path: &str) -> Probe {
    let stat = match actor(site, path) {
        Actor::Root => Command::new("stat").sudo(),
        Actor::SiteUser => Command::new("stat").sudo_as_site(site),
    };
    Probe::ok(stat.flag("-c").flag("%n").operand(path))
}

/// What a link in the site points at, asked as whoever may act there.
pub fn readlink(site: &SiteUser, path: &str, target: impl Into<String>) -> Probe {
    let reader = match actor(site, path) {
        Actor::Root => Command::new("readlink").sudo(),
        Actor::SiteUser => Command::new("readlink").sudo_as_site(site),
    };
    Probe::output(reader.operand(path), target)
}

/// Root commands of `plan` that could be turned against root by what the site user plants,
/// each with its step: a command that reads or writes below an entry of a site directory
/// (where the site user can swap a component for a link), or that writes at an entry in a
/// way that follows a link there. Empty for every plan the panel builds (a test walks them
/// all). A plan runs as root, so a command without `sudo` is root's too; commands run as the
/// site user are the site user's own reach.
pub fn root_violations(plan: &Plan, site: &SiteUser) -> Vec<String> {
    let mut commands = Vec::new();
    for step in &plan.steps {
        collect_step(step, &mut commands);
    }
    commands
        .into_iter()
        // `semanage` takes the file-context rules' regular expressions, not paths.
        .filter(|(c, _)| !c.runs_as_other() && c.program() != "semanage")
        .filter_map(|(c, not_links)| {
            let argv = c.argv();
            // Below an entry: any command at all (even a read follows the planted links on
            // its way, and `rm -rf` or `restorecon -R` started there resolve its path first).
            let deep = argv[1..].iter().any(|a| actor(site, a) == Actor::SiteUser);
            let at_entry = argv[1..]
                .iter()
                .any(|a| direct_child(site, a) && !not_links.iter().any(|n| n == a));
            // A walk down from the home: only `rm` walks without resolving paths again
            // (through open directories); `restorecon -R` and the like do not.
            let walks =
                argv.contains(&"-R") && argv[1..].iter().any(|a| in_site(site, a).is_some());
            (deep || walks || (at_entry && !keeps_a_final_link(&argv)))
                .then(|| format!("{}: {}", step_title(plan, &c), c))
        })
        .collect()
}

/// Root commands that, given an entry of the home that is a link, act on the link itself
/// (or only read), never on what it points at: an `install`ed file replaces the link,
/// `ln -sfn`, `mv -T` and `rm` work on names, `chown -h` on the link, `restorecon` without
/// `-R` relabels the link, `stat` without `-L` and `readlink` read the link, and `test -L`
/// (or `-h`) asks about the link (`test -e`, `-d`, `-f` … look through it).
/// Everything else (`install -d`, `chmod`, `chown`, `cp`, `tee`, `sha256sum`, …) follows it.
fn keeps_a_final_link(argv: &[&str]) -> bool {
    let has = |f: &str| argv.contains(&f);
    match argv[0] {
        "install" => !has("-d"),
        "ln" => has("-sfn"),
        "mv" => has("-T"),
        "rm" => true,
        "chown" => has("-h"),
        "restorecon" => !has("-R"),
        "stat" => !has("-L"),
        "test" => (has("-L") || has("-h")) && argv.len() == 3,
        "readlink" | "semanage" | "matchpathcon" => true,
        _ => false,
    }
}

fn step_title(plan: &Plan, command: &Command) -> String {
    plan.steps
        .iter()
        .find(|s| {
            let mut found = Vec::new();
            collect_step(s, &mut found);
            found
                .iter()
                .any(|(c, _)| c.to_string() == command.to_string())
        })
        .map(|s| s.title.clone())
        .unwrap_or_default()
}

/// Every command of a step, with the paths an enclosing `unless` found not to be links.
type Collected = Vec<(Command, Vec<String>)>;

/// Every command `plan` can run: its guards, probes, actions and file writes.
pub fn commands(plan: &Plan) -> Vec<Command> {
    let mut out = Vec::new();
    for step in &plan.steps {
        collect_step(step, &mut out);
    }
    out.into_iter().map(|(c, _)| c).collect()
}

/// The command of a probe, as the checker sees it: `sha256sum --check` names the files it
/// reads on its stdin, so they are added as operands.
fn probe_command(p: &Probe) -> Command {
    let mut c = p.command.clone();
    if c.program() == "sha256sum" {
        if let Some(stdin) = &p.stdin {
            for line in stdin.text.lines() {
                if let Some((_, path)) = line.split_once("  ") {
                    c = c.operand(path);
                }
            }
        }
    }
    c
}

fn collect_step(step: &Step, out: &mut Collected) {
    let plain = |p: &Probe| (probe_command(p), Vec::new());
    for g in &step.guards {
        out.push(plain(&g.when));
        out.push(plain(&g.require));
    }
    for p in step.check.iter().chain(&step.verify) {
        out.push(plain(p));
    }
    if let Some((p, _)) = &step.only_if {
        out.push(plain(p));
    }
    for a in &step.apply {
        collect_action(a, &[], out);
    }
}

/// The path a probe proves is not a link when it fails: `test -L PATH`, asked by root.
fn link_probe_path(probe: &Probe) -> Option<String> {
    let argv = probe.command.argv();
    let is_link_probe = matches!(argv.as_slice(), ["test", "-L", _])
        && !probe.command.runs_as_other()
        && matches!(&probe.expect, super::Expect::Success);
    is_link_probe
        .then(|| argv.last().map(|p| p.to_string()))
        .flatten()
}

fn collect_action(action: &Action, not_links: &[String], out: &mut Collected) {
    let with = |c: Command| (c, not_links.to_vec());
    match action {
        Action::Run { command, .. } => out.push(with(command.clone())),
        Action::Write(f) => out.push(with(f.command())),
        Action::Unless { probe, action } => {
            out.push(with(probe_command(probe)));
            let mut inner = not_links.to_vec();
            inner.extend(link_probe_path(probe));
            collect_action(action, &inner, out);
        }
        Action::When { probe, action } => {
            out.push(with(probe_command(probe)));
            collect_action(action, not_links, out);
        }
        Action::OrElse(a, b) => {
            collect_action(a, not_links, out);
            collect_action(b, not_links, out);
        }
        Action::Sequence(list) => list.iter().for_each(|a| collect_action(a, not_links, out)),
        Action::WriteTested {
            file,
            link,
            test,
            test_new_if,
        } => {
            out.extend(test_new_if.iter().map(|c| with((**c).clone())));
            let w = super::TestedWrite::new(file, link.as_deref());
            out.extend(
                [
                    w.backup,
                    w.clear_backup,
                    w.restore,
                    w.remove_new,
                    w.drop_backup,
                    file.command(),
                    test.clone(),
                ]
                .into_iter()
                .chain(w.link)
                .map(with),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Root may act at an entry of the home only after asking, itself and without following
    /// it, whether the entry is a link: a site user's answer (it can fake its own process's
    /// exit) or a `test` that looks through the link proves nothing.
    #[test]
    fn only_roots_own_test_l_proves_an_entry_is_not_a_link() {
        let site = SiteUser::parse("web3").unwrap();
        let entry = "/home/web3/storage";
        let plan_with = |probe: Probe| {
            let mut step = Step::new("make it");
            step.apply = vec![Action::unless(
                probe,
                super::super::steps::mkdir("0700", "web3", "web3", &[entry.to_owned()]),
            )];
            Plan {
                title: "t".into(),
                profile: super::super::Profile::new(crate::domain::OsVersion::Debian12),
                driver: super::super::Driver::Direct,
                steps: vec![step],
            }
        };
        let roots = super::super::steps::is_link(entry);
        assert_eq!(
            root_violations(&plan_with(roots), &site),
            Vec::<String>::new()
        );
        let the_site_users = Probe::ok(
            Command::new("test")
                .sudo_as_site(&site)
                .flag("-L")
                .value(entry),
        );
        assert!(!root_violations(&plan_with(the_site_users), &site).is_empty());
        let looks_through = Probe::ok(Command::new("test").flag("-d").value(entry));
        assert!(!root_violations(&plan_with(looks_through), &site).is_empty());
    }

    #[test]
    fn root_acts_on_the_home_and_its_entries_only() {
        let u = SiteUser::numbered(3);
        assert_eq!(actor(&u, "/home/web3"), Actor::Root);
        assert_eq!(actor(&u, "/home/web3/public_html"), Actor::Root);
        assert_eq!(actor(&u, "/home/web3/.env"), Actor::Root);
        assert_eq!(actor(&u, "/home/web3/public_html/public"), Actor::SiteUser);
        assert_eq!(actor(&u, "/home/web3/deploy/releases"), Actor::SiteUser);
        assert_eq!(actor(&u, "/home/web3/deploy/releases/"), Actor::SiteUser);
        assert_eq!(actor(&u, "/home/web30/x/y"), Actor::Root, "another home");
        assert_eq!(actor(&u, "/etc/nginx/conf.d/a.conf"), Actor::Root);
        assert_eq!(actor(&u, "-sfn"), Actor::Root);
        assert_eq!(actor(&u, "/run/panel-deploy/web3/key"), Actor::Root);
        assert_eq!(actor(&u, "/run/panel-deploy/web3/a/b"), Actor::SiteUser);
    }
}
