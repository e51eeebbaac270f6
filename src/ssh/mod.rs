//! Talking to managed nodes: the command builder (the only way to make a remote command line),
//! the SSH client with host-key pinning, and streaming of remote output.

pub mod client;
pub mod command;
pub mod pool;

pub use command::{Command, CommandError, Script};
