//! Accepting connections, with the limits that keep one client from taking the server down:
//! a cap on connections in all and per client address, a deadline for a request's headers
//! (which also closes keep-alive connections left idle), and one for its body. A client
//! holding thousands of half-sent requests exhausts its own address's share, and each of them
//! is dropped when its deadline passes; other clients are served meanwhile.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustc_hash::FxHashMap;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// The client's address, set on every request by the connection loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Connection limits and deadlines.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections in all; past it, new ones wait to be accepted.
    pub max_connections: usize,
    /// Open connections from one address; past it, new ones are closed at once.
    pub max_connections_per_address: usize,
    /// Time to send a request's headers, counted from when the server is ready to read
    /// them: a half-sent request, or a keep-alive connection idle this long, is closed.
    pub header_read_timeout: Duration,
    /// Time to send a request's body once its headers are in.
    pub body_read_timeout: Duration,
    /// How long in-flight requests may take to finish after shutdown begins.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 10_000,
            max_connections_per_address: 256,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// One address's open connections; the count drops when the guard does.
struct AddressSlot {
    counts: Arc<Mutex<FxHashMap<IpAddr, usize>>>,
    address: IpAddr,
}

impl AddressSlot {
    fn take(
        counts: &Arc<Mutex<FxHashMap<IpAddr, usize>>>,
        address: IpAddr,
        limit: usize,
    ) -> Option<AddressSlot> {
        let mut map = counts.lock().ok()?;
        let count = map.entry(address).or_insert(0);
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            counts: Arc::clone(counts),
            address,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.counts.lock() {
            if let Some(count) = map.get_mut(&self.address) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    map.remove(&self.address);
                }
            }
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves; then stops
/// accepting, lets requests in flight finish (up to `shutdown_grace`) and returns.
pub async fn serve_app(
    app: Router,
    listener: TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.body_read_timeout,
    ));
    let total = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(Mutex::new(FxHashMap::default()));
    let (stopping, stop) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&total).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: pause rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) =
            AddressSlot::take(&per_address, peer.ip(), limits.max_connections_per_address)
        else {
            tracing::debug!(%peer, "too many connections from this address; closed");
            continue;
        };
        connections.spawn(connection(
            app.clone(),
            stream,
            peer,
            limits,
            (permit, slot),
            stop.clone(),
        ));
        // Reap finished connections so the set does not grow with every one ever made.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stopping.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("requests still in flight after the shutdown grace period; dropped");
    }
    Ok(())
}

/// Serves one connection until it closes, or until shutdown (then the request in flight,
/// if any, finishes first).
async fn connection(
    app: Router,
    stream: TcpStream,
    peer: SocketAddr,
    limits: Limits,
    _held: (OwnedSemaphorePermit, AddressSlot),
    mut stop: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ClientAddr(peer.ip()));
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        app.clone().oneshot(request)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let stopping = async move {
        // The guard `wait_for` returns is not `Send`: drop it before the next await.
        let _ = stop.wait_for(|stopping| *stopping).await.is_ok();
    };
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        () = stopping => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
