-- The setup command stays on the server's page until it is used or expires (a reload or a
-- second look must not lose it): the token itself, sealed like every other secret (AES-256-GCM,
-- bound to its row). Rows from before have none; their page offers a new command.
ALTER TABLE setup_tokens ADD COLUMN token_encrypted BLOB;
