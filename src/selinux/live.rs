//! A SELinux record as the collector has just stored it: what the live toasts and the alert
//! mail are made from. Kept apart from the collector so that what is announced (here) sits
//! below the code that announces it and the code that listens.

use super::audit::Record;
use super::explain::Explanation;
use crate::domain::LogLevel;
use crate::ids::{AuditLogId, ServerId};

#[derive(Clone, Debug)]
pub struct LiveRecord {
    pub id: AuditLogId,
    pub server_id: ServerId,
    pub server_name: String,
    pub level: LogLevel,
    pub record: Record,
    pub explanation: Option<Explanation>,
}
