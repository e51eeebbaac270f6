//! SELinux alert mail through a real SMTP server on loopback: a burst of 1,000 denials of a new
//! kind gives one mail at once and one digest; `setenforce 0` and a boolean change are mailed
//! at once; node text is escaped in the HTML part; a refused send is kept, shown as failed on
//! the SELinux page and retried until it goes out.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::harness::{IsolatedNode, SmtpSink, add_server, onboard, panel_on_with, wait_for};

const LOG: &str = "/var/log/audit/audit.log";

/// The messages' text with quoted-printable soft breaks and escapes undone.
fn decoded(raw: &str) -> String {
    let joined = raw.replace("=\n", "");
    let mut out = Vec::new();
    let b = joined.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn subject(raw: &str) -> String {
    raw.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or("")
        .to_owned()
}

async fn wait_mails(sink: &SmtpSink, n: usize, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let m = sink.messages();
        if m.len() >= n || Instant::now() > deadline {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denials_are_mailed_at_once_then_in_a_digest_and_failed_sends_are_retried() {
    let sink = SmtpSink::start().await;
    let node = IsolatedNode::start();
    let (app, user) = panel_on_with(&node, Some(sink.config(Duration::from_secs(3)))).await;
    let (id, setup_url) = add_server(&app, &user, &node).await;
    node.root(
        &format!("install -d -m 0700 /var/log/audit && install -m 0600 /dev/null {LOG}"),
        "",
    );
    onboard(&app, &node, id, &setup_url).await;
    wait_for(&app, id, "active").await;
    crate::harness::wait_first_audit_read(&app).await;

    // A burst of 1,000 denials of one new kind.
    let mut burst = String::new();
    for serial in 1..=1000u32 {
        burst.push_str(&format!(
            "type=AVC msg=audit(1763900000.{:03}:{serial}): avc:  denied  {{ write }} for  pid=9 comm=\"php-fpm\" name=\"<script>x</script>\" scontext=system_u:system_r:laravel_php_fpm_t:s0:c100,c101 tcontext=system_u:object_r:site_content_t:s0:c100,c101 tclass=file permissive=1\n",
            serial % 1000
        ));
    }
    let appended = Instant::now();
    node.root(&format!("cat >> {LOG}"), &burst);
    let mails = wait_mails(&sink, 1, Duration::from_secs(20)).await;
    println!("first denial of a kind → mail: {:?}", appended.elapsed());
    if mails.is_empty() {
        // Where the chain stopped: collection (rows, position) or mail (the outbox).
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM selinux_audit_logs")
            .fetch_one(app.db())
            .await
            .unwrap();
        let positions: Vec<(i64, i64)> =
            sqlx::query_as("SELECT inode, offset FROM selinux_log_positions")
                .fetch_all(app.db())
                .await
                .unwrap();
        let outbox: Vec<(String, String, i64, Option<String>)> =
            sqlx::query_as("SELECT kind, status, attempts, last_error FROM mail_outbox")
                .fetch_all(app.db())
                .await
                .unwrap();
        let size = node.must(&format!("stat -c %s {LOG}"), "");
        panic!(
            "no immediate mail: {rows} rows stored, positions {positions:?} (log is {} bytes), outbox {outbox:?}",
            size.trim()
        );
    }
    let first = decoded(&mails[0]);
    assert!(
        subject(&first).starts_with("[Panel] SELinux denial on node-"),
        "{first}"
    );
    assert!(
        first.contains("multipart/alternative"),
        "plain text and HTML: {first}"
    );
    assert!(
        first.contains("&lt;script&gt;x&lt;/script&gt;")
            && !first.contains("<script>x</script>\"<"),
        "node text escaped in HTML: {first}"
    );
    // The other 999 arrive as one digest.
    let mails = wait_mails(&sink, 2, Duration::from_secs(20)).await;
    assert_eq!(
        mails.len(),
        2,
        "{:?}",
        mails.iter().map(|m| subject(m)).collect::<Vec<_>>()
    );
    let digest = decoded(&mails[1]);
    assert_eq!(
        subject(&digest),
        "[Panel] SELinux digest: 999 denial(s) on 1 server(s)"
    );
    assert!(
        digest.contains("999x laravel_php_fpm_t -> site_content_t file { write }"),
        "{digest}"
    );

    // Permissive and a boolean change: at once, each.
    let t = Instant::now();
    node.root(
        &format!("cat >> {LOG}"),
        "type=MAC_STATUS msg=audit(1763900100.000:2001): enforcing=0 old_enforcing=1 auid=0 ses=1 enabled=1 old-enabled=1 lsm=selinux res=1\n",
    );
    let mails = wait_mails(&sink, 3, Duration::from_secs(10)).await;
    println!("setenforce 0 → mail: {:?}", t.elapsed());
    assert_eq!(
        subject(&mails[2]),
        format!(
            "[Panel] SELinux switched to permissive on node-{}",
            node.number
        )
    );

    // The relay refuses: the message is kept, shown as failed, and goes out once it accepts.
    sink.refuse.store(true, Ordering::SeqCst);
    node.root(
        &format!("cat >> {LOG}"),
        "type=MAC_CONFIG_CHANGE msg=audit(1763900200.000:2002): bool=httpd_can_network_connect val=1 old_val=0 auid=0 ses=1\n",
    );
    // Generous: the suite runs other node tests alongside, and this one only has to happen.
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let failed: i64 =
            sqlx::query_scalar("SELECT count(*) FROM mail_outbox WHERE status = 'failed'")
                .fetch_one(app.db())
                .await
                .unwrap();
        if failed == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the refused send is not recorded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let page = user.get("/selinux").await.text().await.unwrap();
    assert!(page.contains("data-mail-status=\"failed\""), "{page}");
    assert!(page.contains("451"), "the relay's answer is shown: {page}");
    sink.refuse.store(false, Ordering::SeqCst);
    let mails = wait_mails(&sink, 4, Duration::from_secs(40)).await;
    assert_eq!(
        subject(mails.last().unwrap()),
        format!(
            "[Panel] SELinux boolean httpd_can_network_connect set on on node-{}",
            node.number
        )
    );
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM mail_outbox")
        .fetch_all(app.db())
        .await
        .unwrap();
    assert!(statuses.iter().all(|s| s == "sent"), "{statuses:?}");
    app.stop().await;
}
