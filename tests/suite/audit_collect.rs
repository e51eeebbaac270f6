//! Audit-log collection from a real node: denials appended to the node's audit log become rows
//! (with their explanation) and a live SSE toast; rotation and truncation lose nothing; a record
//! read twice is stored once; a dropped SSH connection is resumed from the stored position; text
//! from the node is escaped on the record page.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::harness::{
    IsolatedNode, TestApp, add_server, onboard, panel_for, panel_on_configured, wait_for,
};

const LOG: &str = "/var/log/audit/audit.log";

fn denial(serial: u32, scontext_level: &str, tcontext_level: &str, name: &str) -> String {
    format!(
        "type=AVC msg=audit(1763900000.{:03}:{serial}): avc:  denied  {{ read }} for  pid={serial} comm=\"php-fpm\" name=\"{name}\" dev=\"vda1\" ino={serial} scontext=system_u:system_r:laravel_php_fpm_t:{scontext_level} tcontext=system_u:object_r:site_content_t:{tcontext_level} tclass=file permissive=1\n\
         type=SYSCALL msg=audit(1763900000.{:03}:{serial}): arch=c000003e syscall=257 success=no exit=-13 pid={serial} comm=\"php-fpm\" exe=\"/usr/sbin/php-fpm8.2\" key=(null)\n",
        serial % 1000,
        serial % 1000
    )
}

async fn rows(app: &TestApp) -> Vec<(String, String, i64)> {
    sqlx::query_as(
        "SELECT level, message, serial FROM selinux_audit_logs ORDER BY serial, event_index",
    )
    .fetch_all(app.db())
    .await
    .unwrap()
}

async fn wait_rows(app: &TestApp, n: usize) -> Vec<(String, String, i64)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = rows(app).await;
        if r.len() >= n || Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denials_on_a_node_are_collected_streamed_and_survive_rotation_and_drops() {
    let (node, app, user, id, setup_url) = panel_for(IsolatedNode::start()).await;
    node.root(
        &format!("install -d -m 0700 /var/log/audit && install -m 0600 /dev/null {LOG}"),
        "",
    );
    onboard(&app, &node, id, &setup_url).await;
    wait_for(&app, id, "active").await;

    // A signed-in page's live stream.
    let resp = user.get("/selinux/events").await;
    assert_eq!(resp.status(), 200);
    let mut stream = resp.bytes_stream();
    crate::harness::wait_first_audit_read(&app).await;

    let appended = Instant::now();
    node.root(
        &format!("cat >> {LOG}"),
        &(denial(101, "s0:c100,c101", "s0:c102,c103", "wp-config.php")
            + &denial(
                102,
                "s0:c100,c101",
                "s0:c100,c101",
                "<script>alert(1)</script>",
            )),
    );
    let mut seen = String::new();
    // Generous: the whole suite shares two cores; the latency itself is printed.
    let latency = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(chunk) = stream.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if seen.contains("event: denial") {
                return appended.elapsed();
            }
        }
        panic!("the stream ended");
    })
    .await
    .expect("a denial toast over SSE");
    println!("denial on the node → SSE toast: {latency:?}");
    assert!(seen.contains("SELinux on node-"), "{seen}");
    assert!(
        !seen.contains("<script>alert"),
        "node text is escaped in the toast: {seen}"
    );

    let r = wait_rows(&app, 2).await;
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[0].0, "error", "a cross-site read is an error");
    assert_eq!(r[1].0, "warning");

    // Rotation mid-stream: lines appended to the old file just before it is rotated, and lines
    // in the new file, all arrive.
    node.root(
        &format!("cat >> {LOG} && mv {LOG} {LOG}.1 && install -m 0600 /dev/null {LOG} && cat >> {LOG} <<'EOF'\n{}EOF", denial(105, "s0:c1,c2", "s0:c1,c2", "new.php")),
        &(denial(103, "s0:c1,c2", "s0:c1,c2", "a.php") + &denial(104, "s0:c1,c2", "s0:c1,c2", "b.php")),
    );
    let r = wait_rows(&app, 5).await;
    let serials: Vec<i64> = r.iter().map(|x| x.2).collect();
    assert_eq!(
        serials,
        [101, 102, 103, 104, 105],
        "nothing lost across rotation"
    );

    // Truncation: the log is read from its start again.
    node.root(
        &format!("truncate -s 0 {LOG} && cat >> {LOG}"),
        &denial(106, "s0:c1,c2", "s0:c1,c2", "c.php"),
    );
    assert_eq!(wait_rows(&app, 6).await.len(), 6);

    // Read twice (the position put back to the start of the file): stored once.
    sqlx::query("UPDATE selinux_log_positions SET offset = 0")
        .execute(app.db())
        .await
        .unwrap();
    node.root(
        &format!("cat >> {LOG}"),
        &denial(107, "s0:c1,c2", "s0:c1,c2", "d.php"),
    );
    let r = wait_rows(&app, 7).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(rows(&app).await.len(), 7, "{r:?}");

    // The SSH connection drops (every session of the panel user is killed): the collector
    // resumes from its stored position.
    node.root("pkill -KILL -f 'sshd: panel' || true", "");
    node.root(
        &format!("cat >> {LOG}"),
        &denial(108, "s0:c1,c2", "s0:c1,c2", "e.php"),
    );
    let r = wait_rows(&app, 8).await;
    assert_eq!(r.last().map(|x| x.2), Some(108), "{r:?}");

    // The record page explains and escapes.
    let record_id: String =
        sqlx::query_scalar("SELECT id FROM selinux_audit_logs WHERE serial = 102")
            .fetch_one(app.db())
            .await
            .unwrap();
    let page = user
        .get(&format!("/selinux/records/{record_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-explanation"), "{page}");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>alert"),
        "{page}"
    );
    let cross: String = sqlx::query_scalar("SELECT id FROM selinux_audit_logs WHERE serial = 101")
        .fetch_one(app.db())
        .await
        .unwrap();
    let page = user
        .get(&format!("/selinux/records/{cross}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("critical") && page.contains("another"),
        "{page}"
    );
    app.stop().await;
}

