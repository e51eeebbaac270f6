-- Passkey login: credentials, one-time enrolment tokens, server-side sessions.

-- One passkey of a user. `passkey` is webauthn-rs's serialised Passkey (public key, counter,
-- flags): public material, not a secret.
CREATE TABLE credentials (
    id            TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    passkey       TEXT NOT NULL CHECK (json_valid(passkey)),
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used_at  TEXT
) STRICT;
CREATE INDEX credentials_user_id ON credentials (user_id);

-- Printed by `panel serve` on first run and by `panel user invite|recover`. Only the SHA-256 of
-- the token is stored; a token works once, before `expires_at`.
CREATE TABLE enrolment_tokens (
    id         TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    purpose    TEXT NOT NULL CHECK (purpose IN ('first_run', 'invite', 'recover')),
    email      TEXT CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    name       TEXT CHECK (name IS NULL OR length(name) <= 200),
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at TEXT NOT NULL,
    used_at    TEXT
) STRICT;

-- Server-side sessions. The cookie holds a random token; only its SHA-256 is stored. A row with
-- no user is a pre-login session that carries the CSRF token and the WebAuthn ceremony state;
-- logging in replaces it with a new row (new id, new token).
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
    token_hash   TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    user_id      TEXT REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    -- JSON of the WebAuthn ceremony in progress (registration or authentication state).
    ceremony     TEXT CHECK (ceremony IS NULL OR json_valid(ceremony)),
    ip           TEXT,
    user_agent   TEXT CHECK (user_agent IS NULL OR length(user_agent) <= 300),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_seen_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- Absolute end of the session, whatever the activity.
    expires_at   TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
