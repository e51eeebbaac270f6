//! A plan as text for a reviewer, or as a standalone bash script that does what the job would:
//! every command is the command builder's quoted line, every file and SQL text is piped in as one
//! single-quoted word (so the shell expands nothing in it), and each step is skipped when
//! its check says it is already done.

use super::{Action, Expect, Plan, Probe, Stdin};
use crate::ssh::command::quote;

/// `line` reading `stdin`: `printf '%s' 'TEXT' | line`. The text is single-quoted, so the
/// shell expands nothing in it, and `printf` is a builtin, so it never shows in `ps`. Unlike a
/// heredoc it is one shell word, so it fits in any condition or list.
///
/// A command run as another account without input of its own reads `/dev/null`: the step's
/// own stdin is the script bash is still reading, and a site user's process holding it could
/// be opened through `/proc/PID/fd/0` by the site user and made to skip or add script text.
fn with_stdin(line: String, stdin: Option<&Stdin>, as_other: bool) -> String {
    match stdin {
        None if as_other => format!("{line} </dev/null"),
        None => line,
        Some(s) => format!("printf '%s' {} | {line}", quote(&s.text)),
    }
}

/// A plan's script runs as root: see `Command::root_line`.
fn line(command: &crate::ssh::Command) -> String {
    command.root_line()
}

/// `command` as a line that never reads the step's stdin (see `with_stdin`).
fn closed(command: &crate::ssh::Command) -> String {
    with_stdin(line(command), None, command.runs_as_other())
}

/// A probe as a shell condition.
pub fn probe(p: &Probe) -> String {
    let cmd = line(&p.command);
    let other = p.command.runs_as_other();
    let cond = match &p.expect {
        // `test` prints nothing (and shellcheck reads `test … >` as a comparison typo); run
        // as another account it is a process, and reads /dev/null like every other.
        Expect::Success if p.command.program() == "test" => with_stdin(cmd, None, other),
        Expect::Success => with_stdin(format!("{cmd} >/dev/null 2>&1"), p.stdin.as_ref(), other),
        Expect::Output(want) => format!(
            "[ \"$({})\" = {} ]",
            with_stdin(format!("{cmd} 2>/dev/null"), p.stdin.as_ref(), other),
            quote(want)
        ),
        // The output is captured first, so `grep -q` stopping early cannot fail the pipe.
        Expect::Line(want) => format!(
            "printf '%s\\n' \"$({})\" | grep -qxF -- {}",
            with_stdin(format!("{cmd} 2>/dev/null"), p.stdin.as_ref(), other),
            quote(want)
        ),
        Expect::OneOf(list) => format!(
            "panel_one_of \"$({})\" {}",
            with_stdin(format!("{cmd} 2>/dev/null"), p.stdin.as_ref(), other),
            list.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
        ),
    };
    if p.wait {
        // Ask until it passes, for up to ten seconds; the first answer that passes is the
        // verdict (nothing is asked twice). nginx answers from its old workers for a moment
        // after a reload: there is no event to wait on, so this asks every 20 ms.
        format!(
            "{{ panel_tries=0; until {cond}; do panel_tries=$((panel_tries + 1)); \
             [ \"$panel_tries\" -lt 500 ] || break; sleep 0.02; done; [ \"$panel_tries\" -lt 500 ]; }}"
        )
    } else {
        cond
    }
}

