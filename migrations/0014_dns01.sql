-- Wildcard certificates: a site's certificate may be proven by DNS-01 through an RFC 2136
-- server (its address, the zone, the TSIG key name, the TSIG secret sealed), and may include
-- `*.domain`.
ALTER TABLE site_certificates ADD COLUMN challenge TEXT NOT NULL DEFAULT 'http-01'
    CHECK (challenge IN ('http-01', 'dns-01'));
ALTER TABLE site_certificates ADD COLUMN wildcard INTEGER NOT NULL DEFAULT 0 CHECK (wildcard IN (0, 1));
ALTER TABLE site_certificates ADD COLUMN dns_server TEXT CHECK (dns_server IS NULL OR length(dns_server) <= 100);
ALTER TABLE site_certificates ADD COLUMN dns_zone TEXT CHECK (dns_zone IS NULL OR length(dns_zone) <= 253);
ALTER TABLE site_certificates ADD COLUMN dns_key_name TEXT CHECK (dns_key_name IS NULL OR length(dns_key_name) <= 253);
ALTER TABLE site_certificates ADD COLUMN dns_secret_encrypted BLOB;
