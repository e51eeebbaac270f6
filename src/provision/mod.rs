//! Provisioning as data. A plan is a list of steps; each step says what it does (its title),
//! how to tell it is already done (`check`), what to change (`apply`) and how to confirm the
//! change took (`verify`). The same plan is executed over SSH by a job (`run.rs`), printed for a
//! reviewer or rendered as a standalone bash script (`render.rs`), so what the panel does and
//! what it shows are one thing. Every command is built with the command builder; file contents
//! and SQL travel on stdin, never in a command line.

pub mod cron;
pub mod deploy;
pub mod logs;
pub mod php;
pub mod profile;
pub mod render;
pub mod run;
pub mod selinux;
pub mod service;
pub mod site;
pub mod sql;
pub mod steps;
pub mod templates;
pub mod tenant;
pub mod tls;
pub mod vhost;
pub mod workers;

use crate::domain::McsPair;
use crate::domain::{AppType, DatabaseType, DbName, EnvKey, PhpVersion, SiteDomain, SiteUser};
use crate::ssh::Command;

pub use profile::Profile;
pub use service::Driver;

/// Everything a site's files and commands are made from.
#[derive(Clone, Debug)]
pub struct SiteSpec {
    pub domain: SiteDomain,
    pub aliases: Vec<SiteDomain>,
    pub app_type: AppType,
    pub php: PhpVersion,
    pub user: SiteUser,
    pub database: Option<DbSpec>,
    /// The site's own `.env` entries, after the ones the panel manages.
    pub env: Vec<(EnvKey, String)>,
    /// The site's SELinux categories (its files' labels and its PHP-FPM master's level).
    pub mcs: McsPair,
    /// HTTPS, when a certificate is installed: the vhost gains its TLS server.
    pub tls: Option<SiteTls>,
    /// The site's own PHP settings (its pool's `php_admin_value`s, nginx's body limit).
    pub php_ini: crate::domain::PhpSettings,
    /// The site's redirects, answered by nginx before anything else of the site.
    pub redirects: Vec<crate::domain::Redirect>,
    /// The site's own nginx directives, checked, inside its server block.
    pub nginx_custom: Option<crate::domain::NginxBlock>,
}

/// How a site with a certificate serves HTTPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SiteTls {
    /// Plain HTTP answers with a redirect to HTTPS (ACME challenges excepted).
    pub redirect: bool,
    /// HTTPS answers carry Strict-Transport-Security.
    pub hsts: bool,
}

#[derive(Clone, Debug)]
pub struct DbSpec {
    pub engine: DatabaseType,
    pub name: DbName,
    pub user: DbName,
}

/// Data a command reads on stdin.
#[derive(Clone, Debug)]
pub struct Stdin {
    pub text: String,
    /// Holds a secret: never logged or printed in a text plan.
    pub sensitive: bool,
    /// A script shipped with the panel (`setup/deploy.sh`): a text plan names it instead of
    /// printing it again for every step that runs it.
    pub script: Option<&'static str>,
}

/// How a site user writes a file from stdin: `bash -c SITE_WRITE -- MODE PATH`.
const SITE_WRITE: &str = "umask 077; tmp=$(mktemp -- \"$2.panel-XXXXXX\") || exit 1; \
     if cat >\"$tmp\" && chmod -- \"$1\" \"$tmp\" && mv -fT -- \"$tmp\" \"$2\"; then exit 0; fi; \
     rm -f -- \"$tmp\"; exit 1";

/// A file written whole: as root (`install -m MODE -o OWNER -g GROUP /dev/stdin PATH`), or, in
/// a directory a site user can change, as that user (`sudo -u USER install -m MODE …`; see
/// `tenant`).
#[derive(Clone, Debug)]
pub struct FileWrite {
    pub path: String,
    pub mode: &'static str,
    pub owner: String,
    pub group: String,
    pub content: String,
    pub sensitive: bool,
    /// Written by this site user itself (the file is then its own), not by root.
    pub as_site: Option<SiteUser>,
    /// Read back (its check) by this site user: a file root writes for the site user at an
    /// entry of its home, which the site user may have grown to terabytes since.
    pub read_as: Option<SiteUser>,
}

