-- Per-site SELinux categories: sites created before this migration get the pair indexes after
-- the highest one in use, in creation order (see src/selinux/mcs.rs). New sites get the lowest
-- free index when they are inserted.
UPDATE sites
SET mcs_id = (
    SELECT n FROM (
        SELECT id,
               row_number() OVER (ORDER BY created_at, id) - 1
                 + (SELECT coalesce(max(mcs_id) + 1, 0) FROM sites) AS n
        FROM sites WHERE mcs_id IS NULL
    ) AS numbered
    WHERE numbered.id = sites.id
)
WHERE mcs_id IS NULL;
