//! The console's request handlers: read the session, call the store / engine / question engine,
//! render a page.

use std::convert::Infallible;
use std::time::Duration;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use futures::Stream;
use serde::Deserialize;

use super::auth::{self, Signed, check_csrf, signed_in};
use super::html::{CSS, JS, Viewer};
use super::pages;
use super::session::{self, LOGIN_COOKIE};
use crate::domain::approval::Choice;
use crate::domain::approver::{Approver, ApproverId, Origin};
use crate::engine::{DecideError, Decided, decide_proposal};
use crate::http::AppState;
use crate::qa::{Asker, Scope};
use crate::store::IncidentFilter;
use crate::strings::console as s;

fn viewer(signed: &Signed) -> Viewer<'_> {
    Viewer { user: &signed.session.user, csrf: &signed.session.csrf }
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, crate::strings::http::INTERNAL).into_response()
}

pub async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], CSS).into_response()
}

pub async fn js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], JS)
        .into_response()
}

pub async fn login_form(State(state): State<AppState>, parts: Parts) -> Response {
    if signed_in(&state, &parts).is_ok() {
        return Redirect::to("/").into_response();
    }
    login_page(&state, None, StatusCode::OK)
}

fn login_page(state: &AppState, error: Option<&str>, status: StatusCode) -> Response {
    let token = session::random_token();
    let cookie = session::set_cookie(LOGIN_COOKIE, &token, Duration::from_secs(3600), auth::secure(state));
    let html = pages::login(error, &token, state.settings.console.sign_in_possible());
    (status, [(header::SET_COOKIE, cookie)], Html(html)).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    user: String,
    password: String,
    csrf: String,
}