impl FileWrite {
    pub fn new(path: String, mode: &'static str, owner: &str, content: String) -> Self {
        let mut content = content;
        // Every file the panel writes ends with a newline (editors and `cat` expect one).
        if !content.ends_with('\n') {
            content.push('\n');
        }
        Self {
            path,
            mode,
            owner: owner.to_owned(),
            group: owner.to_owned(),
            content,
            sensitive: false,
            as_site: None,
            read_as: None,
        }
    }

    /// Checked by `user` (see `read_as`).
    pub fn read_as(mut self, user: &SiteUser) -> Self {
        self.read_as = Some(user.clone());
        self
    }

    /// Written by `user` itself: its directory is one the site user can change.
    pub fn as_site(mut self, user: &SiteUser) -> Self {
        self.owner = user.as_str().to_owned();
        self.group = user.as_str().to_owned();
        self.as_site = Some(user.clone());
        self
    }

    pub fn group(mut self, group: &str) -> Self {
        self.group = group.to_owned();
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn command(&self) -> Command {
        // `-Z`: the file gets the label its path has in the policy (a site's categories
        // included) instead of inheriting its directory's; ignored where SELinux is off.
        if let Some(user) = &self.as_site {
            // The site user cannot reopen the panel user's stdin (`install /dev/stdin`): the
            // content is copied from the pipe it inherits, into a new file beside the target,
            // which then replaces it in one rename.
            return Command::new("bash")
                .sudo_as_site(user)
                .flag("-c")
                .value(SITE_WRITE)
                .operand(self.mode)
                .operand(&self.path);
        }
        Command::new("install")
            .sudo()
            .flag("-Z")
            .flag("-m")
            .value(self.mode)
            .flag("-o")
            .value(&self.owner)
            .flag("-g")
            .value(&self.group)
            .operand("/dev/stdin")
            .operand(&self.path)
    }

    pub fn stdin(&self) -> Stdin {
        Stdin {
            text: self.content.clone(),
            sensitive: self.sensitive,
            script: None,
        }
    }

    /// Passes when the file on the node has exactly this content (`sha256sum --check`).
    pub fn unchanged(&self) -> Probe {
        Self::all_unchanged(&[self])
    }

    /// Passes when every one of `files` (read by the same account) has exactly its content:
    /// one `sha256sum --check` for them all, one process instead of one per file.
    pub fn all_unchanged(files: &[&FileWrite]) -> Probe {
        use sha2::Digest;
        let first = files[0];
        let reader_of = |f: &FileWrite| f.as_site.clone().or_else(|| f.read_as.clone());
        assert!(
            files.iter().all(|f| reader_of(f) == reader_of(first)),
            "files checked together are read by one account"
        );
        let reader = match reader_of(first) {
            Some(user) => Command::new("sha256sum").sudo_as_site(&user),
            None => Command::new("sha256sum").sudo(),
        };
        let lines: String = files
            .iter()
            .map(|f| {
                let sum = hex::encode(sha2::Sha256::digest(f.content.as_bytes()));
                format!("{sum}  {}\n", f.path)
            })
            .collect();
        // A secret's hash is a fingerprint of it: as hidden as the secret in text plans and logs.
        Probe::ok(reader.flag("--check").flag("--status").flag("--strict"))
            .stdin(lines, files.iter().any(|f| f.sensitive))
    }
}

/// What a probe's output must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Exit status 0.
    Success,
    /// Exit 0 and stdout, trimmed, equal to this.
    Output(String),
    /// Exit 0 and stdout, trimmed, one of these.
    OneOf(Vec<&'static str>),
    /// Exit 0 and one line of stdout, trimmed, equal to this.
    Line(String),
}

/// A read-only question to the node.
#[derive(Clone, Debug)]
pub struct Probe {
    pub command: Command,
    pub stdin: Option<Stdin>,
    pub expect: Expect,
    /// Ask again for a few seconds before giving up (a socket or a reload that takes a moment).
    pub wait: bool,
}

impl Probe {
    pub fn ok(command: Command) -> Self {
        Self {
            command,
            stdin: None,
            expect: Expect::Success,
            wait: false,
        }
    }

    pub fn output(command: Command, expected: impl Into<String>) -> Self {
        Self {
            command,
            stdin: None,
            expect: Expect::Output(expected.into()),
            wait: false,
        }
    }

