//! Start-up and shutdown: open the database, build the web app, listen, and on SIGTERM/Ctrl-C
//! let in-flight requests finish before checkpointing and closing the database.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use poem::listener::{Acceptor, AcceptorExt, BoxAcceptor, Listener, TcpListener};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{Config, TlsSource};
use crate::db;
use crate::state::AppState;
use crate::web;

/// How long in-flight requests get to finish after a shutdown signal.
const GRACE: Duration = Duration::from_secs(10);
/// How long a connection may stay silent (a slow client holding it open).
const IDLE: Duration = Duration::from_secs(300);

/// A panel running in this process (used by `serve` and by the tests).
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Ask for a graceful stop and wait until the database is closed.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.context("server task panicked")?
    }

    /// Wait until the server stops by itself (after a shutdown signal).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        (&mut self.task).await.context("server task panicked")?
    }
}

/// Open the database, bind the listener and serve in a background task.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let pool = db::open(&config.data_dir).await?;
    let secrets = crate::secrets::open_box(&pool, &config.data_dir, config.env_key()).await?;
    if let Err(e) = crate::auth::webauthn(&config) {
        tracing::warn!(
            "passkey login is unavailable ({e}): {}",
            crate::auth::NO_PASSKEYS_HINT
        );
    }
    let (state, stopping) = AppState::new(config.clone(), pool.clone(), secrets);
    // Jobs a crash left running are marked interrupted before anything new starts; so are
    // their deployments, and queued ones are dispatched again.
    state.jobs.recover().await?;
    crate::deployments::recover(&state).await?;
    // The panel's own TLS: files are read now (a bad pair stops the start here); an ACME
    // certificate is restored or obtained in the background, handshakes failing until then.
    let store = match &config.tls {
        Some(TlsSource::Files { cert, key }) => {
            let store = crate::tls::serve::CertStore::new();
            crate::panel_cert::load_files(cert, key, &store)
                .map_err(|e| anyhow::anyhow!("the panel's certificate: {e}"))?;
            Some(store)
        }
        Some(TlsSource::Acme) => Some(crate::tls::serve::CertStore::new()),
        None => None,
    };
    // One acceptor per address (`--listen a,b`), TLS on each when the panel serves HTTPS.
    let mut acceptor: Option<BoxAcceptor> = None;
    let mut addr = None;
    for at in std::iter::once(config.listen).chain(config.also_listen.iter().copied()) {
        let tcp = TcpListener::bind(at)
            .into_acceptor()
            .await
            .with_context(|| format!("listening on {at}"))?;
        let bound = tcp
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("listener has no socket address")?;
        addr.get_or_insert(bound);
        let one: BoxAcceptor = match &store {
            Some(store) => {
                web::tls::TlsAcceptor::new(tcp, crate::tls::serve::server_config(store.clone()))
                    .boxed()
            }
            None => tcp.boxed(),
        };
        acceptor = Some(match acceptor {
            Some(before) => before.combine(one).boxed(),
            None => one,
        });
    }
    let (Some(acceptor), Some(addr)) = (acceptor, addr) else {
        anyhow::bail!("no address to listen on");
    };
    // Beside HTTPS, plain HTTP redirects (and answers the panel's ACME challenges).
    let mut extra: Vec<JoinHandle<()>> = Vec::new();
    if let Some(http) = config.http_listen {
        let plain = TcpListener::bind(http)
            .into_acceptor()
            .await
            .with_context(|| format!("listening on {http}"))?;
        let endpoint = web::tls::plain_http(state.clone());
        extra.push(tokio::spawn(async move {
            // It only redirects and answers challenges: a connection idle for 30 s is dropped.
            if let Err(e) = poem::Server::new_with_acceptor(plain)
                .idle_timeout(Duration::from_secs(30))
                .run(endpoint)
                .await
            {
                tracing::error!("the plain-HTTP listener stopped: {e}");
            }
        }));
    }
    match (&config.tls, &store) {
        (Some(TlsSource::Files { cert, key }), Some(store)) => extra.push(
            crate::panel_cert::watch_files(cert.clone(), key.clone(), store.clone()),
        ),
        (Some(TlsSource::Acme), Some(store)) => {
            extra.push(crate::panel_cert::spawn_acme(state.clone(), store.clone()))
        }
        _ => {}
    }
    let (tx, rx) = oneshot::channel::<()>();
    let app = web::app(state.clone());
    let housekeeper = tokio::spawn(housekeeping(state.clone()));
    // Queued deployments (from the UI, webhooks and the CLI) become jobs.
    let dispatcher = crate::deployments::dispatch::spawn(state.clone());
    // ACME certificates are renewed before they expire; failing ones alert.
    let renewer = crate::certificates::spawn(state.clone());
    // Every active server's audit log is followed for as long as the panel runs.
    let collector = crate::denials::collect::Collector::new(state.clone()).spawn();
    let mailers = crate::denials::alerts::spawn(
        pool.clone(),
        config.smtp.clone(),
        config.url.trim_end_matches('/').to_owned(),
        &state.audit,
    );
    let task = tokio::spawn(async move {
        // A connection with no byte either way for this long is dropped (live pages send a
        // keep-alive every 15 s; the slowest handler waits well under it on a node).
        let served = poem::Server::new_with_acceptor(acceptor)
            .idle_timeout(IDLE)
            .run_with_graceful_shutdown(
                app,
                async move {
                    let _ = rx.await;
                    let _ = stopping.send(true);
                },
                Some(GRACE),
            )
            .await;
        // Stop every background task and wait until each is really gone: one still between two
        // statements would write after the final checkpoint and leave a WAL behind.
        let tasks = [collector, dispatcher, renewer, housekeeper]
            .into_iter()
            .chain(extra)
            .chain(mailers);
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
        db::close(&pool).await;
        tracing::info!("panel stopped; database closed");
        served.context("HTTP server failed")
    });
    Ok(Running {
        addr,
        state,
        shutdown: Some(tx),
        task,
    })
}

