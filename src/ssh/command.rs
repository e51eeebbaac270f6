//! The command builder. A remote command is a program and a list of arguments; rendering quotes
//! every argument in single quotes, so no value can become shell syntax. Values with NUL, newline
//! or carriage return are refused (a newline is how HestiaCP's cron injection worked). Operands
//! from data go after `--`, so a value starting with `-` is never read as an option (Cockpit's
//! CVE-2026-4631). Scripts that need pipes are files compiled into the binary; they get their
//! data as quoted arguments and read their body from stdin, never by pasting data into them.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error(
        "argument {index} of `{program}` contains a {what}, which is never allowed in a remote command"
    )]
    ForbiddenChar {
        program: &'static str,
        index: usize,
        what: &'static str,
    },
    #[error("`{0}` is not a valid environment variable name")]
    BadEnvName(&'static str),
}

/// sudo's `secure_path` (Debian's and EL's): what a command run as a site's user searches.
const SECURE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Who runs the shell a command line is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shell {
    /// The panel's SSH user: root's commands go through `sudo -n`.
    SshUser,
    /// Root (a plan's script): root's commands need no `sudo`.
    Root,
}

/// One remote command: `program [flags and values] [-- operands]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    program: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    sudo: bool,
    /// Run as this account instead of root (`sudo -u USER`): a service account (a constant)
    /// or a site's user (a parsed `SiteUser`).
    sudo_user: Option<String>,
    /// `sudo_user` is a site's user (with this home): from a root shell it is entered with
    /// `setpriv`, not `sudo` (see `render_in`).
    site_home: Option<String>,
    operands_started: bool,
    /// Held (`flock`, as the SSH user) while the command runs: see `locked`.
    lock: Option<&'static str>,
}

impl Command {
    /// `program` is a compile-time constant: data can never choose what runs.
    pub fn new(program: &'static str) -> Self {
        Self {
            program,
            args: Vec::new(),
            env: Vec::new(),
            sudo: false,
            sudo_user: None,
            site_home: None,
            operands_started: false,
            lock: None,
        }
    }

    /// Run while holding the lock file `path` (relative: in the SSH user's home), waiting up to
    /// 15 minutes for it: for programs that refuse to run beside another of their kind instead
    /// of waiting (`semanage`, `semodule -i`, `setsebool -P` fail at once on the policy store's
    /// lock). `flock` runs as the shell's user (root in a plan's shell, the SSH user for a
    /// single command), not through sudo; `path` is a constant, relative to the SSH user's
    /// home (the working directory of every command over SSH).
    pub fn locked(mut self, path: &'static str) -> Self {
        self.lock = Some(path);
        self
    }

    /// A fixed option of the program (`-p`, `--no-pager`): compile-time constant.
    pub fn flag(mut self, flag: &'static str) -> Self {
        debug_assert!(!self.operands_started, "flags go before operands");
        self.args.push(flag.to_owned());
        self
    }

    /// A value that follows an option (`-u VALUE`); quoted like every argument.
    pub fn value(mut self, value: impl fmt::Display) -> Self {
        self.args.push(value.to_string());
        self
    }

    /// An operand (file, user, database name, ...). The first one is preceded by `--`.
    pub fn operand(mut self, value: impl fmt::Display) -> Self {
        if !self.operands_started {
            self.args.push("--".to_owned());
            self.operands_started = true;
        }
        self.args.push(value.to_string());
        self
    }

    /// Several operands (the first one preceded by `--`).
    pub fn operands<T: fmt::Display>(mut self, values: &[T]) -> Self {
        for v in values {
            self = self.operand(v);
        }
        self
    }

    /// An operand for a program that does not accept `--` (use only where that is so, and only
    /// with values whose parsed type cannot start with `-`).
    pub fn operand_without_separator(mut self, value: impl fmt::Display) -> Self {
        self.args.push(value.to_string());
        self
    }

    /// An environment variable for the program (`env NAME=value program …`).
    pub fn env(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        self.env.push((name, value.to_string()));
        self
    }

    /// Run through `sudo -n` (never prompts: a missing rule fails instead of hanging).
    pub fn sudo(mut self) -> Self {
        self.sudo = true;
        self
    }

