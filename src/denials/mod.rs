//! SELinux denials (and the other SELinux records) from the managed servers: the collector that
//! follows every active server's audit log and stores what it reads, the records page's
//! filter, and the alert mail sent about them.

pub mod alerts;
pub mod collect;
pub mod filter;
