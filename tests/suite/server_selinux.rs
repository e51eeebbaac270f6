//! A server's SELinux tab against a real node. The CI nodes run Debian without SELinux, so the
//! tab must say so truthfully: mode disabled, no module, booleans not available, the enforcing
//! checklist failing and the switch refused by the server even when posted directly; the jobs
//! run and report that nothing was changed. Bad input changes nothing.

use panel::db::jobs::Job;

use crate::harness::{IsolatedNode, onboard, panel_for, wait_for, wait_job};

async fn job_count(app: &crate::harness::TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(app.db())
        .await
        .unwrap()
}

fn job_id(resp: &reqwest::Response) -> panel::ids::JobId {
    let to = resp.headers()["location"].to_str().unwrap();
    to.rsplit('/').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_selinux_tab_tells_the_truth_about_a_node_without_selinux() {
    let (node, app, user, id, setup_url) = panel_for(IsolatedNode::start()).await;
    let tab = format!("/servers/{id}/selinux");
    // Before onboarding there is nothing to manage.
    let page = user.get(&tab).await.text().await.unwrap();
    assert!(page.contains("once the server is active"), "{page}");
    assert_eq!(
        user.post_form(&format!("{tab}/module"), &[]).await.status(),
        409
    );

    onboard(&app, &node, id, &setup_url).await;
    wait_for(&app, id, "active").await;
    let page = user.get(&tab).await.text().await.unwrap();
    assert!(page.contains("role=\"tablist\""), "{page}");
    assert!(page.contains(&format!("hx-get=\"/servers/{id}/selinux/status\"")));
    let overview = user
        .get(&format!("/servers/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        overview.contains(&format!("href=\"{tab}\"")),
        "the overview links the tab"
    );

    let status = user
        .get(&format!("{tab}/status"))
        .await
        .text()
        .await
        .unwrap();
    assert!(status.contains("data-selinux-status"), "{status}");
    assert!(status.contains("SELinux is off on this server"), "{status}");
    assert!(
        status.contains("Not installed. The panel carries version 1.5.0"),
        "{status}"
    );
    assert_eq!(status.matches("not available").count(), 2, "{status}");
    assert!(
        !status.contains("data-check=\"true\""),
        "nothing passes: {status}"
    );
    assert!(
        status.contains("Switch to enforcing</button>")
            && status.contains("disabled")
            && !status.contains("Turn on"),
        "{status}"
    );

    // Enforcing is refused by the server, whatever the page showed.
    let before = job_count(&app).await;
    let resp = user.post_form(&format!("{tab}/enforce"), &[]).await;
    assert_eq!(resp.status(), 409);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("Not switching to enforcing yet") && body.contains("SELinux is off"),
        "{body}"
    );
    // Only the module's booleans, only on/off; field by field; nothing queued.
    for (name, value, field) in [
        ("httpd_can_network_connect", "on", "name"),
        ("panel_can_reload_nginx; setenforce 0", "on", "name"),
        ("panel_can_reload_nginx", "1", "value"),
        ("panel_can_reload_nginx", "", "value"),
    ] {
        let resp = user
            .post_form(
                &format!("{tab}/boolean"),
                &[("name", name), ("value", value)],
            )
            .await;
        assert_eq!(resp.status(), 422, "{name} {value}");
        let body = resp.text().await.unwrap();
        assert!(
            body.contains(&format!("data-field-error=\"{field}\"")),
            "{body}"
        );
    }
    assert_eq!(job_count(&app).await, before);

    // The jobs run on the node, skip every step and say that nothing was changed.
    for (path, form) in [
        ("module", vec![]),
        (
            "boolean",
            vec![("name", "panel_can_reload_nginx"), ("value", "on")],
        ),
        ("relabel", vec![]),
    ] {
        let resp = user.post_form(&format!("{tab}/{path}"), &form).await;
        assert_eq!(resp.status(), 303, "{path}");
        let job: Job = wait_job(&app, job_id(&resp)).await;
        assert_eq!(job.status, "success", "{path}: {job:?}");
        let log: Vec<String> = panel::db::jobs::log_since(app.db(), job.id, 0)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.line)
            .collect();
        assert!(
            log.iter().any(|l| l == "skipped: SELinux disabled"),
            "{log:#?}"
        );
    }
    let logs = panel::db::servers::logs(app.db(), id, 50).await.unwrap();
    assert_eq!(
        logs.iter()
            .filter(|l| l.message == "SELinux is disabled on the server: nothing was changed")
            .count(),
        3
    );
    assert!(
        !logs
            .iter()
            .any(|l| l.message.contains("module 1.5.0 installed")),
        "no window starts on a node without SELinux"
    );
    app.stop().await;
}
