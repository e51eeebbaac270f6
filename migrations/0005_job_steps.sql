-- The steps of a job (describe → check → apply → verify units), in order, with their outcome.
CREATE TABLE job_steps (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL CHECK (position >= 1),
    description TEXT NOT NULL CHECK (length(description) BETWEEN 1 AND 200),
    status      TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'skipped', 'failed')),
    started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT,
    UNIQUE (job_id, position)
) STRICT;
