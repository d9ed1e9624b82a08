//! Connections with bounds: at most [`MAX_CONNECTIONS`] at once, and each
//! closed after [`IDLE`] without a byte moving either way, so a client that
//! opens connections and sends nothing (or stops reading) cannot hold the
//! server's resources for ever. (axum's `serve` sets no header-read timeout.)

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// Connections served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 256;

/// A connection on which nothing moves for this long is closed.
pub const IDLE: Duration = Duration::from_secs(10);

/// A listener that bounds its connections.
pub struct Bounded {
    inner: TcpListener,
    open: Arc<AtomicUsize>,
}

impl Bounded {
    pub fn new(inner: TcpListener) -> Bounded {
        Bounded {
            inner,
            open: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl axum::serve::Listener for Bounded {
    type Io = Timed;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Timed, SocketAddr) {
        loop {
            if self.open.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    self.open.fetch_add(1, Ordering::SeqCst);
                    let _ = stream.set_nodelay(true);
                    return (Timed::new(stream, self.open.clone()), addr);
                }
                // Out of file descriptors and the like: wait, then go on.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A stream that fails with `TimedOut` once nothing has moved for [`IDLE`]
/// while it waits to read or write.
pub struct Timed {
    stream: TcpStream,
    idle: Pin<Box<Sleep>>,
    open: Arc<AtomicUsize>,
}

impl Timed {
    fn new(stream: TcpStream, open: Arc<AtomicUsize>) -> Timed {
        Timed {
            stream,
            idle: Box::pin(tokio::time::sleep(IDLE)),
            open,
        }
    }

    fn moved(&mut self) {
        self.idle.as_mut().reset(Instant::now() + IDLE);
    }

    /// After the stream said Pending: an error if the idle time is up.
    fn check_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        match self.idle.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle for too long",
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Timed {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl AsyncRead for Timed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.moved();
                Poll::Ready(r)
            }
            Poll::Pending => this.check_idle(cx).map(Err),
        }
    }
}

impl AsyncWrite for Timed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Ready(r) => {
                this.moved();
                Poll::Ready(r)
            }
            Poll::Pending => this.check_idle(cx).map(Err),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_flush(cx) {
            Poll::Ready(r) => Poll::Ready(r),
            Poll::Pending => this.check_idle(cx).map(Err),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                this.moved();
                Poll::Ready(r)
            }
            Poll::Pending => this.check_idle(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