pub async fn login(State(state): State<AppState>, parts: Parts, Form(f): Form<LoginForm>) -> Response {
    let expected = session::cookie(&parts.headers, LOGIN_COOKIE).unwrap_or("");
    if !session::same_token(&f.csrf, expected) {
        return login_page(&state, Some(s::CSRF), StatusCode::FORBIDDEN);
    }
    if f.user.len() > 64 || f.password.len() > 1024 || !state.console.check_password(&f.user, &f.password).await {
        tracing::info!(user = %f.user.chars().take(64).collect::<String>(), "console sign-in refused");
        return login_page(&state, Some(s::BAD_LOGIN), StatusCode::UNAUTHORIZED);
    }
    let (token, _) = state.console.create(&f.user);
    tracing::info!(user = %f.user, "console sign-in");
    let clear = session::set_cookie(LOGIN_COOKIE, "", Duration::ZERO, auth::secure(&state));
    let mut res = Redirect::to("/").into_response();
    for c in [auth::session_cookie(&state, &token), clear] {
        res.headers_mut().append(header::SET_COOKIE, c.parse().expect("cookie header"));
    }
    res
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(State(state): State<AppState>, parts: Parts, Form(f): Form<CsrfForm>) -> Response {
    let signed = match signed_in(&state, &parts) {
        Ok(s) => s,
        Err(redirect) => return redirect.into_response(),
    };
    if let Err(r) = check_csrf(&signed, &f.csrf) {
        return r.into_response();
    }
    state.console.remove(&signed.token);
    let clear = session::set_cookie(session::COOKIE, "", Duration::ZERO, auth::secure(&state));
    ([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response()
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    open: Option<String>,
}

pub async fn index(State(state): State<AppState>, parts: Parts, Query(q): Query<ListQuery>) -> Response {
    let signed = match signed_in(&state, &parts) {
        Ok(s) => s,
        Err(redirect) => return redirect.into_response(),
    };
    let filter = IncidentFilter { limit: 200, ..IncidentFilter::default() };
    match state.store.list_incidents(&filter).await {
        Ok(list) => {
            let html = pages::incidents(&viewer(&signed), &list, q.open.is_some());
            signed.respond(Html(html))
        }
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct IncidentQuery {
    #[serde(default)]
    notice: Option<String>,
}

pub async fn incident(
    State(state): State<AppState>,
    parts: Parts,
    Path(id): Path<i64>,
    Query(q): Query<IncidentQuery>,
) -> Response {
    let signed = match signed_in(&state, &parts) {
        Ok(s) => s,
        Err(redirect) => return redirect.into_response(),
    };
    let message = q.notice.as_deref().and_then(s::notice).map(|t| ("ok", t));
    incident_page(&state, signed, id, message, StatusCode::OK).await
}

async fn incident_page(
    state: &AppState,
    signed: Signed,
    id: i64,
    message: Option<(&str, &str)>,
    status: StatusCode,
) -> Response {
    match state.store.incident_detail(id).await {
        Ok(Some(d)) => {
            let html = pages::incident(&viewer(&signed), &d, message);
            signed.respond((status, Html(html)))
        }
        Ok(None) => {
            let html = pages::not_found(&viewer(&signed));
            signed.respond((StatusCode::NOT_FOUND, Html(html)))
        }
        Err(e) => internal(e),
    }
}

pub async fn decide(
    State(state): State<AppState>,
    parts: Parts,
    Path((id, pid, choice)): Path<(i64, String, String)>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let signed = match signed_in(&state, &parts) {
        Ok(s) => s,
        Err(redirect) => return redirect.into_response(),
    };
    if let Err(r) = check_csrf(&signed, &f.csrf) {
        return r.into_response();
    }
    let choice = match choice.as_str() {
        "approve" => Choice::Approve,
        "reject" => Choice::Reject,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    // The proposal must belong to the incident the page showed.
    match state.store.incident_detail(id).await {
        Ok(Some(d)) if d.proposals.iter().any(|p| p.public_id == pid) => {}
        Ok(_) => return incident_page(&state, signed, id, Some(("error", s::NOT_FOUND)), StatusCode::NOT_FOUND).await,
        Err(e) => return internal(e),
    }
    let approver = match ApproverId::web(&signed.session.user) {
        Ok(a) => Approver::new(a),
        Err(e) => return auth::forbidden(&e.to_string()),
    };
    let policy = &state.settings.policy;
    match decide_proposal(&state.store, policy, &state.wake, &pid, &approver, &Origin::Console, choice).await {
        Ok(decided) => {
            let code = match decided {
                Decided::Approved => "approved",
                Decided::NeedsAnotherApprover => "needs_another_approver",
                Decided::Rejected => "rejected",
            };
            signed.respond(Redirect::to(&format!("/incident/{id}?notice={code}")))
        }
        Err(DecideError::Internal(e)) => internal(e),
        Err(e) => {
            let text = s::refused(&e.to_string());
            incident_page(&state, signed, id, Some(("error", &text)), StatusCode::FORBIDDEN).await
        }
    }
}

pub async fn ask_form(State(state): State<AppState>, parts: Parts) -> Response {
    match signed_in(&state, &parts) {
        Ok(signed) => {
            let html = pages::ask(&viewer(&signed), "", None);
            signed.respond(Html(html))
        }
        Err(redirect) => redirect.into_response(),
    }
}

#[derive(Deserialize)]
pub struct AskForm {
    question: String,
    csrf: String,
}

pub async fn ask(State(state): State<AppState>, parts: Parts, Form(f): Form<AskForm>) -> Response {
    let signed = match signed_in(&state, &parts) {
        Ok(s) => s,
        Err(redirect) => return redirect.into_response(),
    };
    if let Err(r) = check_csrf(&signed, &f.csrf) {
        return r.into_response();
    }
    let question: String = f.question.chars().take(2000).collect();
    let scope = match &state.settings.qa.api_namespaces {
        Some(list) => Scope::only(list.iter().cloned()),
        None => Scope::all(),
    };
    let asker = Asker(format!("web:{}", signed.session.user));
    match state.qa.ask(&question, &asker, &scope, None).await {
        Ok(answer) => {
            let html = pages::ask(&viewer(&signed), &question, Some(&answer));
            signed.respond(Html(html))
        }
        Err(e) => internal(e),
    }
}

pub async fn settings(State(state): State<AppState>, parts: Parts) -> Response {
    let signed = match signed_in(&state, &parts) {
        Ok(s) => s,
        Err(redirect) => return redirect.into_response(),
    };
    let html = pages::settings(&viewer(&signed), &crate::http::redacted_settings(&state.settings));
    signed.respond(Html(html))
}

/// Server-sent events: `changed` whenever any incident's timeline grows. Ends at shutdown so a
/// graceful stop never waits for open browsers.
pub async fn live(State(state): State<AppState>, parts: Parts) -> Response {
    if let Err(redirect) = signed_in(&state, &parts) {
        return redirect.into_response();
    }
    Sse::new(changes(state)).keep_alive(KeepAlive::default()).into_response()
}

fn changes(state: AppState) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold((state, None::<i64>), |(state, mut last)| async move {
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => return None,
                _ = tokio::time::sleep(Duration::from_millis(if last.is_none() { 0 } else { 1000 })) => {}
            }
            let Ok(id) = state.store.last_event_id().await else { continue };
            let changed = last.is_some_and(|l| l != id);
            last = Some(id);
            if changed {
                return Some((Ok(Event::default().event("changed").data(id.to_string())), (state, last)));
            }
        }
    })
}
