//! Lists at size: every list page is one bounded page reached by keyset links. Over HTTP, each
//! list is walked forwards and back and must show every row exactly once in its order; search,
//! sort and filters narrow it; bad query values are field errors. In Chromium, the pager and the
//! search box swap only the list (htmx), the URL follows, and the back button returns.

use std::collections::HashSet;

use crate::browser::Browser;
use crate::harness::{LoggedIn, TestApp};

/// Rows on one page (the panel's `PAGE_SIZE`).
const PAGE: usize = 50;

fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!("{attr}=\"");
    html.split(&needle)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|v| v.replace("&amp;", "&"))
        .collect()
}

/// The link with `rel` (next/prev) in the pager, if any.
fn pager_link(html: &str, rel: &str) -> Option<String> {
    let at = html.find(&format!("rel=\"{rel}\""))?;
    let start = html[..at].rfind("<a ")?;
    attr_values(&html[start..at], "href").into_iter().next()
}

/// The text of every `<a class="link" href="/sites/…">` in the list: the rows' domains.
fn site_domains(html: &str) -> Vec<String> {
    let list = &html[html.find("id=\"list\"").expect("a list region")..];
    list.split("href=\"/sites/")
        .skip(1)
        .filter_map(|r| r.split_once("\">").map(|(_, t)| t))
        .filter_map(|t| t.split('<').next())
        .filter(|t| t.ends_with(".example.com"))
        .map(str::to_owned)
        .collect()
}

/// Follow `next` from `start` to the end, then `prev` back to the start: the rows of each page.
async fn walk(
    user: &LoggedIn,
    start: &str,
    rows: fn(&str) -> Vec<String>,
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut forward = Vec::new();
    let mut path = start.to_owned();
    let mut html;
    loop {
        let r = user.get(&path).await;
        assert_eq!(r.status(), 200, "{path}");
        html = r.text().await.unwrap();
        forward.push(rows(&html));
        match pager_link(&html, "next") {
            Some(next) => path = next,
            None => break,
        }
        assert!(forward.len() < 100, "the pager never ends");
    }
    let mut back = vec![forward.last().unwrap().clone()];
    while let Some(prev) = pager_link(&html, "prev") {
        html = user.text(&prev).await;
        back.push(rows(&html));
        assert!(back.len() < 100, "the pager never ends backwards");
    }
    back.reverse();
    (forward, back)
}

async fn seeded(sites: i64, audit: i64) -> (TestApp, LoggedIn) {
    let app = TestApp::spawn().await;
    panel::db::seed::seed(
        app.db(),
        panel::db::seed::Sizes {
            servers: 3,
            sites,
            audit,
        },
    )
    .await
    .unwrap();
    let user = app.login_as("lists@example.com", "Lists").await;
    (app, user)
}

