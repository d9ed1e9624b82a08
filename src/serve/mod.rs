//! The labeling web UI (`stackmine label serve`): annotators label a batch's
//! posts in the browser, and an adjudicator settles their disagreements.
//!
//! Security: post bodies are untrusted HTML and are sanitized (ammonia); every
//! response carries a Content-Security-Policy that forbids inline script (the
//! page's script is a file); the server binds to loopback unless `--public`;
//! state-changing requests must come from the server's own origin; bad input
//! gets a 4xx. Every change is written to the store at once in its own
//! transaction, with history, so killing the server loses nothing saved.

mod pages;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::store::Store;
use crate::study::Study;

/// The policy sent with every response: no inline script, nothing from
/// elsewhere but images (posts show screenshots hosted on https).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' https: data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'";

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
}

/// What every handler shares.
pub struct AppState {
    store: Mutex<Store>,
    study: Study,
}

impl AppState {
    /// The store; a handler that panicked cannot leave it half-written (each
    /// write is a transaction), so a poisoned lock is still usable.
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type Shared = Arc<AppState>;

/// The routes of the UI.
pub fn router(store: Store, study: Study) -> Router {
    let state: Shared = Arc::new(AppState {
        store: Mutex::new(store),
        study,
    });
    Router::new()
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
        .layer(middleware::from_fn(same_origin))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Serves until Ctrl-C. Prints the address on stdout once listening.
pub fn run(store: Store, study: Study, port: u16, public: bool) -> Result<(), ServeError> {
    let ip = if public { [0, 0, 0, 0] } else { [127, 0, 0, 1] };
    let addr = SocketAddr::from((ip, port));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let local = listener.local_addr()?;
        if public {
            eprintln!(
                "warning: listening on all interfaces (--public): anyone who can reach port {} can read and change labels",
                local.port()
            );
        }
        println!("listening on http://127.0.0.1:{}/", local.port());
        use std::io::Write;
        std::io::stdout().flush()?;
        axum::serve(listener, router(store, study))
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

/// Whether a request's Origin is this server's own (`http://` + its Host).
fn origin_ok(headers: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST))
    else {
        return false;
    };
    match (origin.to_str(), host.to_str()) {
        (Ok(origin), Ok(host)) => origin == format!("http://{host}"),
        _ => false,
    }
}

/// Refuses state-changing requests that do not come from the UI itself.
async fn same_origin(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !origin_ok(req.headers()) {
        return (
            StatusCode::FORBIDDEN,
            "cross-origin or Origin-less request refused\n",
        )
            .into_response();
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
    fn origin_must_match_host() {
        let mut h = HeaderMap::new();
        assert!(!origin_ok(&h));
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8765"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8765"),
        );
        assert!(origin_ok(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!origin_ok(&h));
    }
}
