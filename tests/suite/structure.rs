//! Structural rules checked over the source tree, so they hold for code written later too.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

/// No code formats data into a shell command line: remote commands are built only with
/// `ssh::Command` / `ssh::Script`.
#[test]
fn no_format_macro_builds_a_shell_line() {
    let shellish = [
        "bash",
        "sh -c",
        "sudo",
        "useradd",
        "userdel",
        "nginx",
        "systemctl",
        "mysql",
        "mariadb",
        "psql",
        "semanage",
        "restorecon",
        "chcon",
        "git ",
        "chown",
        "chmod",
        "php-fpm",
        "rm -",
    ];
    let mut offenders = Vec::new();
    for (path, text) in sources() {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if let Some(i) = code.find("format!(\"") {
                // The format string: a command line starts with a program, or chains one
                // after `;`, `|`, `&&` or inside `$(…)`. Paths and sentences that merely
                // name a program (`/etc/nginx/…`, "Configure the nginx vhost") are not lines.
                let literal = code[i + 9..].split('"').next().unwrap_or("");
                let runs = |w: &str| {
                    literal.trim_start().starts_with(w)
                        || ["; ", "| ", "&& ", "$("]
                            .iter()
                            .any(|sep| literal.contains(&format!("{sep}{w}")))
                };
                if shellish.iter().any(|w| runs(w)) {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "shell lines built with format!:\n{}",
        offenders.join("\n")
    );
}

/// Only the SSH client itself touches the SSH libraries, so every remote command passes through
/// the command builder's rendering (`Session::run` takes a `Command`, never a string).
#[test]
fn only_the_ssh_client_uses_the_ssh_libraries() {
    for (path, text) in sources() {
        if path.ends_with("ssh/client.rs") {
            continue;
        }
        for needle in ["async_ssh2_tokio", "russh::"] {
            assert!(!text.contains(needle), "{} uses {needle}", path.display());
        }
    }
}