    pub fn line(command: Command, expected: impl Into<String>) -> Self {
        Self {
            command,
            stdin: None,
            expect: Expect::Line(expected.into()),
            wait: false,
        }
    }

    pub fn one_of(command: Command, expected: Vec<&'static str>) -> Self {
        Self {
            command,
            stdin: None,
            expect: Expect::OneOf(expected),
            wait: false,
        }
    }

    pub fn stdin(mut self, text: String, sensitive: bool) -> Self {
        self.stdin = Some(Stdin {
            text,
            sensitive,
            script: None,
        });
        self
    }

    pub fn waiting(mut self) -> Self {
        self.wait = true;
        self
    }

    /// Whether an exit status and stdout satisfy the probe.
    pub fn accepts(&self, exit_ok: bool, stdout: &str) -> bool {
        exit_ok
            && match &self.expect {
                Expect::Success => true,
                Expect::Output(want) => stdout.trim() == want,
                Expect::OneOf(list) => list.contains(&stdout.trim()),
                Expect::Line(want) => stdout.lines().any(|l| l.trim() == want),
            }
    }
}

/// A change on the node.
#[derive(Clone, Debug)]
pub enum Action {
    Run {
        command: Command,
        stdin: Option<Stdin>,
    },
    Write(FileWrite),
    /// Apply `action` only when `probe` fails (`probe || action`).
    Unless {
        probe: Probe,
        action: Box<Action>,
    },
    /// Apply `action` only when `probe` passes.
    When {
        probe: Probe,
        action: Box<Action>,
    },
    /// Try `first`; if it fails, `second` (whose failure fails the step).
    OrElse(Box<Action>, Box<Action>),
    Sequence(Vec<Action>),
    /// Write a configuration file (and its `sites-enabled` link), run `test`; when the test
    /// fails, put the previous file back (or remove the new one) and fail. A bad template or
    /// a broken neighbour never leaves nginx or PHP-FPM unable to reload.
    WriteTested {
        file: FileWrite,
        link: Option<String>,
        test: Command,
        /// A file that replaces nothing is tested too, always (`None`: nginx's, where one bad
        /// vhost stops every site's reload) or only when this probe passes (a site's own
        /// PHP-FPM master: only when one runs that could load it; otherwise its first start
        /// tests it, says the same and stops the plan the same way).
        test_new_if: Option<Box<Command>>,
    },
}

impl Action {
    pub fn run(command: Command) -> Self {
        Action::Run {
            command,
            stdin: None,
        }
    }

    pub fn run_with(command: Command, stdin: String, sensitive: bool) -> Self {
        Action::Run {
            command,
            stdin: Some(Stdin {
                text: stdin,
                sensitive,
                script: None,
            }),
        }
    }

    /// Run `script` (`bash -s -- ARGS…`), its text, named `name`, on stdin.
    pub fn run_script(command: Command, name: &'static str, script: &'static str) -> Self {
        Action::Run {
            command,
            stdin: Some(Stdin {
                text: script.to_owned(),
                sensitive: false,
                script: Some(name),
            }),
        }
    }

    pub fn or_else(first: Action, second: Action) -> Self {
        Action::OrElse(Box::new(first), Box::new(second))
    }

    pub fn unless(probe: Probe, action: Action) -> Self {
        Action::Unless {
            probe,
            action: Box::new(action),
        }
    }

