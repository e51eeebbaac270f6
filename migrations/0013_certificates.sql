-- HTTPS for sites: the certificate each site serves (issued by ACME or uploaded), its key sealed,
-- its renewal state; the ACME account the panel holds per directory (sealed); and the per-site
-- toggles for the HTTP→HTTPS redirect and HSTS.

CREATE TABLE site_certificates (
    site_id          TEXT PRIMARY KEY NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    -- `acme`: issued and renewed by the panel; `custom`: uploaded, never renewed by the panel.
    source           TEXT NOT NULL CHECK (source IN ('acme', 'custom')),
    -- `pending`: nothing served yet (the first issue is running or failed); `active`: served.
    status           TEXT NOT NULL CHECK (status IN ('pending', 'active')),
    -- The names asked for (ACME) or covered (custom), space-separated, the site's domain first.
    names            TEXT NOT NULL CHECK (length(names) BETWEEN 1 AND 8000),
    -- The served chain, leaf first (PEM); NULL until one is issued.
    chain_pem        TEXT CHECK (chain_pem IS NULL OR length(chain_pem) <= 65536),
    -- The private key (PEM), AES-256-GCM sealed.
    key_encrypted    BLOB,
    not_before       TEXT,
    not_after        TEXT,
    issuer           TEXT CHECK (issuer IS NULL OR length(issuer) <= 400),
    serial           TEXT CHECK (serial IS NULL OR length(serial) <= 100),
    issued_at        TEXT,
    -- When the panel renews (ACME only): 30 days before expiry, or at 2/3 of a short lifetime.
    renew_at         TEXT,
    -- The last failure, explained (kind, and the sentence shown and mailed); cleared on success.
    error_kind       TEXT CHECK (error_kind IS NULL OR length(error_kind) <= 40),
    error            TEXT CHECK (error IS NULL OR length(error) <= 2000),
    failures         INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    next_attempt_at  TEXT,
    last_alert_at    TEXT,
    last_job_id      TEXT REFERENCES jobs (id) ON DELETE SET NULL,
    updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX site_certificates_renew ON site_certificates (renew_at);

CREATE TABLE acme_accounts (
    directory               TEXT PRIMARY KEY NOT NULL CHECK (length(directory) BETWEEN 8 AND 500),
    -- instant-acme's account credentials (JSON with the account key), AES-256-GCM sealed.
    credentials_encrypted   BLOB NOT NULL,
    created_at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

ALTER TABLE sites ADD COLUMN https_redirect INTEGER NOT NULL DEFAULT 1 CHECK (https_redirect IN (0, 1));
ALTER TABLE sites ADD COLUMN hsts INTEGER NOT NULL DEFAULT 0 CHECK (hsts IN (0, 1));

-- The panel's own certificate when it gets one from ACME (`[tls] acme`): per host name, the
-- chain and its key (sealed), and when to renew.
CREATE TABLE panel_certificates (
    host            TEXT PRIMARY KEY NOT NULL CHECK (length(host) BETWEEN 1 AND 253),
    chain_pem       TEXT NOT NULL CHECK (length(chain_pem) <= 65536),
    key_encrypted   BLOB NOT NULL,
    not_after       TEXT NOT NULL,
    renew_at        TEXT NOT NULL,
    issued_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