    /// Run through `sudo -n -u USER` (a service account such as `postgres`).
    pub fn sudo_as(mut self, user: &'static str) -> Self {
        self.sudo = true;
        self.sudo_user = Some(user.to_owned());
        self
    }

    /// Run through `sudo -n -u webN` as a site's own user (deployments run as the site).
    pub fn sudo_as_site(mut self, user: &crate::domain::SiteUser) -> Self {
        self.sudo = true;
        self.sudo_user = Some(user.as_str().to_owned());
        self.site_home = Some(user.home());
        self
    }

    pub fn program(&self) -> &'static str {
        self.program
    }

    /// Runs through sudo as root (not as another account).
    pub fn runs_as_root(&self) -> bool {
        self.sudo && self.sudo_user.is_none()
    }

    /// Runs through sudo as another account (a site's user, `postgres`).
    pub fn runs_as_other(&self) -> bool {
        self.sudo_user.is_some()
    }

    /// The argv that will run on the node (without sudo/env), for logs and tests.
    pub fn argv(&self) -> Vec<&str> {
        std::iter::once(self.program)
            .chain(self.args.iter().map(String::as_str))
            .collect()
    }

    /// The command line for the remote shell: every word single-quoted.
    pub fn render(&self) -> Result<String, CommandError> {
        self.render_in(Shell::SshUser)
    }

    /// The line for a plan's script, which runs as root (`sudo -n -- bash -s`, one `sudo` per
    /// step instead of one per command): root's commands go bare, another account's still
    /// through `sudo -n -u USER` (root needs no rule for it, and it resets the environment).
    pub fn root_line(&self) -> String {
        match self.render_in(Shell::Root) {
            Ok(line) => line,
            Err(e) => format!("<unrenderable: {e}>"),
        }
    }

    fn render_in(&self, shell: Shell) -> Result<String, CommandError> {
        let mut words: Vec<String> = Vec::new();
        if let Some(path) = self.lock {
            // `-o`: the program does not inherit the lock's descriptor. Run from a root shell
            // (no sudo closing it in between), `semodule` would hand it to `load_policy`,
            // whose domain may not read a file in a user's home: an AVC on every install.
            words.extend(["flock", "-o", "-w", "900", path].map(str::to_owned));
        }
        // `env` goes first, so that sudo runs the program itself (the sudoers list names
        // programs, not `env`); sudo keeps only variables its policy allows (`env_keep`).
        if !self.env.is_empty() {
            words.push("env".to_owned());
            for (name, value) in &self.env {
                if !valid_env_name(name) {
                    return Err(CommandError::BadEnvName(name));
                }
                check(self.program, 0, value)?;
                words.push(format!("{name}={value}"));
            }
        }
        if let (Shell::Root, Some(user), Some(home)) = (shell, &self.sudo_user, &self.site_home) {
            // Root becomes the site's user without sudo's PAM session and log line (a tenth
            // of the time, and a site's plan has a dozen of these): the real and effective
            // uid and gid and the user's groups, capabilities gone with the uid, and the
            // environment sudo would give it (`env_reset`: its home, name, shell and sudo's
            // secure path) instead of root's.
            check(self.program, 0, user)?;
            words.extend([
                "setpriv".to_owned(),
                format!("--reuid={user}"),
                format!("--regid={user}"),
                "--init-groups".to_owned(),
                "--".to_owned(),
                "env".to_owned(),
                "-i".to_owned(),
                format!("HOME={home}"),
                format!("USER={user}"),
                format!("LOGNAME={user}"),
                "SHELL=/usr/sbin/nologin".to_owned(),
                format!("PATH={SECURE_PATH}"),
            ]);
        } else if self.sudo && (shell == Shell::SshUser || self.sudo_user.is_some()) {
            words.extend(["sudo", "-n"].map(str::to_owned));
            if let Some(user) = &self.sudo_user {
                check(self.program, 0, user)?;
                words.extend(["-u".to_owned(), user.clone()]);
            }
            words.push("--".to_owned());
        }
        words.push(self.program.to_owned());
        for (i, arg) in self.args.iter().enumerate() {
            check(self.program, i + 1, arg)?;
            words.push(arg.clone());
        }
        Ok(words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" "))
    }
}

