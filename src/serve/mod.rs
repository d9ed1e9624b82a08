//! The labeling web UI (`stackmine label serve`): annotators label a batch's
//! posts in the browser, and an adjudicator settles their disagreements.
//!
//! Security: every request must name this server in its Host header (one of
//! the loopback names with the bound port, or a `--allow-host` name), so a
//! DNS-rebinding page cannot reach it; post bodies are untrusted HTML and are
//! sanitized (ammonia); every response carries a Content-Security-Policy that
//! forbids inline script (the page's script is a file); the server binds to
//! loopback unless `--public`; state-changing requests must carry an Origin
//! whose host is allowed; bad input gets a 4xx, and a request that asked for
//! JSON always gets JSON. Every change is written to the store at once in its
//! own transaction, with history, so killing the server loses nothing saved;
//! a save that finds the store locked (a long ingest) is retried for
//! [`SAVE_WINDOW`], then answered `503` with `Retry-After`. Connections are
//! bounded in number and closed when idle (see `conn`).

mod conn;
mod hosts;
mod pages;
mod thread;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use hosts::{AllowHost, Hosts};

use crate::store::{Store, StoreError};
use crate::study::Study;

/// The policy sent with every response: no inline script, nothing from
/// elsewhere but images (posts show screenshots hosted on https).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' https: data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'";

/// How long a save keeps trying while another process (an ingest) holds the
/// store's write lock, before it is answered `503` with `Retry-After`.
pub const SAVE_WINDOW: Duration = Duration::from_secs(5);

/// The `Retry-After` of a 503, in seconds.
pub const RETRY_AFTER_SECS: u32 = 1;

/// The largest request body accepted (a label form is a few KiB at most).
pub const MAX_BODY: usize = 64 * 1024;

/// How long one write attempt waits for the lock inside SQLite; the retry
/// loop around it checks the deadline and lets other saves take turns.
const BUSY_STEP: Duration = Duration::from_millis(100);

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot set up the store's connections")]
    Store(#[source] StoreError),
}

/// What every handler shares.
pub struct AppState {
    /// Pages read through their own connection: in WAL mode reads never wait
    /// for a writer, so pages load during an ingest.
    reader: Mutex<Store>,
    /// Saves go through this one, with a short busy timeout and a retry loop.
    writer: Mutex<Store>,
    study: Study,
}

/// Why a write did not happen.
pub(crate) enum WriteError {
    /// The store stayed locked for the whole [`SAVE_WINDOW`].
    Busy,
    Store(StoreError),
}

