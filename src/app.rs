//! Start-up and shutdown: open the database, build the web app, listen, and on SIGTERM/Ctrl-C
//! let in-flight requests finish before checkpointing and closing the database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::listener::{Acceptor, Listener, TcpListener};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::db;
use crate::web::{self, AppState};

/// How long in-flight requests get to finish after a shutdown signal.
const GRACE: Duration = Duration::from_secs(10);

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
    let state = AppState {
        db: pool.clone(),
        config: Arc::new(config.clone()),
        secrets: Arc::new(secrets),
    };
    let acceptor = TcpListener::bind(config.listen)
        .into_acceptor()
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .context("listener has no socket address")?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = web::app(state.clone());
    let task = tokio::spawn(async move {
        let served = poem::Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                app,
                async move {
                    let _ = rx.await;
                },
                Some(GRACE),
            )
            .await;
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

/// `panel serve`: run until SIGTERM or Ctrl-C.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let running = start(config.clone()).await?;
    tracing::info!(
        "panel listening on http://{} (public URL {}, data in {})",
        running.addr,
        config.url,
        config.data_dir.display()
    );
    let signal = shutdown_signal().await;
    tracing::info!("{signal} received: finishing in-flight requests");
    running.stop().await
}

async fn shutdown_signal() -> &'static str {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    ctrl_c.await;
                    return "Ctrl-C";
                }
            };
        tokio::select! {
            _ = ctrl_c => "Ctrl-C",
            _ = term.recv() => "SIGTERM",
        }
    }
    #[cfg(not(unix))]
    {
        ctrl_c.await;
        "Ctrl-C"
    }
}
