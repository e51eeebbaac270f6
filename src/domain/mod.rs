//! Parsed value types and the status/kind enums that mirror the schema's CHECK constraints.
//! Code past the edge of the app holds these, never unchecked strings.

pub mod enums;

pub use enums::*;

pub mod names;
pub use names::KeyName;

pub mod site;
pub use site::{DbName, EnvKey, SiteDomain, SiteUser};

pub mod server;
pub use server::{Hostname, ServerConnection, ServerIp, SshPort, SshUser};

pub mod git;
pub use git::{CommitHash, DeployScript, GitBranch, KeepReleases, RepoUrl, Transport};