impl AppState {
    /// The reading store; a handler that panicked cannot leave it
    /// half-written (each write is a transaction), so a poisoned lock is
    /// still usable.
    fn store(&self) -> MutexGuard<'_, Store> {
        self.reader.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one write transaction (`write` must be one transaction: retried
    /// whole), retrying while the store is locked, for at most
    /// [`SAVE_WINDOW`]. `Ok` means committed.
    pub(crate) fn write<T>(
        &self,
        mut write: impl FnMut(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, WriteError> {
        let deadline = Instant::now() + SAVE_WINDOW;
        loop {
            let guard = match self.writer.try_lock() {
                Ok(g) => Some(g),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            };
            if let Some(mut store) = guard {
                match write(&mut store) {
                    Ok(v) => return Ok(v),
                    Err(e) if is_busy(&e) => {}
                    Err(e) => return Err(WriteError::Store(e)),
                }
            }
            if Instant::now() >= deadline {
                return Err(WriteError::Busy);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Whether an error is SQLite's "database is locked/busy".
pub(crate) fn is_busy(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        // A transparent wrapper forwards its inner error's source, not the
        // inner error itself: look through the ones that carry a store.
        let store = err.downcast_ref::<StoreError>().or_else(|| {
            match err.downcast_ref::<crate::label::LabelError>() {
                Some(crate::label::LabelError::Store(e)) => Some(e),
                _ => None,
            }
        });
        if store.is_some_and(StoreError::is_busy) {
            return true;
        }
        if let Some(sql) = err.downcast_ref::<rusqlite::Error>()
            && matches!(
                sql.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            )
        {
            return true;
        }
        cur = err.source();
    }
    false
}

type Shared = Arc<AppState>;

/// The routes of the UI, answering only to `hosts`. `reader` and `writer`
/// are two connections to the same store.
pub fn router(
    reader: Store,
    writer: Store,
    study: Study,
    hosts: Hosts,
) -> Result<Router, ServeError> {
    writer
        .set_busy_timeout(BUSY_STEP)
        .map_err(ServeError::Store)?;
    // Reads in WAL mode seldom wait; when they do, no longer than a save.
    reader
        .set_busy_timeout(SAVE_WINDOW)
        .map_err(ServeError::Store)?;
    let state: Shared = Arc::new(AppState {
        reader: Mutex::new(reader),
        writer: Mutex::new(writer),
        study,
    });
    let hosts = Arc::new(hosts);
    let origin_hosts = hosts.clone();
    Ok(Router::new()
        .route("/", get(pages::index))
        .route("/start", get(pages::start))
        .route(
            "/label/{batch}",
            get(pages::label_page).post(pages::save_label),
        )
        .route(
            "/adjudicate/{set}",
            get(pages::adjudicate_page).post(pages::save_final),
        )
        .route("/static/app.js", get(pages::script))
        .route("/static/app.css", get(pages::style))
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(move |req, next| {
            same_origin(origin_hosts.clone(), req, next)
        }))
        .layer(middleware::from_fn(move |req, next| {
            host_check(hosts.clone(), req, next)
        }))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(security_headers))
        .with_state(state))
}

/// How `label serve` listens.
pub struct Options {
    /// 0: any free port.
    pub port: u16,
    /// Listen on all interfaces, not loopback only.
    pub public: bool,
    /// More Host names to answer to (only with `public`).
    pub allow_hosts: Vec<AllowHost>,
}

/// Serves until Ctrl-C. Prints the address on stdout once listening.
/// `reader` and `writer` are two connections to the study's store.
pub fn run(reader: Store, writer: Store, study: Study, opts: Options) -> Result<(), ServeError> {
    let ip = if opts.public {
        [0, 0, 0, 0]
    } else {
        [127, 0, 0, 1]
    };
    let addr = SocketAddr::from((ip, opts.port));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let local = listener.local_addr()?;
        let allow = if opts.public {
            opts.allow_hosts
        } else {
            Vec::new()
        };
        let hosts = Hosts::new(local.port(), &allow);
        if opts.public {
            eprintln!(
                "warning: listening on all interfaces (--public): anyone who can reach port {} can read and change labels",
                local.port()
            );
            eprintln!("answering to Host {}", hosts.describe());
        }
        println!("listening on http://127.0.0.1:{}/", local.port());
        use std::io::Write;
        std::io::stdout().flush()?;
        axum::serve(
            conn::Bounded::new(listener),
            router(reader, writer, study, hosts)?,
        )
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(())
    })
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not "no-referrer": with it, Chromium sends `Origin: null` on form posts,
    // which the Origin check would refuse. External links carry rel=noreferrer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// The message of an error response, for [`json_errors`].
#[derive(Clone)]
pub(crate) struct ErrorMessage(pub String);

/// A short plain-text error (not a page), carrying its message for JSON.
pub(crate) fn plain_error(status: StatusCode, message: &str) -> Response {
    let mut res = (status, format!("{message}\n")).into_response();
    res.extensions_mut()
        .insert(ErrorMessage(message.to_string()));
    res
}

/// Whether a request asked for JSON (the page's script does).
pub(crate) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/json"))
}

/// Every error answer to a request that asked for JSON is JSON,
/// `{"error": "..."}`, whichever layer made it (an HTML error page, a plain
/// refusal, axum's own rejections); status and headers such as `Retry-After`
/// are kept.
async fn json_errors(req: Request, next: Next) -> Response {
    let json = wants_json(req.headers());
    let res = next.run(req).await;
    let status = res.status();
    if !json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res;
    }
    let message = res
        .extensions()
        .get::<ErrorMessage>()
        .map(|m| m.0.clone())
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("request refused")
                .to_lowercase()
        });
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::json!({ "error": message }).to_string();
    Response::from_parts(parts, Body::from(body))
}

