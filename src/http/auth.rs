//! Authentication of the webhook (bearer token and/or basic auth) and the API (named bearer tokens).
//!
//! Credentials are compared as SHA-256 digests in constant time, so neither the content nor the
//! length of a secret leaks through timing (RELIABILITY A01). Credentials in a query string are
//! refused outright (A02): they would end up in proxy and access logs.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use crate::config::{ApiSettings, WebhookSettings};
use crate::metrics::DeliveryResult;
use crate::strings::http as s;

type SecretDigest = [u8; 32];

fn digest(parts: &[&[u8]]) -> SecretDigest {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

fn same(a: &SecretDigest, b: &SecretDigest) -> bool {
    a.ct_eq(b).into()
}

/// Who authenticated a request, for the record (never the credential itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity(pub String);

/// The webhook's accepted credentials.
#[derive(Debug)]
pub struct WebhookAuth {
    bearer: Option<SecretDigest>,
    basic: Option<(String, SecretDigest)>,
    open: bool,
}

impl WebhookAuth {
    pub fn from_settings(w: &WebhookSettings) -> Self {
        WebhookAuth {
            bearer: w.bearer_token.as_ref().map(|t| digest(&[t.expose().as_bytes()])),
            basic: match (&w.basic_username, &w.basic_password) {
                (Some(user), Some(pass)) => Some((user.clone(), digest(&[user.as_bytes(), pass.expose().as_bytes()]))),
                _ => None,
            },
            open: w.allow_unauthenticated,
        }
    }

    pub fn check(&self, headers: &HeaderMap) -> Option<Identity> {
        match parse_authorization(headers) {
            Some(Credential::Bearer(token)) => {
                let want = self.bearer.as_ref()?;
                same(want, &digest(&[token.as_bytes()])).then(|| Identity("bearer".into()))
            }
            Some(Credential::Basic(user, pass)) => {
                let (want_user, want) = self.basic.as_ref()?;
                same(want, &digest(&[user.as_bytes(), pass.as_bytes()])).then(|| Identity(format!("basic:{want_user}")))
            }
            None if self.open => Some(Identity("anonymous".into())),
            None => None,
        }
    }
}

/// The API's named tokens.
#[derive(Debug)]
pub struct ApiAuth {
    tokens: Vec<(String, SecretDigest)>,
    open: bool,
}

impl ApiAuth {
    pub fn from_settings(a: &ApiSettings) -> Self {
        ApiAuth {
            tokens: a
                .tokens
                .iter()
                .filter_map(|t| t.token.as_ref().map(|s| (t.name.clone(), digest(&[s.expose().as_bytes()]))))
                .collect(),
            open: a.allow_unauthenticated,
        }
    }

    pub fn check(&self, headers: &HeaderMap) -> Option<Identity> {
        match parse_authorization(headers) {
            Some(Credential::Bearer(token)) => {
                let given = digest(&[token.as_bytes()]);
                // Compare against every token so the time does not tell which one matched.
                let mut found = None;
                for (name, want) in &self.tokens {
                    if same(want, &given) {
                        found = Some(Identity(format!("token:{name}")));
                    }
                }
                found
            }
            Some(Credential::Basic(..)) => None,
            None if self.open => Some(Identity("anonymous".into())),
            None => None,
        }
    }
}

enum Credential {
    Bearer(String),
    Basic(String, String),
}

fn parse_authorization(headers: &HeaderMap) -> Option<Credential> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Credential::Bearer(rest.to_string()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, pass) = text.split_once(':')?;
        return Some(Credential::Basic(user.to_string(), pass.to_string()));
    }
    None
}

/// Query parameter names that look like a credential.
const CREDENTIAL_PARAMS: &[&str] =
    &["token", "access_token", "bearer", "auth", "authorization", "password", "apikey", "api_key", "key", "secret"];

fn has_credential_in_query(req: &Request) -> bool {
    let Some(query) = req.uri().query() else {
        return false;
    };
    query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or("");
        CREDENTIAL_PARAMS.iter().any(|p| name.eq_ignore_ascii_case(p))
    })
}

/// Middleware on `/webhook`: checked before the body is read.
pub async fn require_webhook_auth(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if has_credential_in_query(&req) {
        state.metrics.delivery(DeliveryResult::Unauthorized);
        tracing::warn!("webhook refused: credentials in the query string");
        return ApiError::unauthorized(s::TOKEN_IN_QUERY).into_response();
    }
    match state.webhook_auth.check(req.headers()) {
        Some(identity) => {
            req.extensions_mut().insert(identity);
            next.run(req).await
        }
        None => {
            state.metrics.delivery(DeliveryResult::Unauthorized);
            tracing::warn!("webhook refused: missing or wrong credentials");
            ApiError::unauthorized(s::UNAUTHORIZED).into_response()
        }
    }
}

/// Middleware on the API routes.
pub async fn require_api_auth(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if has_credential_in_query(&req) {
        return ApiError::unauthorized(s::TOKEN_IN_QUERY).into_response();
    }
    match state.api_auth.check(req.headers()) {
        Some(identity) => {
            req.extensions_mut().insert(identity);
            next.run(req).await
        }
        None => ApiError::unauthorized(s::UNAUTHORIZED).into_response(),
    }
}
