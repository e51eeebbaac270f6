//! Code that reasons about SELinux on managed nodes: the audit log parser (and later the AVC
//! explanations and MCS allocation). The policy source itself lives in the top-level `selinux/`.

pub mod audit;
