-- The seed schema. Append-only: later changes go into new migration files.
-- Every table is STRICT (types are enforced), keyed by a ULID in text form, and every enumerated
-- column has a CHECK so a bad value never reaches disk. Timestamps are RFC 3339 UTC text.

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 254),
    name          TEXT NOT NULL CHECK (length(name) <= 200),
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_login_at TEXT
) STRICT;

-- Theme and per-user defaults (default PHP version, default database engine, ...) as key/value.
CREATE TABLE user_preferences (
    id         TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key        TEXT NOT NULL CHECK (key IN ('theme', 'default_php_version', 'default_database_type',
                                            'default_app_type', 'timezone')),
    value      TEXT NOT NULL CHECK (length(value) <= 200),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (user_id, key)
) STRICT;

CREATE TABLE ssh_keys (
    id                    TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    name                  TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    key_type              TEXT NOT NULL CHECK (key_type IN ('ed25519', 'rsa')),
    public_key            TEXT NOT NULL,
    -- AES-256-GCM secret box; NULL when only the public half was imported.
    private_key_encrypted BLOB,
    fingerprint           TEXT NOT NULL UNIQUE CHECK (fingerprint LIKE 'SHA256:%'),
    created_by            TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE servers (
    id            TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    ip_address    TEXT NOT NULL UNIQUE,
    hostname      TEXT NOT NULL CHECK (length(hostname) BETWEEN 1 AND 253),
    os_version    TEXT NOT NULL CHECK (os_version IN ('alma_8', 'alma_9', 'rocky_8', 'rocky_9', 'debian_12')),
    web_server    TEXT NOT NULL DEFAULT 'nginx' CHECK (web_server IN ('nginx')),
    ssh_port      INTEGER NOT NULL DEFAULT 22 CHECK (ssh_port BETWEEN 1 AND 65535),
    ssh_user      TEXT NOT NULL DEFAULT 'panel',
    -- A key in use by a server cannot be deleted (RESTRICT); the UI says which server uses it.
    ssh_key_id    TEXT REFERENCES ssh_keys (id) ON DELETE RESTRICT,
    -- Pinned on first contact, checked on every connection after.
    host_key      TEXT,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'provisioning', 'active', 'error', 'unreachable')),
    status_reason TEXT,
    selinux_mode  TEXT CHECK (selinux_mode IN ('enforcing', 'permissive', 'disabled')),
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE system_users (
    id         TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    server_id  TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    username   TEXT NOT NULL CHECK (length(username) BETWEEN 1 AND 32),
    uid        INTEGER,
    home_dir   TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (server_id, username)
) STRICT;

CREATE TABLE sites (
    id             TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    server_id      TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    system_user_id TEXT REFERENCES system_users (id) ON DELETE SET NULL,
    domain         TEXT NOT NULL UNIQUE CHECK (length(domain) BETWEEN 1 AND 253),
    -- JSON array of further domains served by the same vhost.
    aliases        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(aliases) AND json_type(aliases) = 'array'),
    app_type       TEXT NOT NULL CHECK (app_type IN ('wordpress', 'laravel', 'php')),
    php_version    TEXT NOT NULL CHECK (php_version IN ('7.4', '8.0', '8.1', '8.2', '8.3', '8.4')),
    document_root  TEXT,
    -- Index of the site's MCS category pair (see src/selinux); unique per panel.
    mcs_id         INTEGER UNIQUE,
    status         TEXT NOT NULL DEFAULT 'creating'
                   CHECK (status IN ('creating', 'provisioning', 'active', 'suspended', 'error', 'deleting')),
    status_reason  TEXT,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX sites_server_id ON sites (server_id);

CREATE TABLE databases (
    id                 TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    server_id          TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    site_id            TEXT REFERENCES sites (id) ON DELETE CASCADE,
    db_type            TEXT NOT NULL CHECK (db_type IN ('mariadb', 'postgresql')),
    name               TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    username           TEXT NOT NULL CHECK (length(username) BETWEEN 1 AND 64),
    -- AES-256-GCM secret box, never plaintext.
    password_encrypted BLOB NOT NULL,
    status             TEXT NOT NULL DEFAULT 'creating'
                       CHECK (status IN ('creating', 'active', 'error', 'deleting')),
    created_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (server_id, db_type, name)
) STRICT;
CREATE INDEX databases_site_id ON databases (site_id);

CREATE TABLE deployments (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    site_id     TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    -- Who pressed Deploy; kept as history when the user is deleted.
    actor_id    TEXT REFERENCES users (id) ON DELETE SET NULL,
    triggered_by TEXT NOT NULL CHECK (triggered_by IN ('ui', 'webhook', 'cli')),
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'success', 'failed')),
    branch      TEXT NOT NULL DEFAULT 'main',
    commit_hash TEXT CHECK (commit_hash IS NULL OR (length(commit_hash) = 40 AND commit_hash NOT GLOB '*[^0-9a-f]*')),
    stdout      TEXT NOT NULL DEFAULT '',
    stderr      TEXT NOT NULL DEFAULT '',
    started_at  TEXT,
    finished_at TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX deployments_status ON deployments (status);
CREATE INDEX deployments_site_id ON deployments (site_id, created_at);

CREATE TABLE software_installations (
    id            TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    server_id     TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    software      TEXT NOT NULL CHECK (software IN ('nginx', 'php', 'mariadb', 'postgresql', 'redis', 'bun')),
    version       TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'installing', 'installed', 'failed')),
    status_reason TEXT,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (server_id, software, version)
) STRICT;

CREATE TABLE server_logs (
    id         TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    server_id  TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    level      TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warning', 'error')),
    message    TEXT NOT NULL,
    context    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(context)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX server_logs_server_time ON server_logs (server_id, created_at);

CREATE TABLE selinux_audit_logs (
    id         TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    -- NULL for records parsed on the panel host itself (e.g. `panel selinux parse` imports).
    server_id  TEXT REFERENCES servers (id) ON DELETE CASCADE,
    level      TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warning', 'error')),
    message    TEXT NOT NULL,
    context    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(context)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX selinux_audit_logs_server_time ON selinux_audit_logs (server_id, created_at);
CREATE INDEX selinux_audit_logs_time ON selinux_audit_logs (created_at);