impl fmt::Display for Command {
    /// For logs: the rendered line, or a note that it cannot be rendered.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.render() {
            Ok(line) => f.write_str(&line),
            Err(e) => write!(f, "<unrenderable: {e}>"),
        }
    }
}

/// A script compiled into the binary, run as `bash -s -- ARGS…` with its body on stdin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    name: &'static str,
    body: &'static str,
    args: Vec<String>,
    sudo: bool,
}

impl Script {
    pub fn new(name: &'static str, body: &'static str) -> Self {
        Self {
            name,
            body,
            args: Vec::new(),
            sudo: false,
        }
    }

    pub fn arg(mut self, value: impl fmt::Display) -> Self {
        self.args.push(value.to_string());
        self
    }

    pub fn sudo(mut self) -> Self {
        self.sudo = true;
        self
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The script's text, sent on stdin.
    pub fn body(&self) -> &'static str {
        self.body
    }

    /// The command that runs the script: `bash -s -- 'arg1' 'arg2'`.
    pub fn command(&self) -> Command {
        let mut c = Command::new("bash").flag("-s");
        if self.sudo {
            c = c.sudo();
        }
        // `bash -s -- args`: after `--` every word is a positional parameter ($1, $2, …).
        c.args.push("--".to_owned());
        c.operands_started = true;
        c.args.extend(self.args.iter().cloned());
        c
    }
}

fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn check(program: &'static str, index: usize, value: &str) -> Result<(), CommandError> {
    let what = if value.contains('\0') {
        "NUL byte"
    } else if value.contains('\n') {
        "newline"
    } else if value.contains('\r') {
        "carriage return"
    } else {
        return Ok(());
    };
    Err(CommandError::ForbiddenChar {
        program,
        index,
        what,
    })
}

