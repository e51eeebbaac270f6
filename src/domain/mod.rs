//! Parsed value types and the status/kind enums that mirror the schema's CHECK constraints.
//! Code past the edge of the app holds these, never unchecked strings.

pub mod enums;

/// Text from outside the panel (a node's output, a webhook payload) kept as data: control
/// characters (ANSI escapes, `\r` overwrites, newlines) dropped, at most `max` characters.
pub fn untrusted_text(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

pub use enums::*;

pub mod roles;
pub use roles::{Perm, Principal};

pub mod names;
pub use names::KeyName;

pub mod site;
pub use site::{DbName, EnvKey, SiteDomain, SiteUser};

pub mod server;
pub use server::{Hostname, ServerConnection, ServerIp, SshPort, SshUser};

pub mod git;
pub use git::{CommitHash, DeployScript, GitBranch, KeepReleases, RepoUrl, Transport};

pub mod cron;
pub use cron::{CronCommand, CronSchedule};

pub mod worker;
pub use worker::{StopTimeout, WorkerProcesses};

pub mod php_settings;
pub use php_settings::{PhpSettings, Timezone};

pub mod nginx_block;
pub use nginx_block::NginxBlock;

pub mod redirect;
pub use redirect::Redirect;

pub mod mcs;
pub use mcs::McsPair;

pub mod listing;
pub use listing::{
    CertificateSort, Cursor, DatabaseSort, Dir, ListForm, ListQuery, Page, ServerSort, SiteSort,
    SortKey, TimeSort,
};

pub mod known_hosts;
pub use known_hosts::KnownHost;
