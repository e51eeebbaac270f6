-- Onboarding: one-time setup URLs and the signed "server ready" callback.

-- Per-server secret the setup script signs its callback with (AES-256-GCM secret box).
ALTER TABLE servers ADD COLUMN callback_secret_encrypted BLOB;

-- `curl -fsSL {PANEL_URL}/setup/{token} | sudo bash`: only the SHA-256 of the token is stored;
-- a token works once, within an hour.
CREATE TABLE setup_tokens (
    id         TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    server_id  TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at TEXT NOT NULL,
    used_at    TEXT
) STRICT;

-- Nonces of accepted callbacks: a replayed request (same nonce) is refused. Rows older than the
-- timestamp window can be pruned, since such requests are refused by their timestamp anyway.
CREATE TABLE callback_nonces (
    nonce      TEXT PRIMARY KEY NOT NULL CHECK (length(nonce) BETWEEN 16 AND 128),
    server_id  TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
