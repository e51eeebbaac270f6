//! Fake rows for measuring the panel at size (`panel dev seed`): servers, each site with its
//! system user and every other one with a database, and SELinux records spread over the last
//! day. Generated inside SQLite (recursive CTEs), so 20,000 sites and 200,000 records take
//! seconds. Ids are valid ULIDs with a `0SEED` prefix, so seeded rows are recognisable; their
//! database passwords are random bytes no key opens.

use super::Pool;

/// How many rows of each kind.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub servers: i64,
    pub sites: i64,
    pub audit: i64,
}

/// `0SEED` + a kind digit + 20 digits: 26 Crockford characters, a ULID the app can parse.
const fn id_sql(kind: char) -> &'static str {
    match kind {
        '1' => "printf('0SEED1%020d', n)",
        '2' => "printf('0SEED2%020d', n)",
        '3' => "printf('0SEED3%020d', n)",
        '4' => "printf('0SEED4%020d', n)",
        _ => "printf('0SEED5%020d', n)",
    }
}

/// Fill an empty panel. Refuses when it has servers: seeded rows are not for a real panel.
pub async fn seed(pool: &Pool, sizes: Sizes) -> anyhow::Result<()> {
    let servers: i64 = sqlx::query_scalar("SELECT count(*) FROM servers")
        .fetch_one(pool)
        .await?;
    anyhow::ensure!(
        servers == 0,
        "this panel has servers: seed only an empty panel's data directory"
    );
    anyhow::ensure!(
        sizes.servers > 0 || (sizes.sites == 0 && sizes.audit == 0),
        "sites and records need at least one server"
    );
    let mut tx = pool.begin().await?;
    let count = |n: i64| {
        format!("WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n + 1 < {n})")
    };
    let server_of =
        |expr: &str| format!("printf('0SEED1%020d', ({expr}) % {})", sizes.servers.max(1));
    sqlx::query(&format!(
        "{} INSERT INTO servers (id, name, ip_address, hostname, os_version, status, selinux_mode, created_at)
         SELECT {}, printf('node-%04d', n),
                printf('10.%d.%d.%d', (n >> 16) & 255, (n >> 8) & 255, n & 255),
                printf('node%d.example.com', n),
                CASE n % 5 WHEN 0 THEN 'alma_8' WHEN 1 THEN 'alma_9' WHEN 2 THEN 'rocky_8'
                           WHEN 3 THEN 'rocky_9' ELSE 'debian_12' END,
                CASE WHEN n % 50 = 7 THEN 'unreachable' ELSE 'active' END, 'enforcing',
                strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%d minutes', n))
         FROM c",
        count(sizes.servers),
        id_sql('1')
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "{} INSERT INTO system_users (id, server_id, username, uid, home_dir)
         SELECT {}, {}, printf('web%d', n), 2000 + n, printf('/home/web%d', n) FROM c",
        count(sizes.sites),
        id_sql('2'),
        server_of("n")
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "{} INSERT INTO sites (id, server_id, system_user_id, domain, app_type, php_version, mcs_id, status, created_at)
         SELECT {}, {}, printf('0SEED2%020d', n), printf('site%d.example.com', n),
                CASE n % 3 WHEN 0 THEN 'wordpress' WHEN 1 THEN 'laravel' ELSE 'php' END,
                CASE n % 2 WHEN 0 THEN '8.2' ELSE '8.3' END, n,
                CASE WHEN n % 10 = 9 THEN 'error' ELSE 'active' END,
                strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%d seconds', n * 7))
         FROM c",
        count(sizes.sites),
        id_sql('3'),
        server_of("n")
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "{} INSERT INTO databases (id, server_id, site_id, db_type, name, username, password_encrypted, status)
         SELECT {}, {}, printf('0SEED3%020d', n), 'mariadb', printf('site%d', n),
                printf('site%d', n), randomblob(60), 'active'
         FROM c WHERE n % 2 = 0",
        count(sizes.sites),
        id_sql('4'),
        server_of("n")
    ))
    .execute(&mut *tx)
    .await?;
    let sites = sizes.sites.max(1);
    sqlx::query(&format!(
        "{} INSERT INTO selinux_audit_logs (id, server_id, level, message, context, created_at)
         SELECT {}, {}, CASE WHEN n % 20 = 0 THEN 'error' ELSE 'warning' END,
                printf('avc:  denied  {{ read }} for  pid=%d comm=\"php-fpm\" name=\"index.php\"', n),
                json_object('record_type', 'AVC', 'denied', json('true'),
                    'permissions', json_array('read'), 'comm', 'php-fpm',
                    'scontext', printf('system_u:system_r:laravel_php_fpm_t:s0:c%d,c%d', 100 + (n % {sites}) * 2, 101 + (n % {sites}) * 2),
                    'source_type', 'laravel_php_fpm_t',
                    'source_level', printf('s0:c%d,c%d', 100 + (n % {sites}) * 2, 101 + (n % {sites}) * 2),
                    'tcontext', 'system_u:object_r:site_content_t:s0:c102,c103',
                    'target_type', 'site_content_t', 'target_level', 's0:c102,c103',
                    'tclass', 'file', 'path', printf('/home/web%d/public_html/index.php', n % {sites}),
                    'explanation', json_object('summary', 'A site''s PHP tried to read another site''s file.',
                                               'severity', 'critical')),
                strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%d seconds', n % 86400))
         FROM c",
        count(sizes.audit),
        id_sql('5'),
        server_of("n")
    ))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ListQuery, SiteSort};

    #[tokio::test]
    async fn seeded_rows_read_back_through_the_lists_and_counters() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::open(dir.path()).await.unwrap();
        let sizes = Sizes {
            servers: 3,
            sites: 120,
            audit: 500,
        };
        seed(&pool, sizes).await.unwrap();
        let c = crate::db::dashboard::counts(&pool).await.unwrap();
        assert_eq!(
            (c.servers_total, c.sites_total, c.databases_total),
            (3, 120, 60)
        );
        assert_eq!(c.sites_error, 12);
        assert_eq!(c.denials_24h, 500);
        let page = crate::db::sites::page(
            &pool,
            &ListQuery::first(SiteSort::Domain),
            &Default::default(),
        )
        .await
        .unwrap();
        assert_eq!(page.rows.len(), 50);
        assert!(page.next.is_some() && page.prev.is_none());
        // A second seed would mix fake rows into real ones: refused.
        assert!(seed(&pool, sizes).await.is_err());
        crate::db::close(&pool).await;
    }
}
