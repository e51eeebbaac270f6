//! Code that reasons about SELinux on managed nodes: the audit log parser and its explanations
//! (pure, no I/O), the record announced live when one is stored, and the plans that manage a
//! node's SELinux (module, booleans, relabelling, enforcing). What acts on them lives on the
//! action floor: `server_selinux` (a server's SELinux tab) and `denials` (collection, the
//! records page's filter, alert mail). The per-site category pairs are a value
//! (`domain::McsPair`); the policy module's source lives in the top-level `selinux/`.

pub mod audit;
pub mod explain;
pub mod json;
pub mod live;
pub mod manage;
pub mod stream;
