//! The panel's HTTPS listener (rustls over TCP, each handshake done lazily on the connection's
//! own task so a slow client never holds up the accept loop) and the plain-HTTP listener beside
//! it, which redirects to the public URL and answers ACME HTTP-01 challenges.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use poem::http::StatusCode;
use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, IntoResponse, Request, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use crate::state::AppState;

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE: Duration = Duration::from_secs(10);

pub struct TlsAcceptor {
    tcp: TcpAcceptor,
    tls: tokio_rustls::TlsAcceptor,
}

impl TlsAcceptor {
    pub fn new(tcp: TcpAcceptor, config: Arc<rustls::ServerConfig>) -> Self {
        TlsAcceptor {
            tcp,
            tls: tokio_rustls::TlsAcceptor::from(config),
        }
    }
}

impl Acceptor for TlsAcceptor {
    type Io = Lazy;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.tcp.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Lazy, LocalAddr, RemoteAddr, Scheme)> {
        let (stream, local, remote, _) = self.tcp.accept().await?;
        let tls = self.tls.clone();
        let handshake = async move {
            tokio::time::timeout(HANDSHAKE, tls.accept(stream))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?
        };
        Ok((Lazy::new(handshake), local, remote, Scheme::HTTPS))
    }
}

enum State {
    Handshaking(BoxFuture<'static, io::Result<TlsStream<TcpStream>>>),
    Ready(Box<TlsStream<TcpStream>>),
    Failed,
}

/// A TLS connection whose handshake runs when it is first read or written.
pub struct Lazy {
    state: State,
}

impl Lazy {
    fn new(
        handshake: impl Future<Output = io::Result<TlsStream<TcpStream>>> + Send + 'static,
    ) -> Self {
        Lazy {
            state: State::Handshaking(handshake.boxed()),
        }
    }

    /// Drive the handshake; the stream once it is done.
    fn ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&mut TlsStream<TcpStream>>> {
        if let State::Handshaking(fut) = &mut self.state {
            match fut.poll_unpin(cx) {
                Poll::Ready(Ok(s)) => self.state = State::Ready(Box::new(s)),
                Poll::Ready(Err(e)) => {
                    self.state = State::Failed;
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        match &mut self.state {
            State::Ready(s) => Poll::Ready(Ok(s)),
            _ => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the TLS handshake failed",
            ))),
        }
    }
}

impl AsyncRead for Lazy {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.ready(cx) {
            Poll::Ready(Ok(s)) => Pin::new(s).poll_read(cx, buf),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Lazy {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.ready(cx) {
            Poll::Ready(Ok(s)) => Pin::new(s).poll_write(cx, buf),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.ready(cx) {
            Poll::Ready(Ok(s)) => Pin::new(s).poll_flush(cx),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.ready(cx) {
            Poll::Ready(Ok(s)) => Pin::new(s).poll_shutdown(cx),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The plain-HTTP listener: ACME HTTP-01 answers for the panel's own certificate, and a
/// permanent redirect to the public URL (never to the request's Host: a redirect must not
/// send anyone elsewhere) for everything else.
pub fn plain_http(state: AppState) -> impl Endpoint<Output = Response> {
    poem::endpoint::make(move |req: Request| {
        let state = state.clone();
        async move {
            let path = req.uri().path();
            if let Some(token) = path.strip_prefix("/.well-known/acme-challenge/") {
                let answer = state
                    .acme_challenges
                    .lock()
                    .expect("not poisoned")
                    .get(token)
                    .cloned();
                return match answer {
                    Some(key_authorization) => key_authorization
                        .with_content_type("text/plain")
                        .into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                };
            }
            let target = format!(
                "{}{}",
                state.config.url.trim_end_matches('/'),
                req.uri()
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/")
            );
            Response::builder()
                .status(StatusCode::MOVED_PERMANENTLY)
                .header("Location", target)
                .finish()
        }
    })
}
