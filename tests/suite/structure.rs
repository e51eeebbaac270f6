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

/// SQL lives in `src/db/` only: every other module calls a function there.
#[test]
fn sql_is_only_written_in_the_db_module() {
    let mut offenders = Vec::new();
    for (path, text) in sources() {
        if path.components().any(|c| c.as_os_str() == "db") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            if line.contains("sqlx::query") || line.contains("sqlx::raw_sql") {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "SQL outside src/db/ (add a function to a db module instead):\n{}",
        offenders.join("\n")
    );
}

/// A source file's module path (`src/web/jobs/views.rs` → `web::jobs::views`; `mod.rs`, `lib.rs`
/// and `main.rs` stand for their folder), as `/`-joined text for the floor table.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The text of a file before its test module (tests may import anything).
fn before_tests(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// The module paths a file refers to through `crate::` and `super::` (group imports
/// `crate::a::{b, c}` count as `a::b` and `a::c`), resolved against its own module path.
fn references(here: &[String], text: &str) -> Vec<Vec<String>> {
    fn ident(s: &str) -> (&str, &str) {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        s.split_at(end)
    }
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let starts = (rest.starts_with("crate::") || rest.starts_with("super::"))
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
        if !starts {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        // The base: the crate root, or the parent of `here` for each `super`.
        let mut base: Vec<String> = Vec::new();
        let mut s = rest;
        if let Some(r) = s.strip_prefix("crate::") {
            s = r;
        } else {
            base = here[..here.len().saturating_sub(1)].to_vec();
            s = &s["super::".len()..];
            while let Some(r) = s.strip_prefix("super::") {
                base.pop();
                s = r;
            }
        }
        let mut path = base;
        loop {
            if let Some(group) = s.strip_prefix('{') {
                // Items of a group: the first segment of each (nested groups are rare here).
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let (name, _) = ident(item.trim());
                    let mut p = path.clone();
                    if !name.is_empty() && name != "self" {
                        p.push(name.to_owned());
                    }
                    out.push(p);
                }
                break;
            }
            let (name, after) = ident(s);
            if name.is_empty() {
                out.push(path);
                break;
            }
            path.push(name.to_owned());
            match after.strip_prefix("::") {
                Some(r) => s = r,
                None => {
                    out.push(path);
                    break;
                }
            }
        }
        // Past the whole path, so `super::super::x` is read once.
        i += (rest.len() - s.len()).max(1);
    }
    out
}

/// The file-level import graph of `src/`: for every file, the files it refers to.
fn import_graph() -> Vec<(String, Vec<String>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = sources();
    let modules: Vec<(Vec<String>, String)> = files
        .iter()
        .map(|(p, _)| {
            (
                module_of(&src, p),
                p.strip_prefix(&src).unwrap().display().to_string(),
            )
        })
        .collect();
    let resolve = |path: &[String]| -> Option<String> {
        (1..=path.len()).rev().find_map(|k| {
            modules
                .iter()
                .find(|(m, _)| m.as_slice() == &path[..k])
                .map(|(_, f)| f.clone())
        })
    };
    files
        .iter()
        .map(|(p, text)| {
            let here = module_of(&src, p);
            let name = p.strip_prefix(&src).unwrap().display().to_string();
            let mut to: Vec<String> = references(&here, before_tests(text))
                .iter()
                .filter_map(|r| resolve(r))
                .filter(|f| *f != name)
                .collect();
            to.sort();
            to.dedup();
            (name, to)
        })
        .collect()
}

/// No import cycles: a module never refers, directly or through others, to one that refers back
/// to it (strongly connected components of the file graph, Tarjan's algorithm).
#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = import_graph();
    let index = |f: &str| graph.iter().position(|(n, _)| n == f).unwrap();
    let edges: Vec<Vec<usize>> = graph
        .iter()
        .map(|(_, to)| to.iter().map(|t| index(t)).collect())
        .collect();
    struct Tarjan<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        cycles: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in &self.edges[v] {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(i) if self.on_stack[w] => self.low[v] = self.low[v].min(i),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.cycles.push(component);
                }
            }
        }
    }
    let n = graph.len();
    let mut t = Tarjan {
        edges: &edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        cycles: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    let cycles: Vec<String> = t
        .cycles
        .iter()
        .map(|c| {
            let mut names: Vec<&str> = c.iter().map(|&i| graph[i].0.as_str()).collect();
            names.sort();
            names.join(" ⇄ ")
        })
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

/// The floors of ARCHITECTURE.md, top (5) to bottom (1): a file's floor is that of the longest
/// matching prefix. A new file must land on a floor (this table fails the test otherwise).
const FLOORS: &[(&str, u8)] = &[
    // 5: the faces (entry points, start-up, HTTP).
    ("main.rs", 5),
    ("lib.rs", 5),
    ("cli/", 5),
    ("app.rs", 5),
    ("web/", 5),
    ("api/", 5),
    // 4: the action floor, one folder per resource.
    ("servers/", 4),
    ("sites/", 4),
    ("software/", 4),
    ("deployments/", 4),
    ("ssh_keys/", 4),
    ("users/", 4),
    ("account/", 4),
    ("server_selinux/", 4),
    ("denials/", 4),
    ("certificates/", 4),
    ("cron/", 4),
    ("workers/", 4),
    ("panel_cert/", 4),
    ("api_tokens/", 4),
    ("audit/", 4),
    // 3: plans as data, the door to the nodes, durable jobs, the state actions share.
    ("provision/", 3),
    ("nodes/", 3),
    ("jobs/", 3),
    ("state.rs", 3),
    ("selinux/manage.rs", 3),
    // 2: storage, secrets, transport, sessions; the audit log parser and its explanations.
    ("db/", 2),
    ("crypto/", 2),
    ("ssh/", 2),
    ("auth/", 2),
    ("secrets.rs", 2),
    ("selinux/", 2),
    ("tls/", 2),
    // 1: values: parsed types, ids, the error type, settings, URLs.
    ("domain/", 1),
    ("ids.rs", 1),
    ("error.rs", 1),
    ("config/", 1),
    ("paths.rs", 1),
    ("telemetry.rs", 1),
];

/// Imports that run from a lower floor to a higher one, each explained in ARCHITECTURE.md.
const UPWARD_EXCEPTIONS: &[(&str, &str)] = &[];

fn floor_of(file: &str) -> Option<u8> {
    FLOORS
        .iter()
        .filter(|(prefix, _)| file == *prefix || file.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, floor)| *floor)
}