/// POSIX single quoting: inside '…' nothing is special except ' itself, written as '\''.
pub fn quote(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A word for a person to read and paste: bare when no shell would treat any of its characters
/// specially, single-quoted otherwise (`quote`).
pub fn quote_if_needed(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if plain { word.to_owned() } else { quote(word) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_reading_are_bare_only_when_sh_reads_them_unchanged() {
        for word in [
            "https://panel.example.com:8443/setup/AbC-_x",
            "a b",
            "it's",
            "$(id)",
            "*",
            "~root",
            "",
            "a;b",
            "x\ny",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf '%s' {}", quote_if_needed(word)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), word, "{word:?}");
        }
        assert!(!quote_if_needed("https://h/setup/t").contains('\''));
    }

    /// What a POSIX shell makes of a rendered line: run it through `sh` with `printf` and read
    /// back each argument as the program would receive it.
    fn words_as_seen_by_sh(cmd: &Command) -> Vec<String> {
        let line = cmd.render().unwrap();
        // Replace the program with printf so every argument is echoed, NUL-separated.
        let prefix = quote(cmd.program());
        let rest = line
            .strip_prefix(&prefix)
            .expect("no sudo/env in this test");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s\\0' {rest}"))
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .unwrap()
            .split_terminator('\0')
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn in_a_root_shell_root_goes_bare_a_site_user_through_setpriv_a_service_through_sudo() {
        let site = crate::domain::SiteUser::parse("web7").unwrap();
        let root = Command::new("install").sudo().flag("-d").operand("/etc/x");
        assert_eq!(root.root_line(), "'install' '-d' '--' '/etc/x'");
        assert_eq!(
            root.to_string(),
            "'sudo' '-n' '--' 'install' '-d' '--' '/etc/x'"
        );
        let as_site = Command::new("stat")
            .sudo_as_site(&site)
            .operand("/home/web7/x");
        assert_eq!(
            as_site.root_line(),
            "'setpriv' '--reuid=web7' '--regid=web7' '--init-groups' '--' 'env' '-i' \
             'HOME=/home/web7' 'USER=web7' 'LOGNAME=web7' 'SHELL=/usr/sbin/nologin' \
             'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'stat' '--' \
             '/home/web7/x'"
        );
        // Still another account's: it must not read the script's stdin.
        assert!(as_site.runs_as_other());
        assert_eq!(
            as_site.to_string(),
            "'sudo' '-n' '-u' 'web7' '--' 'stat' '--' '/home/web7/x'"
        );
        let service = Command::new("psql").sudo_as("postgres");
        assert_eq!(
            service.root_line(),
            "'sudo' '-n' '-u' 'postgres' '--' 'psql'"
        );
        let plain = Command::new("id").flag("-u");
        assert_eq!(plain.root_line(), plain.to_string());
    }

    #[test]
    fn a_locked_command_waits_for_its_lock_as_the_ssh_user_then_runs_through_sudo() {
        let c = Command::new("semanage")
            .sudo()
            .flag("import")
            .locked(".panel-selinux.lock");
        assert_eq!(
            c.to_string(),
            "'flock' '-o' '-w' '900' '.panel-selinux.lock' 'sudo' '-n' '--' 'semanage' 'import'"
        );
        // The program and its arguments are still the command's own.
        assert_eq!(c.argv(), ["semanage", "import"]);
        assert!(c.runs_as_root());
    }

    #[test]
    fn hostile_values_reach_the_program_as_literal_arguments() {
        let hostile = [
            "example.com;id",
            "ex$(id).com",
            "ex`id`.com",
            "-oProxyCommand=touch /tmp/x",
            "a'b",
            "a\"b",
            "'; DROP USER x; --",
            "\\",
            "$HOME ${PATH} *",
            "<script>alert(1)</script>",
            "bücher.de",
            "",
        ];
        let mut cmd = Command::new("useradd")
            .flag("-m")
            .flag("-d")
            .value("/home/web1");
        for h in hostile {
            cmd = cmd.operand(h);
        }
        let seen = words_as_seen_by_sh(&cmd);
        let mut expected = vec!["-m", "-d", "/home/web1", "--"];
        expected.extend(hostile);
        assert_eq!(seen, expected);
        assert!(!std::path::Path::new("/tmp/x-should-not-exist").exists());
    }

    #[test]
    fn an_option_looking_operand_comes_after_double_dash() {
        let cmd = Command::new("ssh-keygen")
            .flag("-lf")
            .operand("-oProxyCommand=id");
        assert_eq!(cmd.argv(), ["ssh-keygen", "-lf", "--", "-oProxyCommand=id"]);
        assert_eq!(
            cmd.render().unwrap(),
            "'ssh-keygen' '-lf' '--' '-oProxyCommand=id'"
        );
    }

    #[test]
    fn nul_newline_and_carriage_return_are_refused() {
        for bad in ["a\0b", "example.com\nserver_name evil", "a\rb"] {
            let err = Command::new("nginx").operand(bad).render().unwrap_err();
            assert!(
                matches!(err, CommandError::ForbiddenChar { index: 2, .. }),
                "{bad:?}"
            );
        }
        let err = Command::new("php")
            .env("APP_KEY", "x\ny")
            .render()
            .unwrap_err();
        assert!(matches!(err, CommandError::ForbiddenChar { .. }));
    }

    #[test]
    fn sudo_and_environment_are_quoted_too() {
        let line = Command::new("git")
            .sudo()
            .env("BRANCH", "main;id")
            .flag("fetch")
            .render()
            .unwrap();
        assert_eq!(
            line,
            "'env' 'BRANCH=main;id' 'sudo' '-n' '--' 'git' 'fetch'"
        );
        assert_eq!(
            Command::new("x").env("lower", "v").render().unwrap_err(),
            CommandError::BadEnvName("lower")
        );
    }

    #[test]
    fn scripts_take_data_as_positional_arguments() {
        let s = Script::new("health", "echo \"$1\"").arg("$(id)").arg("-x");
        assert_eq!(
            s.command().render().unwrap(),
            "'bash' '-s' '--' '$(id)' '-x'"
        );
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "printf '%s' {} | {}",
                quote(s.body()),
                s.command().render().unwrap()
            ))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "$(id)");
    }
}
