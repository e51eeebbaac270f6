-- Roles, API tokens and the audit log.
--
-- Every user has a role. Users from before roles existed could do everything, so they become
-- owners; every new user is given a role explicitly (an invitation carries it).
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'owner'
    CHECK (role IN ('owner', 'admin', 'operator', 'viewer'));
ALTER TABLE enrolment_tokens ADD COLUMN role TEXT
    CHECK (role IS NULL OR role IN ('owner', 'admin', 'operator', 'viewer'));

-- API tokens: `pnl_` + a public id (the row's lookup key, shown in lists) + a secret part. Only
-- the SHA-256 of the whole token is kept (it is 256 random bits: no slow hash needed). A token's
-- role is never above its creator's (checked when it is made and again on every use). A token
-- made on the panel host's command line has no user (the host's operator is the trust root).
CREATE TABLE api_tokens (
    id             TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    user_id        TEXT REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    prefix         TEXT NOT NULL UNIQUE CHECK (length(prefix) = 16),
    token_hash     TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    role           TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'operator', 'viewer')),
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at     TEXT,
    last_used_at   TEXT,
    last_used_from TEXT CHECK (last_used_from IS NULL OR length(last_used_from) <= 64),
    revoked_at     TEXT,
    -- Limited to the servers in api_token_servers; when those are deleted it reaches none
    -- (never "every server").
    limited        INTEGER NOT NULL DEFAULT 0 CHECK (limited IN (0, 1))
) STRICT;

-- A token limited to some servers sees and touches only them (no rows: every server).
CREATE TABLE api_token_servers (
    token_id  TEXT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    server_id TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    PRIMARY KEY (token_id, server_id)
) STRICT, WITHOUT ROWID;

-- Every state-changing action: who (a user, a token, the command line, a webhook, a node's
-- callback), what (action, target, outcome), when, from where. Rows are append-only: the
-- triggers refuse every UPDATE, and a DELETE of a row younger than the retention cutoff (the
-- only deletion is retention, which moves the cutoff first).
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor_kind  TEXT NOT NULL CHECK (actor_kind IN ('user', 'token', 'cli', 'webhook', 'node', 'anonymous')),
    actor_id    TEXT CHECK (actor_id IS NULL OR length(actor_id) <= 64),
    actor_name  TEXT NOT NULL CHECK (length(actor_name) <= 300),
    action      TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    target_kind TEXT CHECK (target_kind IS NULL OR length(target_kind) <= 50),
    target_id   TEXT CHECK (target_id IS NULL OR length(target_id) <= 64),
    outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'invalid', 'failed')),
    status      INTEGER CHECK (status IS NULL OR status BETWEEN 100 AND 599),
    via         TEXT NOT NULL CHECK (via IN ('web', 'api', 'cli', 'webhook', 'callback')),
    source      TEXT CHECK (source IS NULL OR length(source) <= 64)
) STRICT;
-- The Audit page's order (newest first) and each of its filters lead an index.
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (actor_name, at, id);
CREATE INDEX audit_log_action ON audit_log (action, at, id);
CREATE INDEX audit_log_target ON audit_log (target_id, at, id);
CREATE INDEX audit_log_outcome ON audit_log (outcome, at, id);

CREATE TABLE audit_retention (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    cutoff   TEXT NOT NULL
) STRICT;
INSERT INTO audit_retention (only_row, cutoff) VALUES (1, '');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log rows cannot be changed');
END;

CREATE TRIGGER audit_log_only_retention BEFORE DELETE ON audit_log
WHEN old.at >= coalesce((SELECT cutoff FROM audit_retention WHERE only_row = 1), '')
BEGIN
    SELECT RAISE(ABORT, 'audit log rows are removed only by retention');
END;

-- A row is written once, at the time it happens: no replacing a row by its id (INSERT OR
-- REPLACE would pass the UPDATE trigger), no row dated in the past (into reach of retention).
CREATE TRIGGER audit_log_insert_once BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = new.id)
  OR new.at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-60 seconds')
BEGIN
    SELECT RAISE(ABORT, 'audit log rows are written once, when they happen');
END;

-- The retention row is never removed or replaced (a missing cutoff would let every row go).
CREATE TRIGGER audit_retention_no_delete BEFORE DELETE ON audit_retention
BEGIN
    SELECT RAISE(ABORT, 'the audit retention cutoff cannot be removed');
END;
CREATE TRIGGER audit_retention_no_insert BEFORE INSERT ON audit_retention
WHEN (SELECT count(*) FROM audit_retention) > 0
BEGIN
    SELECT RAISE(ABORT, 'the audit retention cutoff cannot be replaced');
END;

-- The cutoff only moves forward: retention cannot be turned back to delete newer rows later.
CREATE TRIGGER audit_retention_forward BEFORE UPDATE ON audit_retention
WHEN new.cutoff < old.cutoff
BEGIN
    SELECT RAISE(ABORT, 'the audit retention cutoff only moves forward');
END;

-- Sessions remember when their user last proved presence with a passkey (login or a
-- confirmation): revealing a secret, adding a passkey, making a token and changing roles need
-- one within the last five minutes.
ALTER TABLE sessions ADD COLUMN verified_at TEXT;
