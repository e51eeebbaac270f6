-- A site's workers: long-running processes (queue workers, daemons) run as the site's own
-- user, as many as `processes`, restarted by `restart`, stopped with `stop_signal` and killed
-- after `stop_timeout` seconds. The node holds the command and settings in root's files
-- (/etc/panel/site-workers/USER) and the output in the site's logs/workers/.

CREATE TABLE site_workers (
    id            TEXT PRIMARY KEY NOT NULL,
    site_id       TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    command       TEXT NOT NULL CHECK (length(command) BETWEEN 1 AND 1000),
    processes     INTEGER NOT NULL DEFAULT 1 CHECK (processes BETWEEN 1 AND 20),
    restart       TEXT NOT NULL DEFAULT 'always' CHECK (restart IN ('always', 'on-failure', 'never')),
    stop_signal   TEXT NOT NULL DEFAULT 'TERM'
                  CHECK (stop_signal IN ('TERM', 'INT', 'QUIT', 'HUP', 'USR1', 'USR2')),
    stop_timeout  INTEGER NOT NULL DEFAULT 60 CHECK (stop_timeout BETWEEN 1 AND 600),
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE INDEX site_workers_site ON site_workers (site_id, id);
