-- Durable jobs: every remote operation is a job with ordered steps and a persisted log.

CREATE TABLE jobs (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    server_id   TEXT REFERENCES servers (id) ON DELETE CASCADE,
    actor_id    TEXT REFERENCES users (id) ON DELETE SET NULL,
    -- What the job does (e.g. `server.onboard`); with `args` enough to run it again on retry.
    kind        TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    args        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(args)),
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    status      TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'success', 'failed', 'interrupted')),
    exit_code   INTEGER,
    error       TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    started_at  TEXT,
    finished_at TEXT
) STRICT;
CREATE INDEX jobs_status ON jobs (status);
CREATE INDEX jobs_server ON jobs (server_id, created_at);

-- Log lines in arrival order. An integer key (the rowid) keeps them ordered and compact: these
-- rows are many and never referenced from elsewhere.
CREATE TABLE job_log (
    seq        INTEGER PRIMARY KEY,
    job_id     TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    stream     TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr', 'panel')),
    line       TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX job_log_job ON job_log (job_id, seq);
