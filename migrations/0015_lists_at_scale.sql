-- Lists at scale (1,000 servers, 20,000 sites, 200,000 SELinux records). Every list is read a
-- page at a time by a keyset cursor, so each order a list offers has an index (column, id) to
-- seek to the cursor and walk 51 rows; each filter a list offers leads an index in that order.
-- Totals come from counters kept by triggers, so no page counts a table.

CREATE INDEX servers_name ON servers (name COLLATE NOCASE, id);
CREATE INDEX servers_created ON servers (created_at, id);
CREATE INDEX servers_status_name ON servers (status, name COLLATE NOCASE, id);
CREATE INDEX servers_status_created ON servers (status, created_at, id);

CREATE INDEX sites_domain ON sites (domain, id);
CREATE INDEX sites_created ON sites (created_at, id);
CREATE INDEX sites_server_domain ON sites (server_id, domain, id);
CREATE INDEX sites_server_created ON sites (server_id, created_at, id);
CREATE INDEX sites_status_domain ON sites (status, domain, id);
CREATE INDEX sites_status_created ON sites (status, created_at, id);
DROP INDEX sites_server_id;

CREATE INDEX databases_name ON databases (name, id);
CREATE INDEX databases_created ON databases (created_at, id);
CREATE INDEX databases_server_name ON databases (server_id, name, id);
CREATE INDEX databases_server_created ON databases (server_id, created_at, id);

CREATE INDEX deployments_created ON deployments (created_at, id);
CREATE INDEX deployments_site_created ON deployments (site_id, created_at, id);
CREATE INDEX deployments_status_created ON deployments (status, created_at, id);
DROP INDEX deployments_site_id;

CREATE INDEX jobs_created ON jobs (created_at, id);
CREATE INDEX jobs_server_created ON jobs (server_id, created_at, id);
CREATE INDEX jobs_status_created ON jobs (status, created_at, id);
DROP INDEX jobs_server;

CREATE INDEX server_logs_server_created ON server_logs (server_id, created_at, id);
CREATE INDEX server_logs_server_level ON server_logs (server_id, level, created_at, id);
DROP INDEX server_logs_server_time;

-- Certificates, most urgent first: failing, then soonest to expire, then not yet issued.
ALTER TABLE site_certificates ADD COLUMN urgency TEXT GENERATED ALWAYS AS (
    CASE WHEN error IS NOT NULL THEN '0' WHEN not_after IS NULL THEN '2' ELSE '1' || not_after END
) VIRTUAL;
CREATE INDEX site_certificates_urgency ON site_certificates (urgency, site_id);

-- SELinux records: the page's filters (type, class, a site's level) become columns computed from
-- the stored context, each leading an index in the page's order.
ALTER TABLE selinux_audit_logs ADD COLUMN tclass TEXT
    GENERATED ALWAYS AS (json_extract(context, '$.tclass')) VIRTUAL;
ALTER TABLE selinux_audit_logs ADD COLUMN source_type TEXT
    GENERATED ALWAYS AS (json_extract(context, '$.source_type')) VIRTUAL;
ALTER TABLE selinux_audit_logs ADD COLUMN target_type TEXT
    GENERATED ALWAYS AS (json_extract(context, '$.target_type')) VIRTUAL;
ALTER TABLE selinux_audit_logs ADD COLUMN source_level TEXT
    GENERATED ALWAYS AS (json_extract(context, '$.source_level')) VIRTUAL;
ALTER TABLE selinux_audit_logs ADD COLUMN target_level TEXT
    GENERATED ALWAYS AS (json_extract(context, '$.target_level')) VIRTUAL;
CREATE INDEX selinux_audit_logs_created ON selinux_audit_logs (created_at, id);
CREATE INDEX selinux_audit_logs_server_created ON selinux_audit_logs (server_id, created_at, id);
CREATE INDEX selinux_audit_logs_tclass ON selinux_audit_logs (tclass, created_at, id);
CREATE INDEX selinux_audit_logs_source_type ON selinux_audit_logs (source_type, created_at, id);
CREATE INDEX selinux_audit_logs_target_type ON selinux_audit_logs (target_type, created_at, id);
CREATE INDEX selinux_audit_logs_source_level ON selinux_audit_logs (source_level, created_at, id);
CREATE INDEX selinux_audit_logs_target_level ON selinux_audit_logs (target_level, created_at, id);
DROP INDEX selinux_audit_logs_server_time;
DROP INDEX selinux_audit_logs_time;

-- Row counts the dashboard and list headers print: `servers`, `servers.STATUS`, `sites`,
-- `sites.STATUS`, `databases`, `ssh_keys`, `certificates`.
CREATE TABLE list_counts (
    name TEXT PRIMARY KEY NOT NULL,
    n    INTEGER NOT NULL DEFAULT 0 CHECK (n >= 0)
) STRICT, WITHOUT ROWID;

INSERT INTO list_counts (name, n) VALUES
    ('servers', (SELECT count(*) FROM servers)),
    ('sites', (SELECT count(*) FROM sites)),
    ('databases', (SELECT count(*) FROM databases)),
    ('ssh_keys', (SELECT count(*) FROM ssh_keys)),
    ('certificates', (SELECT count(*) FROM site_certificates));
