-- No trust on first use. A node's setup script reports its SSH host keys in its signed
-- server-ready callback (OpenSSH public key lines, one per line); first contact pins the key
-- the node presents only if it is one of them.
ALTER TABLE servers ADD COLUMN reported_host_keys TEXT
    CHECK (reported_host_keys IS NULL OR length(reported_host_keys) <= 32768);

-- A site's git host: the keys a scan from the site's server found (known_hosts lines), and the
-- ones confirmed (by a person, or by matching a well-known host's published fingerprints).
-- Deploys write only the confirmed lines to known_hosts and check them strictly.
ALTER TABLE site_repositories ADD COLUMN scanned_host_keys TEXT
    CHECK (scanned_host_keys IS NULL OR length(scanned_host_keys) <= 32768);
ALTER TABLE site_repositories ADD COLUMN confirmed_host_keys TEXT
    CHECK (confirmed_host_keys IS NULL OR length(confirmed_host_keys) <= 32768);
