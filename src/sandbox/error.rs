//! API errors as Kubernetes `Status` objects with the codes and reasons a real API server uses.
//!
//! Invariant: every failed request answers a `Status` body (kind `Status`, `status: Failure`), so
//! kube-rs surfaces it as `Error::Api` and kubectl prints the message as it would for a real cluster.

use serde_json::{Value, json};

use super::resources::ResourceDef;

/// One field-level reason inside an `Invalid` error.
#[derive(Clone, Debug, PartialEq)]
pub struct Cause {
    pub field: String,
    pub message: String,
}

impl Cause {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("{resource} \"{name}\" not found")]
    NotFound { resource: String, name: String },
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists { resource: String, name: String },
    #[error("Operation cannot be fulfilled on {resource} \"{name}\": {detail}")]
    Conflict { resource: String, name: String, detail: String },
    #[error("{kind} \"{name}\" is invalid: {}", causes.iter().map(|c| format!("{}: {}", c.field, c.message)).collect::<Vec<_>>().join(", "))]
    Invalid { kind: String, name: String, causes: Vec<Cause> },
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    TooManyRequests { message: String, causes: Vec<String> },
    #[error("Unauthorized")]
    Unauthorized,
    /// Refused by admission (as a validating webhook such as Kyverno or Gatekeeper refuses).
    #[error("admission webhook \"sandbox.mimi.dev\" denied the request: {0}")]
    Forbidden(String),
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Gone(String),
    #[error("the server could not find the requested resource")]
    NoRoute,
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn not_found(def: &ResourceDef, name: &str) -> Self {
        Self::NotFound { resource: def.qualified(), name: name.to_string() }
    }

    pub fn conflict(def: &ResourceDef, name: &str, detail: impl Into<String>) -> Self {
        Self::Conflict { resource: def.qualified(), name: name.to_string(), detail: detail.into() }
    }

    pub fn modified(def: &ResourceDef, name: &str) -> Self {
        Self::conflict(
            def,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    pub fn invalid(def: &ResourceDef, name: &str, causes: Vec<Cause>) -> Self {
        Self::Invalid { kind: def.qualified_kind(), name: name.to_string(), causes }
    }

    pub fn code(&self) -> u16 {
        match self {
            Self::NotFound { .. } | Self::NoRoute => 404,
            Self::AlreadyExists { .. } | Self::Conflict { .. } => 409,
            Self::Invalid { .. } => 422,
            Self::BadRequest(_) => 400,
            Self::TooManyRequests { .. } => 429,
            Self::Unauthorized => 401,
            Self::Forbidden(_) => 403,
            Self::MethodNotAllowed => 405,
            Self::UnsupportedMediaType(_) => 415,
            Self::Gone(_) => 410,
            Self::Internal(_) => 500,
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotFound { .. } | Self::NoRoute => "NotFound",
            Self::AlreadyExists { .. } => "AlreadyExists",
            Self::Conflict { .. } => "Conflict",
            Self::Invalid { .. } => "Invalid",
            Self::BadRequest(_) => "BadRequest",
            Self::TooManyRequests { .. } => "TooManyRequests",
            Self::Unauthorized => "Unauthorized",
            Self::Forbidden(_) => "Forbidden",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::UnsupportedMediaType(_) => "UnsupportedMediaType",
            Self::Gone(_) => "Expired",
            Self::Internal(_) => "InternalError",
        }
    }

    /// The `Status` object a real API server would answer.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
            "code": self.code(),
        });
        let details = match self {
            Self::NotFound { resource, name }
            | Self::AlreadyExists { resource, name }
            | Self::Conflict { resource, name, .. } => {
                let (kind, group) = resource.split_once('.').unwrap_or((resource, ""));
                Some(json!({"name": name, "group": group, "kind": kind}))
            }
            Self::Invalid { kind, name, causes } => {
                let (k, group) = kind.split_once('.').unwrap_or((kind, ""));
                let causes: Vec<Value> = causes
                    .iter()
                    .map(|c| json!({"reason": "FieldValueInvalid", "message": c.message, "field": c.field}))
                    .collect();
                Some(json!({"name": name, "group": group, "kind": k, "causes": causes}))
            }
            Self::TooManyRequests { causes, .. } => {
                let causes: Vec<Value> =
                    causes.iter().map(|m| json!({"reason": "DisruptionBudget", "message": m})).collect();
                Some(json!({"causes": causes}))
            }
            _ => None,
        };
        if let Some(details) = details {
            status["details"] = details;
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::resources::{Kind, native};

    #[test]
    fn statuses_carry_kubernetes_codes_reasons_and_messages() {
        let deploy = native(Kind::Deployment);
        let cases = [
            (ApiError::not_found(deploy, "web"), 404, "NotFound", "deployments.apps \"web\" not found"),
            (
                ApiError::modified(native(Kind::Pod), "p"),
                409,
                "Conflict",
                "Operation cannot be fulfilled on pods \"p\": the object has been modified; please apply your changes to the latest version and try again",
            ),
            (
                ApiError::invalid(
                    deploy,
                    "web",
                    vec![Cause::new("spec.replicas", "Invalid value: -1: must be greater than or equal to 0")],
                ),
                422,
                "Invalid",
                "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            ),
            (ApiError::Unauthorized, 401, "Unauthorized", "Unauthorized"),
        ];
        for (err, code, reason, message) in cases {
            let s = err.to_status();
            assert_eq!(s["code"], code);
            assert_eq!(s["reason"], reason);
            assert_eq!(s["message"], message);
            assert_eq!(s["kind"], "Status");
        }
    }
}