#[tokio::test]
async fn every_list_walks_forwards_and_back_showing_each_row_once_in_order() {
    let (app, user) = seeded(130, 160).await;

    // Sites by domain: three pages, every site once, sorted; back again gives the same pages.
    let (forward, back) = walk(&user, "/sites", site_domains).await;
    assert_eq!(
        forward.iter().map(Vec::len).collect::<Vec<_>>(),
        [PAGE, PAGE, 30]
    );
    assert_eq!(forward, back, "previous links give back the same pages");
    let all: Vec<String> = forward.concat();
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 130);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "domain order");
    let first = user.text("/sites").await;
    assert!(first.contains("data-total=\"130\""), "the unfiltered total");

    // Newest first, then oldest first: the seed makes site0 the newest.
    let newest = site_domains(&user.text("/sites?sort=created").await);
    assert_eq!(newest[0], "site0.example.com");
    let oldest = site_domains(&user.text("/sites?sort=created&dir=asc").await);
    assert_eq!(oldest[0], "site129.example.com");
    let (forward, _) = walk(&user, "/sites?sort=created&dir=asc", site_domains).await;
    let all = forward.concat();
    assert_eq!(all.len(), 130);
    assert_eq!(all.last().unwrap(), "site0.example.com");

    // Search (case-insensitive substring; `_` and `%` are literal) and the status filter.
    let found = site_domains(&user.text("/sites?q=SITE12").await);
    assert_eq!(found.len(), 11, "site12 and site120–129: {found:?}");
    assert!(site_domains(&user.text("/sites?q=site_1").await).is_empty());
    let errors = walk(&user, "/sites?status=error", site_domains)
        .await
        .0
        .concat();
    assert_eq!(errors.len(), 13, "every tenth site is in error");
    let page = user.text("/sites?q=nothing-like-this").await;
    assert!(page.contains("data-no-matches"));

    // The other lists page the same way.
    let databases = |html: &str| {
        let list = &html[html.find("id=\"list\"").unwrap()..];
        list.split("<td class=\"font-mono\">site")
            .skip(1)
            .step_by(2)
            .filter_map(|r| r.split('<').next())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let (forward, back) = walk(&user, "/databases", databases).await;
    assert_eq!(forward.concat().len(), 65);
    assert_eq!(forward, back);
    let records = |html: &str| {
        attr_values(html, "href")
            .into_iter()
            .filter(|h| h.starts_with("/selinux/records/"))
            .collect::<Vec<_>>()
    };
    let (forward, back) = walk(&user, "/selinux?period=all", records).await;
    assert_eq!(forward.concat().iter().collect::<HashSet<_>>().len(), 160);
    assert_eq!(forward, back);
    let servers = |html: &str| {
        attr_values(html, "href")
            .into_iter()
            .filter(|h| h.starts_with("/servers/0SEED"))
            .collect::<Vec<_>>()
    };
    assert_eq!(walk(&user, "/servers", servers).await.0.concat().len(), 3);
    for i in 0..60 {
        panel::db::jobs::insert(
            app.db(),
            &panel::db::jobs::NewJob {
                server_id: None,
                actor_id: None,
                kind: panel::domain::JobKind::SiteProvision,
                args: "{}",
                title: &format!("Job number {i}"),
            },
        )
        .await
        .unwrap();
    }
    let jobs = |html: &str| {
        attr_values(html, "href")
            .into_iter()
            .filter(|h| h.starts_with("/jobs/"))
            .collect::<Vec<_>>()
    };
    let (forward, back) = walk(&user, "/jobs", jobs).await;
    assert_eq!(forward.concat().iter().collect::<HashSet<_>>().len(), 60);
    assert_eq!(forward, back);
    assert_eq!(jobs(&user.text("/jobs?q=number+5").await).len(), 11);

    // Bad query values: a field error each, nothing shown as if they were fine.
    for (path, field) in [
        ("/sites?sort=id;drop", "sort"),
        ("/sites?dir=up", "dir"),
        ("/sites?after=zz.nope", "after"),
        ("/sites?status=gone", "status"),
        ("/servers?status=x", "status"),
        ("/databases?server=x", "server"),
        ("/jobs?status=x", "status"),
        ("/deployments?site=x", "site"),
        ("/selinux?server=no-such-server", "server"),
        ("/selinux?after=00.x", "after"),
    ] {
        let r = user.get(path).await;
        assert_eq!(r.status(), 422, "{path}");
        let body = r.text().await.unwrap();
        assert!(body.contains(field), "{path}: names {field}");
    }
    app.stop().await;
}

