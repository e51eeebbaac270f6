//! A server's health now (uptime, load, memory, disk, SELinux mode), read over its pooled
//! connection by `setup/health.sh`: a read, not a change, so not recorded as a job.

use crate::db::servers::Server;
use crate::domain::SelinuxMode;
use crate::error::AppResult;
use crate::ssh::Script;
use crate::state::AppState;

const HEALTH_SCRIPT: &str = include_str!("../../setup/health.sh");

/// Health numbers read from a node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Health {
    pub uptime_seconds: u64,
    pub load: [f64; 3],
    pub cpus: u32,
    pub mem_total_kb: u64,
    pub mem_available_kb: u64,
    pub disk_total_kb: u64,
    pub disk_used_kb: u64,
    pub selinux: Option<SelinuxMode>,
}

impl Health {
    /// Parse the script's `key=value` lines; unknown keys and junk are ignored (node output is
    /// untrusted), missing numbers stay 0.
    pub fn parse(text: &str) -> Health {
        let mut h = Health::default();
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = v.trim();
            match k {
                "uptime_seconds" => h.uptime_seconds = v.parse().unwrap_or(0),
                "load" => {
                    for (slot, n) in h.load.iter_mut().zip(v.split_whitespace()) {
                        *slot = n.parse().unwrap_or(0.0);
                    }
                }
                "cpus" => h.cpus = v.parse().unwrap_or(0),
                "mem_total_kb" => h.mem_total_kb = v.parse().unwrap_or(0),
                "mem_available_kb" => h.mem_available_kb = v.parse().unwrap_or(0),
                "disk_total_kb" => h.disk_total_kb = v.parse().unwrap_or(0),
                "disk_used_kb" => h.disk_used_kb = v.parse().unwrap_or(0),
                "selinux" => h.selinux = v.parse().ok(),
                _ => {}
            }
        }
        h
    }

    pub fn mem_used_percent(&self) -> u64 {
        percent(
            self.mem_total_kb.saturating_sub(self.mem_available_kb),
            self.mem_total_kb,
        )
    }

    pub fn disk_used_percent(&self) -> u64 {
        percent(self.disk_used_kb, self.disk_total_kb)
    }
}

fn percent(part: u64, whole: u64) -> u64 {
    (part * 100).checked_div(whole).unwrap_or(0)
}

/// Read a server's health now, over the server's cached connection.
pub async fn health(state: &AppState, server: &Server) -> AppResult<Health> {
    crate::nodes::read_script(state, server, &Script::new("health", HEALTH_SCRIPT))
        .await
        .map(|out| Health::parse(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_output_is_parsed_and_junk_ignored() {
        let h = Health::parse(
            "uptime_seconds=3600\nload=0.50 0.25 0.10\ncpus=2\nmem_total_kb=1000\nmem_available_kb=250\n\
             disk_total_kb=200\ndisk_used_kb=50\nselinux=enforcing\n<script>=1\ngarbage\nload=x y z\n",
        );
        assert_eq!(h.uptime_seconds, 3600);
        assert_eq!(
            h.load,
            [0.0, 0.0, 0.0],
            "the last (junk) load line wins, as zeros"
        );
        assert_eq!((h.mem_used_percent(), h.disk_used_percent()), (75, 25));
        assert_eq!(h.selinux, Some(SelinuxMode::Enforcing));
        assert_eq!(Health::parse("").disk_used_percent(), 0);
    }
}
