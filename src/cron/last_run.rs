//! The last run of each of a site's cron jobs, read from the node as the site's user (the
//! runner keeps them in the site's `logs/cron/`): what the site user wrote there is untrusted,
//! so every field is parsed, bounded, and the output kept as text without control characters.

use chrono::{DateTime, Utc};

use crate::db::servers::Server;
use crate::db::sites::Site;
use crate::error::{AppError, AppResult};
use crate::ids::CronJobId;
use crate::ssh::Command;
use crate::state::AppState;

/// How much of the last output the tab shows (the whole kept tail is in a run-now job's log).
pub const SHOWN_OUTPUT: usize = 4096;

/// For each job id: its status line and its output tail in base64 (one line per job, whatever
/// the files hold). Run as the site user: `bash -c READ -- HOME ID…`.
const READ: &str = "home=$1; shift; for id; do \
     printf '@%s ' \"$id\"; \
     if [ -f \"$home/logs/cron/$id.status\" ]; then timeout 2 head -c 100 -- \"$home/logs/cron/$id.status\" | head -n 1 | tr -d '\\n'; fi; \
     printf ' |'; \
     if [ -f \"$home/logs/cron/$id.out\" ]; then timeout 2 tail -c 4096 -- \"$home/logs/cron/$id.out\" | base64 -w0; fi; \
     printf '\\n'; done";

/// A job's last run as the node reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LastRun {
    /// A run has started and not ended.
    pub running: bool,
    pub exit: Option<i32>,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub output: String,
}

/// Every job's last run (`None` for a job that has not run), in the order of `ids`; the site's
/// secrets (`secrets_of`) blanked out of the output.
pub async fn last_runs(
    state: &AppState,
    server: &Server,
    site: &Site,
    ids: &[CronJobId],
) -> AppResult<Vec<Option<LastRun>>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let user = site
        .user()
        .ok_or_else(|| AppError::Conflict("The site has no user yet.".into()))?;
    let command = Command::new("bash")
        .sudo_as_site(&user)
        .flag("-c")
        .value(READ)
        .operand(user.home())
        .operands(ids);
    let out =
        crate::nodes::read_command(state, server, &command, std::time::Duration::from_secs(10))
            .await?;
    let (spec, password) =
        crate::sites::spec_of(site, &state.secrets).map_err(AppError::Conflict)?;
    let secrets = super::secrets_of(&spec, password);
    let mut runs = parse(&out, ids);
    for run in runs.iter_mut().flatten() {
        for s in &secrets {
            run.output = run.output.replace(s.as_str(), "[hidden]");
        }
    }
    Ok(runs)
}

/// The reader's output, matched to `ids` (a line for another id, or a second one, is ignored).
pub fn parse(out: &str, ids: &[CronJobId]) -> Vec<Option<LastRun>> {
    let mut runs: Vec<Option<LastRun>> = vec![None; ids.len()];
    for line in out.lines().take(ids.len()) {
        let Some(rest) = line.strip_prefix('@') else {
            continue;
        };
        let Some((id, rest)) = rest.split_once(' ') else {
            continue;
        };
        let Some(i) = ids.iter().position(|j| j.to_string() == id) else {
            continue;
        };
        let Some((status, output)) = rest.rsplit_once(" |") else {
            continue;
        };
        runs[i] = status_of(status, output);
    }
    runs
}

fn status_of(status: &str, output: &str) -> Option<LastRun> {
    let words: Vec<&str> = status.split_whitespace().collect();
    let time = |w: &str| {
        w.parse::<i64>()
            .ok()
            .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
    };
    let mut run = match words.as_slice() {
        ["running", start] => LastRun {
            running: true,
            started: time(start),
            ..LastRun::default()
        },
        [code, start, end] => LastRun {
            exit: code.parse::<i32>().ok(),
            started: time(start),
            ended: time(end),
            ..LastRun::default()
        },
        _ => return None,
    };
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(output.trim())
        .unwrap_or_default();
    run.output = printable(&String::from_utf8_lossy(whole_lines(&bytes, SHOWN_OUTPUT)))
        .chars()
        .take(SHOWN_OUTPUT)
        .collect();
    Some(run)
}

/// The tail of a file as read (`cap` bytes at most): when it was cut, its first line is only
/// the end of one and goes (so a secret cut in two is not shown in part where blanking a whole
/// one would not find it).
pub fn whole_lines(bytes: &[u8], cap: usize) -> &[u8] {
    if bytes.len() < cap {
        return bytes;
    }
    match bytes.iter().position(|b| *b == b'\n') {
        Some(i) => &bytes[i + 1..],
        None => &[],
    }
}

/// Output from a site's process as text to show: lines and tabs kept, other control characters
/// (escapes, `\r` overwrites) and reordering marks dropped.
pub fn printable(text: &str) -> String {
    text.chars()
        .filter(|c| (!c.is_control() || *c == '\n' || *c == '\t') && !bidi(*c))
        .collect()
}

/// Characters that reorder how text reads (a line that shows one thing and is another).
fn bidi(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_site_user_wrote_is_parsed_bounded_and_stripped() {
        let a: CronJobId = "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap();
        let b: CronJobId = "01ARZ3NDEKTSV4RRFFQ69G5FAW".parse().unwrap();
        let c: CronJobId = "01ARZ3NDEKTSV4RRFFQ69G5FAX".parse().unwrap();
        use base64::Engine;
        let out = base64::engine::general_purpose::STANDARD.encode("ok\n\u{1b}[2Jdone\u{202e}\r\n");
        let text = format!(
            "@{a} 0 1765000000 1765000002 |{out}\n@{b} running 1765000000 |\n@{c} <script> |x\n"
        );
        let runs = parse(&text, &[a, b, c]);
        let first = runs[0].as_ref().unwrap();
        assert_eq!(first.exit, Some(0));
        assert_eq!(first.output, "ok\n[2Jdone\n");
        assert!(first.ended.unwrap() > first.started.unwrap());
        assert!(runs[1].as_ref().unwrap().running);
        assert_eq!(runs[2], None);
        // A tail that was cut starts at its first whole line.
        assert_eq!(whole_lines(b"ret-123\nnext\n", 13), b"next\n");
        assert_eq!(whole_lines(b"short\n", 13), b"short\n");
        assert_eq!(whole_lines(b"no-newline-at-all", 5), b"");
        // More lines than ids, or lines for other ids, change nothing.
        let runs = parse(&format!("@{c} 1 1 1 |\n@{a} 3 1 1 |\n"), &[a]);
        assert_eq!(runs, vec![None]);
    }
}
