-- Audit-log collection: where each server's log was last read (inode + byte offset, so rotation
-- and truncation are noticed), and each record's event identity for deduplication.
CREATE TABLE selinux_log_positions (
    server_id  TEXT PRIMARY KEY NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    inode      INTEGER NOT NULL CHECK (inode >= 0),
    offset     INTEGER NOT NULL CHECK (offset >= 0),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- The record's event (serial and time) and its place among the event's SELinux records: a
-- record read twice (after a dropped connection) is stored once.
ALTER TABLE selinux_audit_logs ADD COLUMN serial INTEGER;
ALTER TABLE selinux_audit_logs ADD COLUMN event_time TEXT;
ALTER TABLE selinux_audit_logs ADD COLUMN event_index INTEGER;
CREATE UNIQUE INDEX selinux_audit_logs_event
    ON selinux_audit_logs (server_id, serial, event_time, event_index)
    WHERE serial IS NOT NULL;