INSERT INTO list_counts (name, n)
    SELECT 'servers.' || s, (SELECT count(*) FROM servers WHERE status = s)
    FROM (SELECT 'pending' AS s UNION ALL SELECT 'provisioning' UNION ALL SELECT 'active'
          UNION ALL SELECT 'error' UNION ALL SELECT 'unreachable');
INSERT INTO list_counts (name, n)
    SELECT 'sites.' || s, (SELECT count(*) FROM sites WHERE status = s)
    FROM (SELECT 'creating' AS s UNION ALL SELECT 'provisioning' UNION ALL SELECT 'active'
          UNION ALL SELECT 'suspended' UNION ALL SELECT 'error' UNION ALL SELECT 'deleting');

CREATE TRIGGER servers_counted AFTER INSERT ON servers BEGIN
    UPDATE list_counts SET n = n + 1 WHERE name IN ('servers', 'servers.' || NEW.status);
END;
CREATE TRIGGER servers_uncounted AFTER DELETE ON servers BEGIN
    UPDATE list_counts SET n = n - 1 WHERE name IN ('servers', 'servers.' || OLD.status);
END;
CREATE TRIGGER servers_recounted AFTER UPDATE OF status ON servers
WHEN OLD.status != NEW.status BEGIN
    UPDATE list_counts SET n = n - 1 WHERE name = 'servers.' || OLD.status;
    UPDATE list_counts SET n = n + 1 WHERE name = 'servers.' || NEW.status;
END;
CREATE TRIGGER sites_counted AFTER INSERT ON sites BEGIN
    UPDATE list_counts SET n = n + 1 WHERE name IN ('sites', 'sites.' || NEW.status);
END;
CREATE TRIGGER sites_uncounted AFTER DELETE ON sites BEGIN
    UPDATE list_counts SET n = n - 1 WHERE name IN ('sites', 'sites.' || OLD.status);
END;
CREATE TRIGGER sites_recounted AFTER UPDATE OF status ON sites
WHEN OLD.status != NEW.status BEGIN
    UPDATE list_counts SET n = n - 1 WHERE name = 'sites.' || OLD.status;
    UPDATE list_counts SET n = n + 1 WHERE name = 'sites.' || NEW.status;
END;
CREATE TRIGGER databases_counted AFTER INSERT ON databases BEGIN
    UPDATE list_counts SET n = n + 1 WHERE name = 'databases';
END;
CREATE TRIGGER databases_uncounted AFTER DELETE ON databases BEGIN
    UPDATE list_counts SET n = n - 1 WHERE name = 'databases';
END;
CREATE TRIGGER certificates_counted AFTER INSERT ON site_certificates BEGIN
    UPDATE list_counts SET n = n + 1 WHERE name = 'certificates';
END;
CREATE TRIGGER certificates_uncounted AFTER DELETE ON site_certificates BEGIN
    UPDATE list_counts SET n = n - 1 WHERE name = 'certificates';
END;
CREATE TRIGGER ssh_keys_counted AFTER INSERT ON ssh_keys BEGIN
    UPDATE list_counts SET n = n + 1 WHERE name = 'ssh_keys';
END;
CREATE TRIGGER ssh_keys_uncounted AFTER DELETE ON ssh_keys BEGIN
    UPDATE list_counts SET n = n - 1 WHERE name = 'ssh_keys';
END;

-- Denials (warning and error records) per server per UTC hour ('YYYY-MM-DDTHH'), and under
-- server '*' for all servers together ('' is the panel host): the per-day chart, the hourly
-- rate per server and the dashboard read these, never the records.
CREATE TABLE denial_hours (
    server_id TEXT NOT NULL,
    hour      TEXT NOT NULL CHECK (length(hour) = 13),
    n         INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (server_id, hour)
) STRICT, WITHOUT ROWID;
-- The servers with most denials this hour: ten index entries, however many servers there are.
CREATE INDEX denial_hours_top ON denial_hours (hour, n, server_id);

INSERT INTO denial_hours (server_id, hour, n)
    SELECT coalesce(server_id, ''), substr(created_at, 1, 13), count(*)
    FROM selinux_audit_logs WHERE level IN ('warning', 'error')
    GROUP BY 1, 2;
INSERT INTO denial_hours (server_id, hour, n)
    SELECT '*', substr(created_at, 1, 13), count(*)
    FROM selinux_audit_logs WHERE level IN ('warning', 'error')
    GROUP BY 2;

CREATE TRIGGER denials_counted AFTER INSERT ON selinux_audit_logs
WHEN NEW.level IN ('warning', 'error') BEGIN
    INSERT INTO denial_hours (server_id, hour, n)
        VALUES (coalesce(NEW.server_id, ''), substr(NEW.created_at, 1, 13), 1)
        ON CONFLICT (server_id, hour) DO UPDATE SET n = n + 1;
    INSERT INTO denial_hours (server_id, hour, n)
        VALUES ('*', substr(NEW.created_at, 1, 13), 1)
        ON CONFLICT (server_id, hour) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER denials_uncounted AFTER DELETE ON selinux_audit_logs
WHEN OLD.level IN ('warning', 'error') BEGIN
    UPDATE denial_hours SET n = n - 1
        WHERE server_id IN (coalesce(OLD.server_id, ''), '*') AND hour = substr(OLD.created_at, 1, 13);
END;
