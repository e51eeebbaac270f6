//! Integration tests: one binary (fast to link) that boots the real panel and real components.

mod harness;

mod binary;
mod foundation;
mod keys;
mod schema;
