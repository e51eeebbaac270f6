-- Bounded history. SELinux records beyond a server's per-minute allowance are counted here
-- instead of stored (a tenant flooding denials cannot fill the panel's disk); old records, server
-- log lines and finished jobs are removed after the configured number of days, and these
-- indexes keep that removal from scanning whole tables (selinux_audit_logs has one on its time).
ALTER TABLE selinux_log_positions ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0 CHECK (dropped >= 0);
CREATE INDEX server_logs_time ON server_logs (created_at);
CREATE INDEX jobs_finished ON jobs (finished_at);
