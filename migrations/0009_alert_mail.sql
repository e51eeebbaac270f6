-- SELinux alert mail: which kinds of denial a server has already been mailed about (the first
-- of a kind goes out at once, later ones in the digest), and an outbox so that nothing is
-- dropped: failed sends are retried with backoff and stay visible.
CREATE TABLE alert_kinds (
    server_id  TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 1000),
    first_seen TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (server_id, kind)
) STRICT;

CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    -- 'alert' (sent at once) or 'digest'.
    kind            TEXT NOT NULL CHECK (kind IN ('alert', 'digest')),
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_error      TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    sent_at         TEXT
) STRICT;
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
