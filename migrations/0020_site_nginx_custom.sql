-- A site's custom nginx block (checked directive by directive by the panel), placed inside its
-- own server block; NULL: none.
ALTER TABLE sites ADD COLUMN nginx_custom TEXT
    CHECK (nginx_custom IS NULL OR length(nginx_custom) BETWEEN 1 AND 8000);
