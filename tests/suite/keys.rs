//! Secrets at rest and SSH key management, against ssh-keygen and a real sshd.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use panel::crypto::{SecretBox, SecretContext};
use panel::db::ssh_keys::SshKeyPublic;
use panel::domain::KeyType;
use panel::error::AppError;
use panel::ids::{DatabaseId, ServerId};
use panel::secrets::{RotationFault, open_box, rotate, rotate_with_fault};
use panel::{db, ssh_keys};

use crate::harness::{SshNode, TestApp};

fn keygen_fingerprint(public_line: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.pub");
    std::fs::write(&file, format!("{public_line}\n")).unwrap();
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned()
}

/// Make a key pair with ssh-keygen; returns (private text, public line).
fn keygen(kind: &str, passphrase: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("id");
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", passphrase, "-C", "test@host", "-f"])
        .arg(&file);
    if kind == "rsa" {
        cmd.args(["-b", "3072"]);
    }
    assert!(cmd.status().unwrap().success());
    (
        std::fs::read_to_string(&file).unwrap(),
        std::fs::read_to_string(file.with_extension("pub"))
            .unwrap()
            .trim()
            .to_owned(),
    )
}

fn write_private(dir: &Path, pem: &str) -> std::path::PathBuf {
    let file = dir.join("id");
    std::fs::write(&file, pem).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    file
}

