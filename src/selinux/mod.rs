//! Code that reasons about SELinux on managed nodes: the audit log parser and the per-site MCS
//! categories. The policy module's source lives in the top-level `selinux/`.

pub mod audit;
pub mod collect;
pub mod explain;
pub mod jobs;
pub mod manage;
pub mod mcs;