/// Refuses, before any handler runs, a request whose Host (and request
/// target's authority, if absolute) is not one this server answers to: the
/// defence against DNS rebinding, on every method.
async fn host_check(hosts: Arc<Hosts>, req: Request, next: Next) -> Response {
    // Several Host headers (in any order, even all the same) make the request
    // malformed: 400, as RFC 9112 section 3.2 asks.
    let mut all = req.headers().get_all(header::HOST).iter();
    let first = all.next();
    if all.next().is_some() {
        return plain_error(
            StatusCode::BAD_REQUEST,
            "bad request: the request has more than one Host header",
        );
    }
    let ok = first.is_some_and(|host| host.to_str().is_ok_and(|h| hosts.allows_host(h)))
        && req
            .uri()
            .authority()
            .is_none_or(|a| hosts.allows_host(a.as_str()));
    if !ok {
        return plain_error(
            StatusCode::MISDIRECTED_REQUEST,
            "misdirected request: this server answers only to its own host names (see --allow-host)",
        );
    }
    // A body announced as too large is refused before it is read (the
    // handlers' limit only applies while reading).
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY as u64) {
        return plain_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the request body is larger than {} KiB", MAX_BODY / 1024),
        );
    }
    next.run(req).await
}

/// Whether a request has exactly one Origin, and its host is allowed.
fn origin_ok(hosts: &Hosts, headers: &HeaderMap) -> bool {
    let mut all = headers.get_all(header::ORIGIN).iter();
    match (all.next(), all.next()) {
        (Some(origin), None) => origin.to_str().is_ok_and(|o| hosts.allows_origin(o)),
        _ => false,
    }
}

/// Refuses state-changing requests that do not come from the UI itself.
async fn same_origin(hosts: Arc<Hosts>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !origin_ok(&hosts, req.headers()) {
        return plain_error(
            StatusCode::FORBIDDEN,
            "cross-origin or Origin-less request refused",
        );
    }
    next.run(req).await
}

/// Sanitizes a post body: no script, no event handlers, no `javascript:`
/// links, no styles; links open without the referrer.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(html)
        .to_string()
}

/// Whether `url` may be a link's target: `http://` or `https://` (any case)
/// then a host, and no whitespace or control character anywhere. A site URL
/// from an old store may be anything (`javascript:...`); the UI then shows
/// no link.
pub fn is_web_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let Some(rest) = rest else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty()
        && !host.starts_with(['@', ':'])
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_makes_payloads_inert() {
        let dirty = r#"<p>hi</p><script>alert(1)</script><img src="x" onerror="alert(2)"><a href="javascript:alert(3)">x</a><pre><code>a &lt; b</code></pre>"#;
        let clean = sanitize(dirty);
        assert!(!clean.contains("<script"), "{clean}");
        assert!(!clean.contains("onerror"), "{clean}");
        assert!(!clean.contains("javascript:"), "{clean}");
        assert!(
            clean.contains("<pre><code>a &lt; b</code></pre>"),
            "{clean}"
        );
    }

    #[test]
    fn origin_must_be_an_allowed_host() {
        let hosts = Hosts::new(8765, &[]);
        let mut h = HeaderMap::new();
        assert!(!origin_ok(&hosts, &h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8765"),
        );
        assert!(origin_ok(&hosts, &h));
        h.append(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8765"),
        );
        assert!(!origin_ok(&hosts, &h), "two Origins");
        for bad in [
            "http://evil.example",
            "http://rebind.evil.example:8765",
            "null",
            "http://127.0.0.1:8766",
            "ftp://127.0.0.1:8765",
            "http://127.0.0.1:8765/",
        ] {
            h.insert(header::ORIGIN, HeaderValue::from_static(bad));
            assert!(!origin_ok(&hosts, &h), "{bad}");
        }
    }

    #[test]
    fn only_web_urls_are_links() {
        for good in [
            "https://stackoverflow.com",
            "http://ai.stackexchange.com/",
            "HTTPS://Example.com/x",
        ] {
            assert!(is_web_url(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)//",
            "JavaScript:alert(1)",
            " https://x.example",
            "https://",
            "https:///x",
            "https://a b.example",
            "data:text/html,<b>x</b>",
            "//evil.example",
            "https://x.example/\"onmouseover=alert(1)",
            "https://x.example\n",
            "vbscript:x",
            "",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }
}
