//! Panel: a self-hosted, SELinux-first server management panel.
//!
//! `main.rs` only calls [`cli::main`]; the web app is built in [`app`], SQL lives in [`db`],
//! parsed value types in [`domain`], and the HTTP layer in [`web`].

pub mod account;
pub mod api;
pub mod api_tokens;
pub mod app;
pub mod audit;
pub mod auth;
pub mod certificates;
pub mod cli;
pub mod config;
pub mod cron;
pub mod crypto;
pub mod db;
pub mod denials;
pub mod deployments;
pub mod domain;
pub mod error;
pub mod ids;
pub mod jobs;
pub mod nodes;
pub mod panel_cert;
pub mod paths;
pub mod provision;
pub mod secrets;
pub mod selinux;
pub mod server_selinux;
pub mod servers;
pub mod sites;
pub mod software;
pub mod ssh;
pub mod ssh_keys;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod users;
pub mod web;
pub mod workers;
