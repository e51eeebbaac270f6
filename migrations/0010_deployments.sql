-- Git deployments: a site's repository (address, branch, deploy script, releases to keep), its
-- own deploy key and webhook secret (both sealed), and what each deployment did and left on the
-- server (its release directory, kept or pruned), with the job that ran it.

CREATE TABLE site_repositories (
    site_id                  TEXT PRIMARY KEY NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    url                      TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 500),
    branch                   TEXT NOT NULL DEFAULT 'main' CHECK (length(branch) BETWEEN 1 AND 200),
    -- Bash run as the site user in each new release before it goes live.
    deploy_script            TEXT NOT NULL DEFAULT '' CHECK (length(deploy_script) <= 65536),
    keep_releases            INTEGER NOT NULL DEFAULT 5 CHECK (keep_releases BETWEEN 1 AND 50),
    -- ED25519, made by the panel; the public half is pasted into the git host.
    deploy_key_public        TEXT NOT NULL,
    deploy_key_fingerprint   TEXT NOT NULL CHECK (deploy_key_fingerprint LIKE 'SHA256:%'),
    deploy_key_encrypted     BLOB NOT NULL,
    -- Signs (GitHub, plain HMAC) or is (GitLab) the push webhook's token.
    webhook_secret_encrypted BLOB NOT NULL,
    -- The release nginx serves now (a deployment id), as the last deploy or rollback left it.
    current_release          TEXT CHECK (current_release IS NULL OR length(current_release) = 26),
    created_at               TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at               TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- A rollback is a deployment too: it switches back to a kept release without fetching.
ALTER TABLE deployments ADD COLUMN action TEXT NOT NULL DEFAULT 'deploy'
    CHECK (action IN ('deploy', 'rollback'));
-- The release directory (`deploy/releases/ID`): a deploy's own id, a rollback's target.
ALTER TABLE deployments ADD COLUMN release TEXT CHECK (release IS NULL OR length(release) = 26);
-- What is on the server of this deployment's release: none (not made, or a failed one removed),
-- kept (can be rolled back to) or pruned (removed to keep the last N).
ALTER TABLE deployments ADD COLUMN release_state TEXT NOT NULL DEFAULT 'none'
    CHECK (release_state IN ('none', 'kept', 'pruned'));
ALTER TABLE deployments ADD COLUMN job_id TEXT REFERENCES jobs (id) ON DELETE SET NULL;
-- Why it failed, for the list and the page.
ALTER TABLE deployments ADD COLUMN status_reason TEXT;
-- The trigger's own words (webhook delivery id and pusher, CLI user): untrusted, bounded.
ALTER TABLE deployments ADD COLUMN trigger_detail TEXT CHECK (trigger_detail IS NULL OR length(trigger_detail) <= 500);
-- The commit's subject line, as git printed it on the server (untrusted, bounded).
ALTER TABLE deployments ADD COLUMN commit_message TEXT CHECK (commit_message IS NULL OR length(commit_message) <= 1000);
CREATE INDEX deployments_pending ON deployments (status, job_id);

-- Webhook deliveries already acted on, so a replayed one is refused (GitHub's and GitLab's
-- delivery ids, a plain HMAC request's signature); purged after 90 days.
CREATE TABLE webhook_deliveries (
    site_id     TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    delivery    TEXT NOT NULL CHECK (length(delivery) BETWEEN 1 AND 200),
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (site_id, delivery)
) STRICT;
CREATE INDEX webhook_deliveries_time ON webhook_deliveries (received_at);
