//! The web console at `/`: the incident list (live, server-sent events), an incident page with
//! Approve / Reject for signed-in approvers, an Ask box, and the effective configuration with secrets
//! redacted. Server-rendered HTML; the CSS and the little JavaScript are served by Mimi itself.
//!
//! Security: every page needs a session (`session.rs`: argon2 passwords or a trusted proxy header
//! from a listed proxy address); every form carries the session's CSRF token; a POST whose
//! `Origin` is another site is refused; responses forbid framing and any script not served here
//! (CSP). Approvals go through `engine::decide_proposal` as `web:<user>`, so whether a user may
//! approve is `[[policy.approvers]]`'s call, exactly as for chat and the API.

mod auth;
mod handlers;
pub mod html;
pub mod pages;
pub mod session;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

pub use session::{Sessions, hash_password};

use super::AppState;

/// The pages (under the server's request timeout).
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(handlers::index))
        .route("/login", get(handlers::login_form).post(handlers::login))
        .route("/logout", post(handlers::logout))
        .route("/incident/{id}", get(handlers::incident))
        .route("/incident/{id}/proposals/{pid}/{choice}", post(handlers::decide))
        .route("/question", get(handlers::ask_form).post(handlers::ask))
        .route("/settings", get(handlers::settings))
        .route("/static/console.css", get(handlers::css))
        .route("/static/console.js", get(handlers::js))
        .route_layer(middleware::from_fn_with_state(state, auth::refuse_cross_site))
        .layer(middleware::from_fn(security_headers))
}

/// The live updates stream (`/live`), which must outlast the request timeout.
pub fn live_router() -> Router<AppState> {
    Router::new().route("/live", get(handlers::live)).layer(middleware::from_fn(security_headers))
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    res
}
