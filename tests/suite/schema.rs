//! The seed schema on the app's own pool: pragmas, tables, keys, cascades, constraints.

use panel::db::unique_to_field;
use panel::domain::all_enum_columns;
use panel::error::AppError;
use panel::ids::*;
use sqlx::Row;

use crate::harness::TestApp;

const TABLES: [&str; 11] = [
    "users",
    "user_preferences",
    "ssh_keys",
    "servers",
    "sites",
    "system_users",
    "databases",
    "deployments",
    "software_installations",
    "server_logs",
    "selinux_audit_logs",
];

#[tokio::test]
async fn every_pooled_connection_has_the_required_pragmas() {
    let app = TestApp::spawn().await;
    // Hold several connections at once so the pool must open distinct ones.
    let mut conns = Vec::new();
    for _ in 0..4 {
        conns.push(app.db().acquire().await.unwrap());
    }
    for conn in conns.iter_mut() {
        let mut pragma = async |name: &str| -> String {
            let row = sqlx::query(&format!("PRAGMA {name}"))
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            match row.try_get::<String, _>(0) {
                Ok(s) => s,
                Err(_) => row.get::<i64, _>(0).to_string(),
            }
        };
        assert_eq!(pragma("journal_mode").await, "wal");
        assert_eq!(pragma("synchronous").await, "1", "NORMAL");
        assert_eq!(pragma("cache_size").await, "-20000");
        assert_eq!(pragma("foreign_keys").await, "1");
        assert_eq!(pragma("busy_timeout").await, "5000");
        assert_eq!(pragma("temp_store").await, "2", "MEMORY");
        assert_eq!(pragma("mmap_size").await, "2147483648");
        assert_eq!(pragma("page_size").await, "32768");
        assert_eq!(pragma("auto_vacuum").await, "2", "INCREMENTAL");
    }
    drop(conns);
    app.stop().await;
}

#[tokio::test]
async fn all_seed_tables_exist_strict_with_ulid_keys() {
    let app = TestApp::spawn().await;
    for table in TABLES {
        let sql: String =
            sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?")
                .bind(table)
                .fetch_one(app.db())
                .await
                .unwrap_or_else(|_| panic!("table {table} missing"));
        assert!(sql.trim_end().ends_with("STRICT"), "{table} is not STRICT");
        let (ty, pk): (String, i64) =
            sqlx::query_as("SELECT type, pk FROM pragma_table_info(?) WHERE name = 'id'")
                .bind(table)
                .fetch_one(app.db())
                .await
                .unwrap();
        assert_eq!(
            (ty.as_str(), pk),
            ("TEXT", 1),
            "{table}.id is the text primary key"
        );
        assert!(
            sql.contains("CHECK (length(id) = 26)"),
            "{table}.id holds a ULID"
        );
    }
    let index: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pragma_index_list('deployments') WHERE name = 'deployments_status'",
    )
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(index, 1, "index on deployments.status");
    app.stop().await;
}

#[tokio::test]
async fn foreign_keys_have_the_specified_delete_behaviour() {
    let app = TestApp::spawn().await;
    let expect = [
        ("user_preferences", "users", "user_id", "CASCADE"),
        ("ssh_keys", "users", "created_by", "SET NULL"),
        ("servers", "ssh_keys", "ssh_key_id", "RESTRICT"),
        ("system_users", "servers", "server_id", "CASCADE"),
        ("sites", "servers", "server_id", "CASCADE"),
        ("sites", "system_users", "system_user_id", "SET NULL"),
        ("databases", "servers", "server_id", "CASCADE"),
        ("databases", "sites", "site_id", "CASCADE"),
        ("deployments", "sites", "site_id", "CASCADE"),
        ("deployments", "users", "actor_id", "SET NULL"),
        ("software_installations", "servers", "server_id", "CASCADE"),
        ("server_logs", "servers", "server_id", "CASCADE"),
        ("selinux_audit_logs", "servers", "server_id", "CASCADE"),
    ];
    for (table, parent, column, on_delete) in expect {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT on_delete FROM pragma_foreign_key_list(?) WHERE \"table\" = ? AND \"from\" = ?",
        )
        .bind(table)
        .bind(parent)
        .bind(column)
        .fetch_optional(app.db())
        .await
        .unwrap();
        assert_eq!(
            found.as_deref(),
            Some(on_delete),
            "{table}.{column} → {parent}"
        );
    }
    let violations: i64 = sqlx::query_scalar("SELECT count(*) FROM pragma_foreign_key_check")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(violations, 0);
    app.stop().await;
}