/// An action as shell. `top`: a statement of its own (a sequence need not be grouped).
pub fn action(a: &Action, top: bool) -> String {
    match a {
        Action::Run { command, stdin } => {
            with_stdin(line(command), stdin.as_ref(), command.runs_as_other())
        }
        Action::Write(file) => with_stdin(line(&file.command()), Some(&file.stdin()), false),
        Action::Unless {
            probe: p,
            action: then,
        } => {
            format!("if ! {}; then\n{}\nfi", probe(p), &action(then, true))
        }
        Action::When {
            probe: p,
            action: then,
        } => {
            format!("if {}; then\n{}\nfi", probe(p), &action(then, true))
        }
        Action::OrElse(first, second) => {
            let second = match second.as_ref() {
                Action::Run { stdin: None, .. } => action(second, false),
                other => format!("{{\n{}\n}}", &action(other, true)),
            };
            format!("{} || {second}", action(first, false))
        }
        Action::Sequence(list) => {
            let body = list
                .iter()
                .map(|a| action(a, true))
                .collect::<Vec<_>>()
                .join("\n");
            if top {
                body
            } else {
                format!("{{\n{}\n}}", &body)
            }
        }
        Action::WriteTested {
            file,
            link,
            test,
            test_new_if,
        } => {
            let c = super::TestedWrite::new(file, link.as_deref());
            // Only a backup that is there is removed: `rm` of nothing would still start a
            // process, on every site.
            let mut out = format!(
                "if {}; then {}; elif {}; then {}; fi\n",
                line(&c.exists),
                line(&c.backup),
                line(&c.backup_exists),
                line(&c.clear_backup)
            );
            out.push_str(&action(&Action::Write(file.clone()), true));
            out.push('\n');
            if let Some(l) = &c.link {
                out.push_str(&format!("{}\n", line(l)));
            }
            let failed = match test_new_if {
                None => format!("! {}", line(test)),
                Some(when) => format!(
                    "{{ {} || {}; }} && ! {}",
                    line(&c.backup_exists),
                    line(when),
                    line(test)
                ),
            };
            out.push_str(&format!(
                "if {failed}; then\n  if {}; then {}; else {}; fi\n  panel_fail {}\nfi\nif {}; then {}; fi",
                line(&c.backup_exists),
                line(&c.restore),
                line(&c.remove_new),
                quote(&format!(
                    "{} failed its test; the previous version was put back",
                    file.path
                )),
                line(&c.backup_exists),
                line(&c.drop_backup),
            ));
            out
        }
    }
}

/// Describe one probe for the text format.
fn describe_probe(p: &Probe) -> String {
    let mut s = line(&p.command);
    if let Some(stdin) = &p.stdin {
        s.push_str(&stdin_note(stdin));
    }
    match &p.expect {
        Expect::Success => {}
        Expect::Output(want) => s.push_str(&format!("  ⇒ prints {want:?}")),
        Expect::OneOf(list) => s.push_str(&format!("  ⇒ prints one of {list:?}")),
        Expect::Line(want) => s.push_str(&format!("  ⇒ prints a line {want:?}")),
    }
    if p.wait {
        s.push_str("  (waits up to 10 s)");
    }
    s
}

fn stdin_note(stdin: &Stdin) -> String {
    if let Some(name) = stdin.script {
        format!("  < {name} on stdin")
    } else if stdin.sensitive {
        format!("  < {} bytes on stdin, holding a secret", stdin.text.len())
    } else {
        let body: Vec<String> = stdin
            .text
            .trim_end()
            .lines()
            .map(|l| format!("        | {l}"))
            .collect();
        format!("  < stdin:\n{}", body.join("\n"))
    }
}

fn describe_action(a: &Action, depth: usize, out: &mut String) {
    let pad = "    ".repeat(depth);
    match a {
        Action::Run { command, stdin } => {
            out.push_str(&format!("{pad}- run {}", line(command)));
            if let Some(s) = stdin {
                out.push_str(&stdin_note(s));
            }
            out.push('\n');
        }
        Action::Write(f) => {
            match &f.as_site {
                Some(user) => out.push_str(&format!(
                    "{pad}- write {} (mode {}, as {user})",
                    f.path, f.mode
                )),
                None => out.push_str(&format!(
                    "{pad}- write {} (mode {}, {}:{})",
                    f.path, f.mode, f.owner, f.group
                )),
            }
            out.push_str(&stdin_note(&f.stdin()));
            out.push('\n');
        }
        Action::Unless { probe, action } => {
            out.push_str(&format!("{pad}- unless {}:\n", describe_probe(probe)));
            describe_action(action, depth + 1, out);
        }
        Action::When { probe, action } => {
            out.push_str(&format!("{pad}- when {}:\n", describe_probe(probe)));
            describe_action(action, depth + 1, out);
        }
        Action::OrElse(first, second) => {
            describe_action(first, depth, out);
            out.push_str(&format!("{pad}  and if that fails:\n"));
            describe_action(second, depth + 1, out);
        }
        Action::Sequence(list) => {
            for a in list {
                describe_action(a, depth, out);
            }
        }
        Action::WriteTested {
            file,
            link,
            test,
            test_new_if,
        } => {
            describe_action(&Action::Write(file.clone()), depth, out);
            if let Some(l) = link {
                out.push_str(&format!("{pad}- link {l} -> {}\n", file.path));
            }
            let when = match test_new_if {
                None => String::new(),
                Some(c) => format!(
                    " when it replaces a previous version or {} passes (a new one is tested by its first start)",
                    line(c)
                ),
            };
            out.push_str(&format!(
                "{pad}- test {}{when}; on failure put the previous {} back\n",
                line(test),
                file.path
            ));
        }
    }
}