/// A floor imports only floors below it (or its own): actions never reach up into the web
/// layer, plans and the node door never into actions, storage never into plans.
#[test]
fn no_floor_imports_a_higher_one() {
    let graph = import_graph();
    let mut unplaced = Vec::new();
    let mut upward = Vec::new();
    for (file, to) in &graph {
        let Some(here) = floor_of(file) else {
            unplaced.push(file.clone());
            continue;
        };
        for t in to {
            let there = floor_of(t).unwrap_or(0);
            if there > here && !UPWARD_EXCEPTIONS.contains(&(file.as_str(), t.as_str())) {
                upward.push(format!("{file} (floor {here}) → {t} (floor {there})"));
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "files on no floor (add them to FLOORS and ARCHITECTURE.md): {unplaced:?}"
    );
    assert!(
        upward.is_empty(),
        "imports from a lower floor to a higher one:\n{}",
        upward.join("\n")
    );
}

/// Rooms small enough to hold in one's head: no file over 700 lines before its test module.
#[test]
fn no_source_file_is_over_700_lines_before_its_tests() {
    let big: Vec<String> = sources()
        .iter()
        .map(|(p, text)| (p, before_tests(text).lines().count()))
        .filter(|(_, n)| *n > 700)
        .map(|(p, n)| format!("{} ({n} lines)", p.display()))
        .collect();
    assert!(big.is_empty(), "files over 700 lines: {big:?}");
}

/// The graph reader itself: group imports, `super` chains and prefixes resolve to files.
#[test]
fn the_import_reader_resolves_groups_and_super() {
    let here: Vec<String> = ["web", "jobs", "handlers"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let refs = references(
        &here,
        "use crate::domain::{JobStatus, LogStream};\nuse super::views;\nuse super::super::paths;\n",
    );
    let text: Vec<String> = refs.iter().map(|r| r.join("::")).collect();
    assert_eq!(
        text,
        [
            "domain::JobStatus",
            "domain::LogStream",
            "web::jobs::views",
            "web::paths"
        ]
    );
}
