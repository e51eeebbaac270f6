//! What a site's workers are doing, read from the node as the site's user: each process's
//! state, pid and time up (systemd's word for it, or the supervisor's pid file), and the tail of
//! each worker's output from the site's `logs/workers/`. What the node says is untrusted: every
//! field is parsed and bounded, the output kept as text without control characters, the site's
//! secrets blanked out.

use crate::db::servers::Server;
use crate::db::sites::Site;
use crate::db::workers::Worker;
use crate::domain::WorkerProcesses;
use crate::error::{AppError, AppResult};
use crate::ids::WorkerId;
use crate::provision::Driver;
use crate::provision::cron::RUNNER;
use crate::provision::workers::OUTPUT_TAIL;
use crate::ssh::Command;
use crate::state::AppState;

/// One process of a worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessState {
    /// `active`, `activating`, `failed`, `stopped`, … (at most 20 letters, as the node said).
    pub state: String,
    pub pid: Option<u32>,
    pub up_seconds: u64,
}

impl ProcessState {
    pub fn running(&self) -> bool {
        self.state == "active" && self.pid.is_some()
    }
}

/// A worker's processes (in order) and its recent output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerStatus {
    pub processes: Vec<ProcessState>,
    pub output: String,
}

/// Every worker's status, in the order of `workers`.
pub async fn statuses(
    state: &AppState,
    server: &Server,
    site: &Site,
    workers: &[Worker],
) -> AppResult<Vec<WorkerStatus>> {
    if workers.is_empty() {
        return Ok(Vec::new());
    }
    let user = site
        .user()
        .ok_or_else(|| AppError::Conflict("The site has no user yet.".into()))?;
    let driver = match crate::nodes::driver(server) {
        Driver::Systemd => "systemd",
        Driver::Direct => "direct",
    };
    let specs: Vec<String> = workers
        .iter()
        .map(|w| format!("{}:{}", w.id, count(w)))
        .collect();
    let command = Command::new("bash")
        .sudo_as_site(&user)
        .flag("-c")
        .value(format!("exec {RUNNER} status \"$@\""))
        .operand(driver)
        .operand(user.home())
        .operands(&specs);
    let out =
        crate::nodes::read_command(state, server, &command, std::time::Duration::from_secs(10))
            .await?;
    let (spec, password) =
        crate::sites::spec_of(site, &state.secrets).map_err(AppError::Conflict)?;
    let secrets = crate::cron::secrets_of(&spec, password);
    let ids: Vec<(WorkerId, u8)> = workers.iter().map(|w| (w.id, count(w))).collect();
    let mut all = parse(&out, &ids);
    for s in &mut all {
        for secret in &secrets {
            s.output = s.output.replace(secret.as_str(), "[hidden]");
        }
    }
    Ok(all)
}

fn count(w: &Worker) -> u8 {
    WorkerProcesses::from_stored(w.processes).map_or(1, WorkerProcesses::get)
}

/// The runner's output matched to `workers` (id, process count); lines for other ids or
/// process numbers, or past what was asked for, are ignored.
pub fn parse(out: &str, workers: &[(WorkerId, u8)]) -> Vec<WorkerStatus> {
    let mut all: Vec<WorkerStatus> = workers
        .iter()
        .map(|(_, n)| WorkerStatus {
            processes: vec![
                ProcessState {
                    state: "unknown".into(),
                    pid: None,
                    up_seconds: 0,
                };
                usize::from(*n)
            ],
            output: String::new(),
        })
        .collect();
    let most: usize = workers.iter().map(|(_, n)| usize::from(*n) + 1).sum();
    let find = |id: &str| workers.iter().position(|(w, _)| w.to_string() == id);
    for line in out.lines().take(most) {
        if let Some(rest) = line.strip_prefix('@') {
            let words: Vec<&str> = rest.split(' ').collect();
            let [id, k, state, pid, up] = words.as_slice() else {
                continue;
            };
            let (Some(i), Ok(k)) = (find(id), k.parse::<usize>()) else {
                continue;
            };
            let Some(slot) = k.checked_sub(1).and_then(|k| all[i].processes.get_mut(k)) else {
                continue;
            };
            if state.is_empty()
                || state.len() > 20
                || !state.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            {
                continue;
            }
            *slot = ProcessState {
                state: (*state).to_owned(),
                pid: pid.parse::<u32>().ok().filter(|p| *p > 0),
                up_seconds: up.parse().unwrap_or(0),
            };
        } else if let Some(rest) = line.strip_prefix('#') {
            let Some((id, b64)) = rest.split_once(' ') else {
                continue;
            };
            let Some(i) = find(id) else { continue };
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .unwrap_or_default();
            let whole = crate::cron::last_run::whole_lines(&bytes, OUTPUT_TAIL);
            all[i].output = crate::cron::last_run::printable(&String::from_utf8_lossy(whole))
                .chars()
                .take(OUTPUT_TAIL)
                .collect();
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_node_says_is_parsed_bounded_and_stripped() {
        let a: WorkerId = "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap();
        let b: WorkerId = "01ARZ3NDEKTSV4RRFFQ69G5FAW".parse().unwrap();
        use base64::Engine;
        let out =
            base64::engine::general_purpose::STANDARD.encode("job 1 done\n\u{1b}[2Jx\u{202e}\r\n");
        let text = format!(
            "@{a} 1 active 4242 17\n@{a} 2 failed 0 0\n@{a} 3 active 1 1\n#{a} {out}\n@{b} 1 <b>x</b> 5 5\n#{b} !!\n"
        );
        let all = parse(&text, &[(a, 2), (b, 1)]);
        assert_eq!(
            all[0].processes[0],
            ProcessState {
                state: "active".into(),
                pid: Some(4242),
                up_seconds: 17
            }
        );
        assert!(all[0].processes[0].running());
        assert!(!all[0].processes[1].running());
        assert_eq!(all[0].processes.len(), 2, "a third process is not made up");
        assert_eq!(all[0].output, "job 1 done\n[2Jx\n");
        assert_eq!(
            all[1].processes[0].state, "unknown",
            "hostile state refused"
        );
        assert_eq!(all[1].output, "");
    }
}
