-- A site's cron jobs: what runs, when (cron syntax, normalised, evaluated in UTC), as the site's
-- own user. The node holds the command and schedule in root's files (/etc/panel/site-jobs/USER)
-- and the last run's exit code and output in the site's logs/cron/, read back when shown.

CREATE TABLE site_cron_jobs (
    id          TEXT PRIMARY KEY NOT NULL,
    site_id     TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    schedule    TEXT NOT NULL CHECK (length(schedule) BETWEEN 9 AND 200),
    command     TEXT NOT NULL CHECK (length(command) BETWEEN 1 AND 1000),
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    -- What made it: the user, or a preset at the site's creation (`laravel`, `wordpress`).
    origin      TEXT NOT NULL DEFAULT 'user' CHECK (origin IN ('user', 'laravel', 'wordpress')),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE INDEX site_cron_jobs_site ON site_cron_jobs (site_id, id);
