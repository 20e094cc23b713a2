//! Who is using the console: a session cookie, or a trusted proxy's user header; and the refusal of
//! cross-site form posts.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::session::{self, COOKIE, Session};
use crate::http::AppState;
use crate::strings::console as s;

/// A signed-in user. `set_cookie` is a session just created for a proxy-authenticated user, to be
/// sent with the response.
pub struct Signed {
    pub session: Session,
    pub token: String,
    pub set_cookie: Option<String>,
}

impl Signed {
    pub fn respond(self, res: impl IntoResponse) -> Response {
        let mut res = res.into_response();
        if let Some(c) = self.set_cookie
            && let Ok(v) = c.parse()
        {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
        res
    }
}

pub fn secure(state: &AppState) -> bool {
    state.settings.server.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
}

pub fn session_cookie(state: &AppState, token: &str) -> String {
    session::set_cookie(COOKIE, token, Duration::from_secs(state.settings.console.session_hours * 3600), secure(state))
}

/// Not signed in: answered with a redirect to the sign-in page.
pub struct ToLogin;

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to("/login").into_response()
    }
}

/// A form without the session's CSRF token.
pub struct CsrfRefused;

impl IntoResponse for CsrfRefused {
    fn into_response(self) -> Response {
        forbidden(s::CSRF)
    }
}

/// The signed-in user, or a redirect to the sign-in page.
pub fn signed_in(state: &AppState, parts: &Parts) -> Result<Signed, ToLogin> {
    let cookie = session::cookie(&parts.headers, COOKIE);
    let from_cookie = cookie.and_then(|t| state.console.get(t).map(|s| (t.to_string(), s)));
    if let Some(user) = proxy_user(state, parts) {
        return Ok(match from_cookie {
            Some((token, session)) if session.user == user => Signed { session, token, set_cookie: None },
            _ => {
                let (token, session) = state.console.create(&user);
                let set_cookie = Some(session_cookie(state, &token));
                Signed { session, token, set_cookie }
            }
        });
    }
    match from_cookie {
        Some((token, session)) => Ok(Signed { session, token, set_cookie: None }),
        None => Err(ToLogin),
    }
}

/// The user a trusted reverse proxy vouches for, when the request comes from one of
/// `console.trusted_proxies` and carries `console.trusted_header`.
fn proxy_user(state: &AppState, parts: &Parts) -> Option<String> {
    let c = &state.settings.console;
    let header = c.trusted_header.as_deref()?;
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    if !c.trusted_proxies.contains(&peer) {
        return None;
    }
    let user = parts.headers.get(header)?.to_str().ok()?.trim();
    crate::config::valid_console_name(user).then(|| user.to_string())
}

/// A form's CSRF token must be the session's.
pub fn check_csrf(signed: &Signed, submitted: &str) -> Result<(), CsrfRefused> {
    if session::same_token(submitted, &signed.session.csrf) { Ok(()) } else { Err(CsrfRefused) }
}

pub fn forbidden(text: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        axum::response::Html(super::html::page(text, None, false, &super::html::notice("error", text))),
    )
        .into_response()
}

/// Refuses state-changing requests sent by another site (`Origin` or `Sec-Fetch-Site` says so).
pub async fn refuse_cross_site(State(_state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD && cross_site(req.headers()) {
        return forbidden(s::CROSS_ORIGIN);
    }
    next.run(req).await
}

/// Browsers say where a request comes from in `Sec-Fetch-Site`; older ones only in `Origin`.
fn cross_site(h: &HeaderMap) -> bool {
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return false };
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    origin == "null" || !origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn other_origins_are_cross_site_and_the_same_one_is_not() {
        assert!(!cross_site(&headers(&[("host", "mimi:8080"), ("origin", "http://mimi:8080")])));
        assert!(cross_site(&headers(&[("host", "mimi:8080"), ("origin", "http://evil.example")])));
        assert!(cross_site(&headers(&[("host", "mimi:8080"), ("origin", "null")])));
        assert!(cross_site(&headers(&[("host", "mimi:8080"), ("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&headers(&[("host", "mimi:8080"), ("sec-fetch-site", "same-site")])));
        assert!(!cross_site(&headers(&[("host", "mimi:8080"), ("origin", "null"), ("sec-fetch-site", "same-origin")])));
        assert!(!cross_site(&headers(&[("host", "mimi:8080")])));
    }
}