/// A long job log: the job's page shows its newest 500 lines and pages back through the rest;
/// a page of history is not followed live.
#[tokio::test]
async fn a_long_job_log_is_read_a_page_at_a_time() {
    let (app, user) = seeded(0, 0).await;
    let job = panel::db::jobs::insert(
        app.db(),
        &panel::db::jobs::NewJob {
            server_id: None,
            actor_id: None,
            kind: panel::domain::JobKind::SiteProvision,
            args: "{}",
            title: "A chatty job",
        },
    )
    .await
    .unwrap();
    let lines: Vec<_> = (0..1234)
        .map(|i| {
            (
                panel::domain::LogStream::Stdout,
                format!("line number {i:04}"),
            )
        })
        .collect();
    panel::db::jobs::append_logs(app.db(), job, &lines)
        .await
        .unwrap();
    let path = format!("/jobs/{job}");
    let shown = |html: &str| -> Vec<String> {
        html.split("data-stream=\"stdout\">")
            .skip(1)
            .filter_map(|r| r.split('<').next())
            .map(str::to_owned)
            .collect()
    };
    let newest = user.text(&path).await;
    let rows = shown(&newest);
    assert_eq!(
        (rows.len(), rows[0].as_str(), rows[499].as_str()),
        (500, "line number 0734", "line number 1233")
    );
    let stream = format!("/jobs/{job}/events");
    assert!(
        newest.contains(&stream),
        "the newest lines follow the running job"
    );
    // Back through the history: 500, then the first 234, then nothing earlier.
    let earlier = pager_link(&newest, "prev").expect("an earlier page");
    let page = user.text(&earlier).await;
    let rows = shown(&page);
    assert_eq!((rows.len(), rows[0].as_str()), (500, "line number 0234"));
    assert!(
        !page.contains(&stream),
        "a page of history is not followed live"
    );
    let page = user.text(&pager_link(&page, "prev").unwrap()).await;
    let rows = shown(&page);
    assert_eq!((rows.len(), rows[0].as_str()), (234, "line number 0000"));
    assert!(pager_link(&page, "prev").is_none());
    // And forwards again.
    let page = user.text(&pager_link(&page, "next").unwrap()).await;
    assert_eq!(shown(&page)[0], "line number 0234");
    app.stop().await;
}

#[tokio::test]
async fn the_pager_and_search_swap_the_list_keep_the_url_and_the_back_button_in_chromium() {
    let (app, user) = seeded(120, 0).await;
    let b = Browser::start().await;
    let base = app.url("");
    b.goto(&format!("{base}/healthz")).await;
    b.post(
        "/cookie",
        serde_json::json!({"cookie": {"name": "panel_session", "value": user.cookie, "path": "/"}}),
    )
    .await;
    b.goto(&format!("{base}/sites")).await;
    b.screenshot("sites-list.png").await;
    let page1 = site_domains(&b.source().await);
    assert_eq!(page1.len(), PAGE);
    // A marker a full page load would wipe: the pager must swap the list in place.
    b.execute("window.panelMarker = 42; return null;").await;
    b.click("a[rel=next]").await;
    b.wait_for("page 2 in place", |url, src| {
        url.contains("after=") && site_domains(src).first() != page1.first()
    })
    .await;
    assert_eq!(
        b.execute("return window.panelMarker;").await,
        42,
        "no full reload"
    );
    let page2 = site_domains(&b.source().await);
    assert_eq!(page2.len(), PAGE);
    assert!(page2[0] > *page1.last().unwrap());
    // Back: the first page and its URL again.
    b.execute("history.back(); return null;").await;
    b.wait_for("page 1 after back", |url, src| {
        url == format!("{base}/sites") && site_domains(src).first() == page1.first()
    })
    .await;
    // Typing searches as one types; the URL carries the search.
    b.type_into("input[name=q]", "site11").await;
    b.wait_for("the search result", |url, src| {
        let rows = site_domains(src);
        url.contains("q=site11") && !rows.is_empty() && rows.iter().all(|d| d.contains("site11"))
    })
    .await;
    b.screenshot("sites-search.png").await;
    // Reloading the URL shows the same list (the state is all in it).
    let url = b.url().await;
    b.goto(&url).await;
    assert_eq!(site_domains(&b.source().await).len(), 11);
    app.stop().await;
}
