-- A site's PHP settings (memory_limit, upload sizes, …) as JSON, each value checked by the
-- panel; NULL: none set (PHP's defaults). Written into the site's pool as php_admin_values.
ALTER TABLE sites ADD COLUMN php_settings TEXT
    CHECK (php_settings IS NULL OR (json_valid(php_settings) AND length(php_settings) <= 2000));

-- A site's redirects as a JSON array of {source, kind, target, status}, each checked by the
-- panel (and again when read); NULL: none. Rendered into the site's vhost.
ALTER TABLE sites ADD COLUMN redirects TEXT
    CHECK (redirects IS NULL OR (json_valid(redirects) AND json_type(redirects) = 'array' AND length(redirects) <= 200000));