/// A tenant flooding denials (20,000 in one burst) costs at most the server's
/// allowance of rows a minute; the rest is counted, the server log says so once, and SELinux
/// being switched off (MAC_STATUS), root's doing, is stored whatever the count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_denials_is_counted_past_the_allowance_and_mac_status_always_kept() {
    let node = IsolatedNode::start();
    let (app, user) =
        panel_on_configured(&node, |c| c.retention.audit_records_per_minute = 100).await;
    let (id, setup_url) = add_server(&app, &user, &node).await;
    node.root(
        &format!("install -d -m 0700 /var/log/audit && install -m 0600 /dev/null {LOG}"),
        "",
    );
    onboard(&app, &node, id, &setup_url).await;
    wait_for(&app, id, "active").await;
    crate::harness::wait_first_audit_read(&app).await;

    let mut flood: String = (1..=20_000)
        .map(|serial| denial(serial, "s0:c1,c2", "s0:c3,c4", "flood"))
        .collect();
    flood.push_str(
        "type=MAC_STATUS msg=audit(1763900100.000:99999): enforcing=0 old_enforcing=1 auid=0 ses=1\n",
    );
    node.root(&format!("cat >>{LOG}"), &flood);

    let seen = || async {
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM selinux_audit_logs")
            .fetch_one(app.db())
            .await
            .unwrap();
        let dropped: i64 =
            sqlx::query_scalar("SELECT dropped FROM selinux_log_positions WHERE server_id = ?")
                .bind(id)
                .fetch_one(app.db())
                .await
                .unwrap();
        (stored, dropped)
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let (stored, dropped) = loop {
        let (stored, dropped) = seen().await;
        if stored + dropped >= 20_001 {
            break (stored, dropped);
        }
        assert!(
            Instant::now() < deadline,
            "the flood was not read: {stored} stored, {dropped} counted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The burst lands within a minute (or two, across a window's edge).
    assert!(
        (101..=201).contains(&stored),
        "{stored} rows for a 100-a-minute allowance"
    );
    assert_eq!(
        stored + dropped,
        20_001,
        "each denial is one record (its SYSCALL joins it)"
    );
    let mac: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM selinux_audit_logs WHERE json_extract(context, '$.record_type') = 'MAC_STATUS'",
    )
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(mac, 1, "SELinux switched off is stored past the allowance");
    let warnings: Vec<_> = panel::db::servers::logs(app.db(), id, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.message.contains("the excess is counted, not stored"))
        .collect();
    assert_eq!(warnings.len(), 1, "said once a minute at most");
    app.stop().await;
}