    pub fn when(probe: Probe, action: Action) -> Self {
        Action::When {
            probe,
            action: Box::new(action),
        }
    }
}

/// The commands around a tested write, shared by the job and the script so both do the same.
pub struct TestedWrite {
    /// Passes when there is a previous version.
    pub exists: Command,
    /// Keep the previous version beside it (`PATH.panel-prev`).
    pub backup: Command,
    /// No previous version: make sure no stale backup is left to restore.
    pub clear_backup: Command,
    pub link: Option<Command>,
    /// Passes when a backup was kept.
    pub backup_exists: Command,
    /// The test failed: the previous version goes back…
    pub restore: Command,
    /// …or, with none, the new file (and its link) goes away.
    pub remove_new: Command,
    /// The test passed: the backup is not needed.
    pub drop_backup: Command,
}

impl TestedWrite {
    pub fn new(file: &FileWrite, link: Option<&str>) -> Self {
        let prev = format!("{}.panel-prev", file.path);
        let mut remove_new = Command::new("rm").sudo().flag("-f").operand(&file.path);
        if let Some(l) = link {
            remove_new = remove_new.operand(l);
        }
        Self {
            // `test` is the shell's builtin: asking costs no process. These are root's own
            // files (under /etc), where no one else can plant a link.
            exists: Command::new("test").flag("-e").value(&file.path),
            backup: Command::new("install")
                .sudo()
                .flag("-m")
                .flag("0600")
                .operand(&file.path)
                .operand(&prev),
            clear_backup: Command::new("rm").sudo().flag("-f").operand(&prev),
            backup_exists: Command::new("test").flag("-e").value(&prev),
            link: link.map(|l| {
                Command::new("ln")
                    .sudo()
                    .flag("-sfn")
                    .operand(&file.path)
                    .operand(l)
            }),
            restore: Command::new("install")
                .sudo()
                .flag("-Z")
                .flag("-m")
                .value(file.mode)
                .flag("-o")
                .value(&file.owner)
                .flag("-g")
                .value(&file.group)
                .operand(&prev)
                .operand(&file.path),
            remove_new,
            drop_backup: Command::new("rm").sudo().flag("-f").operand(prev),
        }
    }
}

impl std::fmt::Display for Action {
    /// The action as shell (what the script format prints).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&render::action(self, true))
    }
}

/// A refusal before a step changes anything: when `when` passes, `require` must pass too, or
/// the step fails with `reason` (an account of that name exists, but the panel did not make it).
#[derive(Clone, Debug)]
pub struct Guard {
    pub when: Probe,
    pub require: Probe,
    pub reason: String,
}

/// One unit of provisioning.
#[derive(Clone, Debug)]
pub struct Step {
    pub title: String,
    /// Checked first, every time: a guard that fails stops the step before its check.
    pub guards: Vec<Guard>,
    /// All pass → the step is already done and is skipped. Empty → always applied.
    pub check: Vec<Probe>,
    pub apply: Vec<Action>,
    pub verify: Vec<Probe>,
    /// Not applicable here (no database chosen, nothing to confirm to), and why.
    pub skip: Option<String>,
    /// Applies only on nodes where this probe passes; elsewhere the step is skipped with this
    /// reason (the SELinux steps on a node without SELinux).
    pub only_if: Option<(Probe, String)>,
    /// Longest the step may run, when longer than the default (a deploy script's build).
    pub timeout: Option<std::time::Duration>,
    /// Read-only commands whose output goes to the log when a verification fails (nginx's
    /// error log after a reload), so the failure can be understood from the job alone.
    pub diagnose: Vec<Command>,
}

impl Step {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            guards: Vec::new(),
            check: Vec::new(),
            apply: Vec::new(),
            verify: Vec::new(),
            skip: None,
            only_if: None,
            timeout: None,
            diagnose: Vec::new(),
        }
    }

    pub fn skipped(title: impl Into<String>, why: impl Into<String>) -> Self {
        Self {
            skip: Some(why.into()),
            ..Self::new(title)
        }
    }
}

/// A titled list of steps for one node.
#[derive(Clone, Debug)]
pub struct Plan {
    pub title: String,
    pub profile: Profile,
    pub driver: Driver,
    pub steps: Vec<Step>,
}

impl Plan {
    /// Every command the plan can run (probes, actions, file writes), in order: for tests that
    /// put them through the real programs.
    pub fn commands(&self) -> Vec<Command> {
        tenant::commands(self)
    }
}

/// A site as the plans' unit tests take it: `a.example.com`, user `web3`, PHP 8.2, the first
/// categories, nothing else.
#[cfg(test)]
pub(crate) fn test_site(app_type: crate::domain::AppType) -> SiteSpec {
    use crate::domain::{McsPair, PhpVersion, SiteDomain, SiteUser};
    SiteSpec {
        domain: SiteDomain::parse("a.example.com").unwrap(),
        aliases: Vec::new(),
        app_type,
        php: PhpVersion::V82,
        user: SiteUser::numbered(3),
        database: None,
        env: Vec::new(),
        mcs: McsPair::from_id(0).unwrap(),
        tls: None,
        php_ini: Default::default(),
        redirects: Vec::new(),
        nginx_custom: None,
    }
}