/// The plan for a reviewer: each step with its check, changes and verification.
pub fn text(plan: &Plan) -> String {
    let mut out = format!(
        "Plan: {}\nOS profile: {}, service driver: {}\n",
        plan.title,
        plan.profile.name(),
        plan.driver.name()
    );
    for (i, step) in plan.steps.iter().enumerate() {
        out.push_str(&format!(
            "\n{}/{} {}\n",
            i + 1,
            plan.steps.len(),
            step.title
        ));
        if let Some(why) = &step.skip {
            out.push_str(&format!("  skipped: {why}\n"));
            continue;
        }
        if let Some((cond, why)) = &step.only_if {
            out.push_str(&format!(
                "  only where {} (otherwise skipped: {why})\n",
                describe_probe(cond)
            ));
        }
        for g in &step.guards {
            out.push_str(&format!(
                "  refuses when {} and not {}: {}\n",
                describe_probe(&g.when),
                describe_probe(&g.require),
                g.reason
            ));
        }
        if step.check.is_empty() {
            out.push_str("  done when: always applied\n");
        } else {
            out.push_str("  done when all pass:\n");
            for p in &step.check {
                out.push_str(&format!("    - {}\n", describe_probe(p)));
            }
        }
        out.push_str("  changes:\n");
        for a in &step.apply {
            describe_action(a, 1, &mut out);
        }
        if !step.verify.is_empty() {
            out.push_str("  verified by:\n");
            for p in &step.verify {
                out.push_str(&format!("    - {}\n", describe_probe(p)));
            }
        }
        for c in &step.diagnose {
            out.push_str(&format!("  if a check fails, shows: {}\n", line(c)));
        }
    }
    out
}

/// Helpers every rendered script starts with.
///
/// Its first line: bash reads a script on its stdin (`bash -s`, how the panel runs a plan) one
/// byte at a time, since a command might read the rest. Tens of kilobytes of plan cost tens of
/// milliseconds that way; read whole (`cat`) and run from memory they cost none, and no
/// command of the plan can read a word of it. Run as a file (`bash FILE`) it reads as usual.
///
/// Its helpers do with bash's builtins what a process per call did before (`pkill`, `curl`):
/// a site's plan asks and signals often enough that a few milliseconds each add up.
pub const PRELUDE: &str = "if [ -z \"${BASH_SOURCE[0]:-}\" ]; then eval \"$(cat)\"; exit; fi
set -euo pipefail

