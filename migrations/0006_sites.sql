-- Sites: how each server's services are controlled, the site's own .env entries (sealed), the
-- job that last changed the site (its live log on the site page), and the node's confirmation.

-- `systemd` on real servers; `direct` (binaries, pid files, signals) where no init system runs.
ALTER TABLE servers ADD COLUMN service_driver TEXT NOT NULL DEFAULT 'systemd'
    CHECK (service_driver IN ('systemd', 'direct'));

-- JSON object of the site's own .env keys, AES-256-GCM sealed (values may be secrets).
ALTER TABLE sites ADD COLUMN env_encrypted BLOB;
ALTER TABLE sites ADD COLUMN last_job_id TEXT REFERENCES jobs (id) ON DELETE SET NULL;
-- When the node's signed site-created callback arrived.
ALTER TABLE sites ADD COLUMN confirmed_at TEXT;
