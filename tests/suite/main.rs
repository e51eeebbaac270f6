//! Integration tests: one binary (fast to link) that boots the real panel and real components.

mod harness;

mod alert_mail;
mod api;
mod audit_collect;
mod auth;
mod binary;
mod browser;
mod certificates;
mod cron;
mod deployments;
mod foundation;
mod host_keys;
mod hostile_http;
mod jobs;
mod keys;
mod lists;
mod mcs;
mod newcomer;
mod nodes;
mod panel_tls;
mod passkeys;
mod plans;
mod retention;
mod schema;
mod selinux_policy;
mod selinux_vm;
mod server_selinux;
mod servers;
mod site_php;
mod sites;
mod ssh;
mod structure;
mod tenant;
mod ux;
mod webhooks;