async fn key_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ssh_keys")
        .fetch_one(app.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn generated_keys_match_ssh_keygen_and_log_in_to_a_real_sshd() {
    let app = TestApp::spawn().await;
    for (key_type, name) in [(KeyType::Ed25519, "gen-ed"), (KeyType::Rsa, "gen-rsa")] {
        let key = ssh_keys::generate(app.state(), name, key_type, None)
            .await
            .unwrap();
        assert_eq!(
            key.fingerprint,
            keygen_fingerprint(&key.public_key),
            "{name}"
        );
        assert!(key.has_private_key);

        let pem = panel::nodes::keys::private_key(app.state(), key.id)
            .await
            .unwrap()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = write_private(dir.path(), &pem);
        let out = Command::new("ssh-keygen")
            .arg("-y")
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ssh-keygen -y accepts the decrypted key"
        );
        let derived = String::from_utf8(out.stdout).unwrap();
        let body = |line: &str| {
            line.split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(body(&derived), body(&key.public_key), "{name}");

        let node = SshNode::start(&format!("{}\n", key.public_key));
        let out = node.ssh(&file, "echo logged-in");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "logged-in",
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn imported_keys_keep_ssh_keygen_fingerprints() {
    let app = TestApp::spawn().await;
    for kind in ["ed25519", "rsa"] {
        let (private, public) = keygen(kind, "");
        let key = ssh_keys::import(app.state(), &format!("imp-{kind}"), &private, None)
            .await
            .unwrap();
        assert_eq!(
            key.fingerprint,
            keygen_fingerprint(&public),
            "{kind} private import"
        );
        assert!(key.has_private_key);
        let (_, other_public) = keygen(kind, "");
        let key = ssh_keys::import(app.state(), &format!("pub-{kind}"), &other_public, None)
            .await
            .unwrap();
        assert_eq!(
            key.fingerprint,
            keygen_fingerprint(&other_public),
            "{kind} public import"
        );
        assert!(!key.has_private_key);
        assert!(
            panel::nodes::keys::private_key(app.state(), key.id)
                .await
                .unwrap()
                .is_none()
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_database_file_and_wal_hold_no_key_material() {
    let app = TestApp::spawn().await;
    let mut pems = Vec::new();
    for (i, key_type) in [KeyType::Ed25519, KeyType::Rsa].into_iter().enumerate() {
        let k = ssh_keys::generate(app.state(), &format!("k{i}"), key_type, None)
            .await
            .unwrap();
        pems.push(
            panel::nodes::keys::private_key(app.state(), k.id)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let (private, _) = keygen("ed25519", "");
    let imported = ssh_keys::import(app.state(), "imp", &private, None)
        .await
        .unwrap();
    pems.push(
        panel::nodes::keys::private_key(app.state(), imported.id)
            .await
            .unwrap()
            .unwrap(),
    );

    // Read while the panel runs (rows still in the WAL) and again after the checkpoint.
    let scan = |dir: &Path| {
        let mut files = 0;
        for name in ["panel.sqlite", "panel.sqlite-wal"] {
            let Ok(bytes) = std::fs::read(dir.join(name)) else {
                continue;
            };
            files += 1;
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("PRIVATE KEY"), "{name} holds a PEM header");
            for pem in &pems {
                for line in pem
                    .lines()
                    .filter(|l| !l.starts_with("-----") && l.len() >= 24)
                {
                    assert!(!text.contains(line), "{name} holds private key text");
                }
                let key = ssh_key::PrivateKey::from_openssh(pem.as_str()).unwrap();
                if let Some(ed) = key.key_data().ed25519() {
                    let seed = ed.private.to_bytes();
                    assert!(
                        !bytes.windows(32).any(|w| w == seed),
                        "{name} holds a raw ED25519 seed"
                    );
                }
                if let Some(rsa) = key.key_data().rsa() {
                    let d = rsa.private().d().as_positive_bytes().unwrap();
                    assert!(
                        !bytes.windows(64).any(|w| w == &d[..64]),
                        "{name} holds the RSA exponent"
                    );
                }
            }
        }
        files
    };
    assert!(scan(app.data_dir()) >= 1);
    let dir = app.stop().await;
    assert_eq!(
        scan(dir.path()),
        1,
        "after shutdown only the main file is left"
    );
}

#[tokio::test]
async fn tampered_or_moved_ciphertexts_give_a_clear_error() {
    let app = TestApp::spawn().await;
    let a = ssh_keys::generate(app.state(), "a", KeyType::Ed25519, None)
        .await
        .unwrap();
    let b = ssh_keys::generate(app.state(), "b", KeyType::Ed25519, None)
        .await
        .unwrap();
    let sealed_a = db::ssh_keys::sealed_private_key(app.db(), a.id)
        .await
        .unwrap()
        .unwrap();

    // Moved into another row: authentication fails.
    sqlx::query("UPDATE ssh_keys SET private_key_encrypted = ? WHERE id = ?")
        .bind(&sealed_a)
        .bind(b.id)
        .execute(app.db())
        .await
        .unwrap();
    let err = panel::nodes::keys::private_key(app.state(), b.id)
        .await
        .unwrap_err();
    assert!(
        format!("{err}").contains("altered or belongs to another row"),
        "{err}"
    );
    assert!(
        !err.public_message().contains("ssh_keys"),
        "details stay in the log"
    );

    // One flipped byte: same.
    let mut flipped = sealed_a.clone();
    flipped[30] ^= 0x40;
    sqlx::query("UPDATE ssh_keys SET private_key_encrypted = ? WHERE id = ?")
        .bind(&flipped)
        .bind(a.id)
        .execute(app.db())
        .await
        .unwrap();
    let err = panel::nodes::keys::private_key(app.state(), a.id)
        .await
        .unwrap_err();
    assert!(
        format!("{err}").contains("altered or belongs to another row"),
        "{err}"
    );
    app.stop().await;
}

/// Seed secrets of both kinds; returns their plaintexts by (table, row id).
async fn seed_secrets(
    pool: &db::Pool,
    secrets: &SecretBox,
) -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let config = panel::config::Config::for_data_dir(std::path::Path::new("/nonexistent"));
    let (state, _) = panel::state::AppState::new(config, pool.clone(), secrets.clone());
    for name in ["r1", "r2"] {
        let k = ssh_keys::generate(&state, name, KeyType::Ed25519, None)
            .await
            .unwrap();
        let pem = panel::nodes::keys::private_key(&state, k.id)
            .await
            .unwrap()
            .unwrap();
        out.push(("ssh_keys", k.id.to_string(), pem.as_bytes().to_vec()));
    }
    let server = ServerId::generate();
    sqlx::query("INSERT INTO servers (id, name, ip_address, hostname, os_version) VALUES (?, 's', '192.0.2.9', 's', 'debian_12')")
        .bind(server)
        .execute(pool)
        .await
        .unwrap();
    let db_id = DatabaseId::generate().to_string();
    let password = b"'; DROP USER x; -- \\ $(id) \xc3\xbc".to_vec();
    let sealed = secrets.seal(
        &password,
        SecretContext::new("databases", "password_encrypted", &db_id),
    );
    sqlx::query("INSERT INTO databases (id, server_id, db_type, name, username, password_encrypted) VALUES (?, ?, 'postgresql', 'app', 'app', ?)")
        .bind(&db_id)
        .bind(server)
        .bind(sealed)
        .execute(pool)
        .await
        .unwrap();
    out.push(("databases", db_id, password));
    out
}

async fn assert_secrets_open(
    pool: &db::Pool,
    secrets: &SecretBox,
    expected: &[(&'static str, String, Vec<u8>)],
) {
    for (table, id, plain) in expected {
        let column = if *table == "ssh_keys" {
            "private_key_encrypted"
        } else {
            "password_encrypted"
        };
        let sealed: Vec<u8> =
            sqlx::query_scalar(&format!("SELECT {column} FROM {table} WHERE id = ?"))
                .bind(id)
                .fetch_one(pool)
                .await
                .unwrap();
        let opened = secrets
            .open(&sealed, SecretContext::new(table, column, id))
            .unwrap();
        assert_eq!(opened.as_slice(), plain.as_slice(), "{table} {id}");
    }
}

#[tokio::test]
async fn key_rotation_round_trips_every_secret() {
    let dir = tempfile::tempdir().unwrap();
    let pool = db::open(dir.path()).await.unwrap();
    let before = open_box(&pool, dir.path(), None).await.unwrap();
    let expected = seed_secrets(&pool, &before).await;
    let old_file = std::fs::read(dir.path().join("master.key")).unwrap();

    let report = rotate(&pool, dir.path(), None).await.unwrap();
    assert_eq!(report.secrets, 3);
    assert_ne!(report.old_key_id, report.new_key_id);
    assert_ne!(
        std::fs::read(dir.path().join("master.key")).unwrap(),
        old_file
    );
    assert!(!dir.path().join("master.key.next").exists());
    let mode = std::fs::metadata(dir.path().join("master.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let after = open_box(&pool, dir.path(), None).await.unwrap();
    assert_eq!(after.current_key_id(), report.new_key_id);
    assert_secrets_open(&pool, &after, &expected).await;
    assert!(
        open_box(&pool, dir.path(), None)
            .await
            .unwrap()
            .open(
                &before.seal(b"x", SecretContext::new("t", "c", "r")),
                SecretContext::new("t", "c", "r")
            )
            .is_err(),
        "the old key is gone"
    );
    db::close(&pool).await;
}

#[tokio::test]
async fn a_crash_mid_rotation_leaves_a_usable_database() {
    for fault in [RotationFault::BeforeCommit, RotationFault::AfterCommit] {
        let dir = tempfile::tempdir().unwrap();
        let pool = db::open(dir.path()).await.unwrap();
        let before = open_box(&pool, dir.path(), None).await.unwrap();
        let expected = seed_secrets(&pool, &before).await;
        rotate_with_fault(&pool, dir.path(), None, Some(fault))
            .await
            .unwrap_err();
        db::close(&pool).await;

        // "Restart": a fresh pool and box, as `panel serve` would open them.
        let pool = db::open(dir.path()).await.unwrap();
        let reopened = open_box(&pool, dir.path(), None).await.unwrap();
        assert!(
            !dir.path().join("master.key.next").exists(),
            "{fault:?}: leftover resolved"
        );
        match fault {
            RotationFault::BeforeCommit => {
                assert_eq!(reopened.current_key_id(), before.current_key_id())
            }
            RotationFault::AfterCommit => {
                assert_ne!(reopened.current_key_id(), before.current_key_id())
            }
        }
        assert_secrets_open(&pool, &reopened, &expected).await;
        // And the next rotation works from there.
        assert_eq!(rotate(&pool, dir.path(), None).await.unwrap().secrets, 3);
        db::close(&pool).await;
    }
}

fn field_of(err: &AppError) -> Vec<(&'static str, String)> {
    err.field_errors()
        .iter()
        .map(|f| (f.field, f.message.clone()))
        .collect()
}

#[tokio::test]
async fn bad_key_input_is_a_field_error_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let existing = ssh_keys::generate(app.state(), "first", KeyType::Ed25519, None)
        .await
        .unwrap();
    let (encrypted, _) = keygen("ed25519", "correct horse");
    let megabyte = "A".repeat(1024 * 1024);
    let cases: [(&str, &str, &str, &str); 7] = [
        (
            "malformed",
            "ssh-ed25519 AAAA-not-a-key",
            "key",
            "not an OpenSSH private key or public key",
        ),
        ("garbage", "hello world", "key", "not an OpenSSH"),
        ("passphrase", &encrypted, "key", "has a passphrase"),
        (
            "duplicate",
            &existing.public_key,
            "key",
            "already in the panel as “first”",
        ),
        ("huge", &megabyte, "key", "at most 16 KiB"),
        ("", "ssh-ed25519 AAAA", "name", "give the key a name"),
        (
            "line\nbreak",
            &existing.public_key,
            "name",
            "no line breaks",
        ),
    ];
    for (name, text, field, message) in cases {
        let err = ssh_keys::import(app.state(), name, text, None)
            .await
            .unwrap_err();
        let fields = field_of(&err);
        assert!(
            fields
                .iter()
                .any(|(f, m)| *f == field && m.contains(message)),
            "{name:?}: {fields:?}"
        );
        // The key text itself never comes back in a message.
        assert!(fields.iter().all(|(_, m)| !m.contains("PRIVATE KEY")));
    }
    let err = ssh_keys::generate(app.state(), &"n".repeat(101), KeyType::Rsa, None)
        .await
        .unwrap_err();
    assert_eq!(field_of(&err)[0].0, "name");
    assert_eq!(key_count(&app).await, 1, "nothing stored");
    app.stop().await;
}

#[tokio::test]
async fn a_key_in_use_is_not_deleted_and_the_server_is_named() {
    let app = TestApp::spawn().await;
    let key: SshKeyPublic = ssh_keys::generate(app.state(), "in-use", KeyType::Ed25519, None)
        .await
        .unwrap();
    sqlx::query("INSERT INTO servers (id, name, ip_address, hostname, os_version, ssh_key_id) VALUES (?, 'web-7', '192.0.2.7', 'w', 'rocky_9', ?)")
        .bind(ServerId::generate())
        .bind(key.id)
        .execute(app.db())
        .await
        .unwrap();
    let err = ssh_keys::delete(app.state(), key.id).await.unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)));
    assert!(err.public_message().contains("web-7"), "{err}");
    assert_eq!(key_count(&app).await, 1);
    sqlx::query("DELETE FROM servers")
        .execute(app.db())
        .await
        .unwrap();
    ssh_keys::delete(app.state(), key.id).await.unwrap();
    assert_eq!(key_count(&app).await, 0);
    app.stop().await;
}

#[test]
fn the_cli_generates_lists_and_refuses_bad_imports_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let panel = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_panel"))
            .args(args)
            .env("PANEL_DATA_DIR", dir.path())
            .env_remove("PANEL_KEY")
            .output()
            .unwrap()
    };
    let out = panel(&["ssh-key", "generate", "--name", "cli-ed"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let public = stdout
        .lines()
        .find(|l| l.starts_with("ssh-ed25519 "))
        .expect("public key printed");
    let fingerprint = keygen_fingerprint(public);
    assert!(stdout.contains(&fingerprint));
    let list = String::from_utf8(panel(&["ssh-key", "list"]).stdout).unwrap();
    assert!(list.contains(&fingerprint) && list.contains("cli-ed"));
    let mode = std::fs::metadata(dir.path().join("master.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let (encrypted, _) = keygen("ed25519", "pw");
    let file = dir.path().join("enc");
    std::fs::write(&file, encrypted).unwrap();
    let out = panel(&["ssh-key", "import", "--name", "enc", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("key: this private key has a passphrase")
    );

    let show = String::from_utf8(panel(&["ssh-key", "show", "cli-ed"]).stdout).unwrap();
    assert_eq!(show.trim(), public);
    let out = panel(&["key", "rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("re-encrypted 1 secret"));
    assert!(panel(&["ssh-key", "delete", "cli-ed"]).status.success());
    assert!(
        String::from_utf8(panel(&["ssh-key", "list"]).stdout)
            .unwrap()
            .contains("No SSH keys yet")
    );
}