panel_fail() { printf 'failed: %s\\n' \"$1\" >&2; exit 1; }
panel_one_of() {
  local got=$1 want
  shift
  for want in \"$@\"; do [ \"$got\" = \"$want\" ] && return 0; done
  return 1
}
# Signal $1 to the process its pid file $2 names, if that process is still a $3 (a pid file
# left from before a restart may name another process by now); fails when there is none.
panel_signal() {
  local pid='' comm=''
  { read -r pid <\"$2\" || [ -n \"$pid\" ]; } 2>/dev/null || return 1
  [[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
  { read -r comm </proc/\"$pid\"/comm; } 2>/dev/null || return 1
  [[ $comm == \"$3\"* ]] && kill -s \"$1\" \"$pid\" 2>/dev/null
}
# The status nginx gives http://127.0.0.1/ for Host $1, as curl's %{http_code} prints it
# (000 when nothing answers within 5 s; a connect to loopback is refused or made at once).
panel_http_status() (
  code=
  exec 9<>/dev/tcp/127.0.0.1/80 || { printf 000; exit 0; }
  printf 'GET / HTTP/1.0\\r\\nHost: %s\\r\\nUser-Agent: panel\\r\\n\\r\\n' \"$1\" >&9
  IFS=' ' read -r -t 5 _ code _ <&9 || true
  code=${code%$'\\r'}
  printf '%s' \"${code:-000}\"
)
";

/// What a step prints when its check finds it already done.
pub const ALREADY_DONE: &str = "skipped: already done";

/// One step as shell: skipped (with a message) when its check passes, otherwise applied; then
/// verified. `n` is its number in the plan, for failure messages.
pub fn step_body(step: &super::Step, n: usize) -> String {
    let mut out = String::new();
    if let Some(why) = &step.skip {
        out.push_str(&format!("echo {}\n", quote(&format!("skipped: {why}"))));
        return out;
    }
    if let Some((cond, why)) = &step.only_if {
        let inner = step_body(
            &super::Step {
                only_if: None,
                ..step.clone()
            },
            n,
        );
        out.push_str(&format!(
            "if ! {}; then\n  echo {}\nelse\n{inner}fi\n",
            probe(cond),
            quote(&format!("skipped: {why}"))
        ));
        return out;
    }
    for g in &step.guards {
        out.push_str(&format!(
            "if {} && ! {}; then\n  panel_fail {}\nfi\n",
            probe(&g.when),
            probe(&g.require),
            quote(&format!("step {n}: {}", g.reason))
        ));
    }
    let apply = step
        .apply
        .iter()
        .map(|a| action(a, true))
        .collect::<Vec<_>>()
        .join("\n");
    if step.check.is_empty() {
        out.push_str(&apply);
        out.push('\n');
    } else {
        let checks = step
            .check
            .iter()
            .map(probe)
            .collect::<Vec<_>>()
            .join(" &&\n  ");
        out.push_str(&format!(
            "if {checks}; then\n  echo {}\nelse\n{apply}\nfi\n",
            quote(ALREADY_DONE)
        ));
    }
    for p in &step.verify {
        let what = quote(&format!("step {n}: {}", describe_short(p)));
        // A probe that expects some output says what it got instead (the command once more,
        // its first 200 bytes), so a failure can be understood from the log alone.
        let got = match (&p.expect, &p.stdin) {
            (Expect::Success, _) | (_, Some(_)) => String::new(),
            // A long listing (`semodule -l`) says whether the line was there after all, so a
            // probe that failed only while it was asked is told from one that never held.
            (Expect::Line(want), None) => format!(
                "\"; asked again it prints the line $({} 2>&1 | grep -cxF -- {}) time(s) in $({} 2>&1 | wc -l) lines, starting: $({} 2>&1 | head -c 200)\"",
                closed(&p.command),
                quote(want),
                closed(&p.command),
                closed(&p.command)
            ),
            _ => format!(
                "\"; it printed: $({} 2>&1 | head -c 200)\"",
                closed(&p.command)
            ),
        };
        if step.diagnose.is_empty() {
            out.push_str(&format!("{} || panel_fail {what}{got}\n", probe(p)));
        } else {
            let diagnose: String = step
                .diagnose
                .iter()
                .map(|c| format!("  {} >&2 2>&1 || true\n", closed(c)))
                .collect();
            out.push_str(&format!(
                "if ! {}; then\n{diagnose}  panel_fail {what}{got}\nfi\n",
                probe(p)
            ));
        }
    }
    out
}

/// The plan as a bash script a reviewer can read and run by hand. The job runs exactly these
/// step bodies on the node, one step per remote command.
pub fn script(plan: &Plan) -> String {
    let mut out = format!(
        "#!/usr/bin/env bash
# shellcheck disable=SC2016 # file bodies and SQL are single-quoted on purpose: nothing expands
# {title}
# Written by the panel for {os} with the {driver} service driver. Each step checks
# whether it is already done and is skipped if so; a failed check of the result stops the
# script. Run it as root (`sudo bash FILE`; the panel runs a plan through `sudo -n -- bash -s`):
# work inside a site's home runs as the site's own user (`setpriv`), never as root.
{PRELUDE}",
        title = plan.title,
        os = plan.profile.name(),
        driver = plan.driver.name()
    );
    for (i, step) in plan.steps.iter().enumerate() {
        let n = i + 1;
        let total = plan.steps.len();
        let heading = format!("{n}/{total} {}", step.title);
        out.push_str(&format!(
            "\n# --- {heading}\necho {}\n",
            quote(&format!("==> {heading}"))
        ));
        out.push_str(&step_body(step, n));
    }
    out.push_str("\necho 'done'\n");
    out
}

/// One step for the job log: what it checks, changes and verifies (secrets masked).
pub fn step_text(step: &super::Step) -> String {
    let plan_text = text(&Plan {
        title: String::new(),
        profile: super::Profile::new(crate::domain::OsVersion::Debian12),
        driver: super::Driver::Direct,
        steps: vec![step.clone()],
    });
    // Drop the plan header and the step heading (the job shows the step's title already).
    plan_text.lines().skip(4).collect::<Vec<_>>().join("\n")
}

fn describe_short(p: &Probe) -> String {
    let argv = p.command.argv().join(" ");
    format!("verify: {}", argv.chars().take(120).collect::<String>())
}