/// Once an hour (and at start), `housekeep_once`.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        if state.db.is_closed() {
            return;
        }
        housekeep_once(&state).await;
    }
}

/// Expired sessions go, old webhook deliveries go, and history past `[retention] days` goes —
/// finished jobs with their logs (a site's last job stays), server log lines, SELinux records —
/// so the database stays bounded whatever the nodes and tenants send.
pub async fn housekeep_once(state: &AppState) {
    let pool = &state.db;
    match db::sessions::purge_expired(pool, &crate::auth::before(crate::auth::SESSION_IDLE)).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("removed {n} expired session(s)"),
        Err(e) => tracing::warn!("purging expired sessions failed: {e}"),
    }
    // Webhook deliveries are remembered 90 days: GitHub's carry no timestamp, so their id is
    // what refuses a replay (and a replay could only redeploy the branch's tip).
    let kept = crate::auth::before(Duration::from_secs(90 * 24 * 3600));
    if let Err(e) = db::deployments::purge_deliveries(pool, &kept).await {
        tracing::warn!("purging old webhook deliveries failed: {e}");
    }
    let days = u64::from(state.config.retention.days);
    let before = crate::auth::before(Duration::from_secs(days * 24 * 3600));
    let pruned = [
        ("SELinux records", db::selinux::prune(pool, &before).await),
        (
            "server log lines",
            db::servers::prune_logs(pool, &before).await,
        ),
        ("finished jobs", db::jobs::prune(pool, &before).await),
    ];
    let audit_days = u64::from(state.config.retention.audit_log_days);
    let audit_before = crate::auth::before(Duration::from_secs(audit_days * 24 * 3600));
    match db::audit::prune(pool, &audit_before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("removed {n} audit log rows older than {audit_days} days"),
        Err(e) => tracing::warn!("removing old audit log rows failed: {e}"),
    }
    for (what, result) in pruned {
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!("removed {n} {what} older than {days} days"),
            Err(e) => tracing::warn!("removing old {what} failed: {e}"),
        }
    }
}

/// `panel serve`: run until SIGTERM or Ctrl-C.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    // Listen for signals before anything can announce readiness: a SIGTERM that arrives early
    // must still mean "shut down cleanly", not the default "die at once".
    let signal = shutdown_signal();
    let running = start(config.clone()).await?;
    tracing::info!(
        "panel listening on {}://{} (public URL {}, data in {})",
        if config.tls.is_some() {
            "https"
        } else {
            "http"
        },
        running.addr,
        config.url,
        config.data_dir.display()
    );
    // No user yet: print a one-time link to create the first one, on the terminal only: the
    // log goes to whoever can read it later, and the link makes its holder the first admin.
    // There is no other way to register.
    if let Some(link) = crate::auth::first_run_link(&running.state.db, &config).await? {
        println!(
            "\nNo users yet. Open this one-time link within 30 minutes to create the first user and their passkey:\n\n    {link}\n"
        );
        tracing::info!("no users yet: the first-run enrolment link is on the terminal (stdout)");
    }
    let signal = signal.await;
    tracing::info!("{signal} received: finishing in-flight requests");
    running.stop().await
}

/// Register for SIGTERM and Ctrl-C now (so an early signal is never lost); the returned future
/// completes with the name of the first one received.
fn shutdown_signal() -> impl std::future::Future<Output = &'static str> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        if let Some(mut term) = term {
            return tokio::select! {
                _ = ctrl_c => "Ctrl-C",
                _ = term.recv() => "SIGTERM",
            };
        }
        ctrl_c.await;
        "Ctrl-C"
    }
}