/// A server with one of everything hanging off it; returns (server, user, deployment).
async fn seed_server(app: &TestApp, ip: &str, domain: &str) -> (ServerId, UserId, DeploymentId) {
    let db = app.db();
    let user = UserId::generate();
    sqlx::query("INSERT INTO users (id, email, name) VALUES (?, ?, 'Ada')")
        .bind(user)
        .bind(format!("ada-{ip}@example.com"))
        .execute(db)
        .await
        .unwrap();
    let server = ServerId::generate();
    sqlx::query("INSERT INTO servers (id, name, ip_address, hostname, os_version) VALUES (?, 'web1', ?, 'web1.example.com', 'alma_9')")
        .bind(server)
        .bind(ip)
        .execute(db)
        .await
        .unwrap();
    let sys_user = SystemUserId::generate();
    sqlx::query("INSERT INTO system_users (id, server_id, username, home_dir) VALUES (?, ?, 'web1', '/home/web1')")
        .bind(sys_user)
        .bind(server)
        .execute(db)
        .await
        .unwrap();
    let site = SiteId::generate();
    sqlx::query("INSERT INTO sites (id, server_id, system_user_id, domain, app_type, php_version) VALUES (?, ?, ?, ?, 'laravel', '8.3')")
        .bind(site)
        .bind(server)
        .bind(sys_user)
        .bind(domain)
        .execute(db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO databases (id, server_id, site_id, db_type, name, username, password_encrypted) VALUES (?, ?, ?, 'mariadb', 'app', 'app', x'00')")
        .bind(DatabaseId::generate())
        .bind(server)
        .bind(site)
        .execute(db)
        .await
        .unwrap();
    let deployment = DeploymentId::generate();
    sqlx::query(
        "INSERT INTO deployments (id, site_id, actor_id, triggered_by) VALUES (?, ?, ?, 'ui')",
    )
    .bind(deployment)
    .bind(site)
    .bind(user)
    .execute(db)
    .await
    .unwrap();
    sqlx::query("INSERT INTO software_installations (id, server_id, software, version) VALUES (?, ?, 'php', '8.3')")
        .bind(SoftwareInstallationId::generate())
        .bind(server)
        .execute(db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO server_logs (id, server_id, level, message, context) VALUES (?, ?, 'info', 'hello', '{\"a\":1}')")
        .bind(ServerLogId::generate())
        .bind(server)
        .execute(db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO selinux_audit_logs (id, server_id, level, message) VALUES (?, ?, 'warning', 'avc: denied')")
        .bind(AuditLogId::generate())
        .bind(server)
        .execute(db)
        .await
        .unwrap();
    (server, user, deployment)
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(app.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn deleting_a_server_cascades_and_deleting_a_user_keeps_history() {
    let app = TestApp::spawn().await;
    let (server, user, deployment) = seed_server(&app, "192.0.2.10", "a.example.com").await;
    let (_other, _, _) = seed_server(&app, "192.0.2.11", "b.example.com").await;

    sqlx::query("DELETE FROM users WHERE id = ?")
        .bind(user)
        .execute(app.db())
        .await
        .unwrap();
    let actor: Option<String> = sqlx::query_scalar("SELECT actor_id FROM deployments WHERE id = ?")
        .bind(deployment)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(
        actor, None,
        "deployments.actor_id is SET NULL, the deployment stays"
    );

    sqlx::query("DELETE FROM servers WHERE id = ?")
        .bind(server)
        .execute(app.db())
        .await
        .unwrap();
    for table in [
        "sites",
        "system_users",
        "databases",
        "deployments",
        "software_installations",
        "server_logs",
        "selinux_audit_logs",
    ] {
        assert_eq!(
            count(&app, table).await,
            1,
            "{table}: only the other server's row is left"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_key_in_use_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let key = SshKeyId::generate();
    sqlx::query("INSERT INTO ssh_keys (id, name, key_type, public_key, fingerprint) VALUES (?, 'k', 'ed25519', 'ssh-ed25519 AAAA', 'SHA256:abc')")
        .bind(key)
        .execute(app.db())
        .await
        .unwrap();
    sqlx::query("INSERT INTO servers (id, name, ip_address, hostname, os_version, ssh_key_id) VALUES (?, 's', '192.0.2.1', 's', 'debian_12', ?)")
        .bind(ServerId::generate())
        .bind(key)
        .execute(app.db())
        .await
        .unwrap();
    let err = sqlx::query("DELETE FROM ssh_keys WHERE id = ?")
        .bind(key)
        .execute(app.db())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    app.stop().await;
}

#[tokio::test]
async fn duplicates_become_field_errors() {
    let app = TestApp::spawn().await;
    seed_server(&app, "192.0.2.20", "dup.example.com").await;
    let fields = [
        (
            "servers.ip_address",
            "ip_address",
            "A server with this IP address already exists.",
        ),
        (
            "sites.domain",
            "domain",
            "Another site already uses this domain.",
        ),
        (
            "ssh_keys.fingerprint",
            "public_key",
            "This key is already known to the panel.",
        ),
    ];
    let server_dup = sqlx::query("INSERT INTO servers (id, name, ip_address, hostname, os_version) VALUES (?, 'x', '192.0.2.20', 'x', 'alma_8')")
        .bind(ServerId::generate())
        .execute(app.db())
        .await
        .unwrap_err();
    match unique_to_field(server_dup, &fields) {
        AppError::Invalid(errs) => {
            assert_eq!(errs[0].field, "ip_address");
            assert_eq!(
                errs[0].message,
                "A server with this IP address already exists."
            );
        }
        other => panic!("expected a field error, got {other:?}"),
    }
    let server: String = sqlx::query_scalar("SELECT id FROM servers LIMIT 1")
        .fetch_one(app.db())
        .await
        .unwrap();
    let site_dup = sqlx::query("INSERT INTO sites (id, server_id, domain, app_type, php_version) VALUES (?, ?, 'dup.example.com', 'php', '8.2')")
        .bind(SiteId::generate())
        .bind(&server)
        .execute(app.db())
        .await
        .unwrap_err();
    assert_eq!(
        unique_to_field(site_dup, &fields).field_errors()[0].field,
        "domain"
    );
    for _ in 0..2 {
        let r = sqlx::query("INSERT INTO ssh_keys (id, name, key_type, public_key, fingerprint) VALUES (?, 'k', 'ed25519', 'ssh-ed25519 AAAA', 'SHA256:same')")
            .bind(SshKeyId::generate())
            .execute(app.db())
            .await;
        if let Err(e) = r {
            assert_eq!(
                unique_to_field(e, &fields).field_errors()[0].field,
                "public_key"
            );
        }
    }
    assert_eq!(count(&app, "ssh_keys").await, 1);
    // Not a unique violation: passes through as an internal error.
    let other = sqlx::query("SELECT * FROM no_such_table")
        .execute(app.db())
        .await
        .unwrap_err();
    assert!(unique_to_field(other, &fields).is_internal());
    app.stop().await;
}

#[tokio::test]
async fn enumerated_columns_reject_unknown_values() {
    let app = TestApp::spawn().await;
    let bad = [
        "INSERT INTO servers (id, name, ip_address, hostname, os_version) VALUES ('01J00000000000000000000001', 'x', '192.0.2.5', 'x', 'centos_7')",
        "INSERT INTO servers (id, name, ip_address, hostname, os_version, status) VALUES ('01J00000000000000000000002', 'x', '192.0.2.6', 'x', 'alma_9', 'exploded')",
        "INSERT INTO servers (id, name, ip_address, hostname, os_version, ssh_port) VALUES ('01J00000000000000000000003', 'x', '192.0.2.7', 'x', 'alma_9', 65536)",
        "INSERT INTO users (id, email, name, status) VALUES ('01J00000000000000000000004', 'a@b.c', 'n', 'root')",
    ];
    for sql in bad {
        let err = sqlx::query(sql).execute(app.db()).await.unwrap_err();
        assert!(
            err.to_string().contains("CHECK constraint failed"),
            "{sql}: {err}"
        );
    }
    assert_eq!(count(&app, "servers").await, 0);
    app.stop().await;
}

/// The Rust enums and the CHECK constraints list the same values, so neither can drift.
#[tokio::test]
async fn rust_enums_match_the_check_constraints() {
    let app = TestApp::spawn().await;
    for (column, values) in all_enum_columns() {
        let (table, col) = column.split_once('.').unwrap();
        let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = ?")
            .bind(table)
            .fetch_one(app.db())
            .await
            .unwrap();
        let marker = format!("CHECK ({col} IN (");
        let start = sql
            .find(&marker)
            .unwrap_or_else(|| panic!("no CHECK on {column}"))
            + marker.len();
        let list = &sql[start..start + sql[start..].find(')').unwrap()];
        let in_schema: Vec<String> = list
            .split(',')
            .map(|v| {
                v.split_whitespace()
                    .collect::<String>()
                    .trim_matches('\'')
                    .to_owned()
            })
            .collect();
        assert_eq!(in_schema, values, "{column}");
    }
    app.stop().await;
}

#[tokio::test]
async fn data_survives_a_restart_and_migrations_are_recorded() {
    let app = TestApp::spawn().await;
    seed_server(&app, "192.0.2.30", "keep.example.com").await;
    let dir = app.stop().await;
    let wal = dir.path().join("panel.sqlite-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "WAL checkpointed at shutdown"
    );
    let app = TestApp::spawn_in(dir).await;
    assert_eq!(count(&app, "servers").await, 1);
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success = 1")
            .fetch_one(app.db())
            .await
            .unwrap();
    assert!(applied >= 1);
    app.stop().await;
}
