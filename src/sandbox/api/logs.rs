//! Pod logs (`GET pods/{name}/log`): `container`, `previous`, `tailLines`, `limitBytes`,
//! `sinceSeconds`, `timestamps`, with the errors a kubelet gives (container required when a pod
//! has several, no previous container, container still creating).
//!
//! `follow=true` answers the current log and ends, as if the container exited.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::Value;

use super::super::error::ApiError;
use super::super::object;
use super::super::resources::{Kind, native};
use super::super::store::Cluster;
use super::Params;

fn leading_timestamp(line: &str) -> Option<Timestamp> {
    line.split_whitespace().next()?.parse().ok()
}

/// Applies sinceSeconds, tailLines, timestamps and limitBytes, in the kubelet's order.
pub fn shape(
    text: &str,
    now: Timestamp,
    since: Option<i64>,
    tail: Option<usize>,
    timestamps: Option<&str>,
    limit: Option<usize>,
) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    if let Some(s) = since {
        let cutoff = now - jiff::SignedDuration::from_secs(s);
        lines.retain(|l| leading_timestamp(l).is_none_or(|t| t >= cutoff));
    }
    if let Some(n) = tail {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut out = String::new();
    for l in lines {
        if let Some(started) = timestamps {
            let ts = leading_timestamp(l).map(|t| t.to_string()).unwrap_or_else(|| started.to_string());
            out.push_str(&ts);
            out.push(' ');
        }
        out.push_str(l);
        out.push('\n');
    }
    if let Some(max) = limit {
        let mut cut = max.min(out.len());
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

pub fn serve(c: &Cluster, now: Timestamp, ns: &str, name: &str, params: &Params) -> Result<Response, ApiError> {
    let pod = c.get(Kind::Pod, ns, name).ok_or_else(|| ApiError::not_found(native(Kind::Pod), name))?;
    let names: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(pod.pointer("/spec/initContainers").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect();
    let container = match params.get("container") {
        Some(cn) if names.contains(&cn) => cn,
        Some(cn) => {
            return Err(ApiError::BadRequest(format!("container {cn} is not valid for pod {name}")));
        }
        None if names.len() == 1 => names[0],
        None => {
            return Err(ApiError::BadRequest(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    let logs = c.sim.logs(ns, name, container);
    let text = if params.flag("previous") {
        logs.and_then(|l| l.previous.clone()).ok_or_else(|| {
            ApiError::BadRequest(format!("previous terminated container \"{container}\" in pod \"{name}\" not found"))
        })?
    } else {
        let status = pod
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|s| s["name"] == container));
        if let Some(reason) = status
            .and_then(|s| s.pointer("/state/waiting/reason"))
            .and_then(Value::as_str)
            .filter(|r| *r == "ContainerCreating" || r.contains("Image"))
        {
            return Err(ApiError::BadRequest(format!(
                "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
            )));
        }
        logs.map(|l| l.current.clone()).unwrap_or_else(|| "".into())
    };
    let started = object::str_at(pod, "/status/startTime").unwrap_or_default().to_string();
    let body = shape(
        &text,
        now,
        params.get("sinceSeconds").and_then(|s| s.parse().ok()),
        params.get("tailLines").and_then(|s| s.parse().ok()),
        params.flag("timestamps").then_some(started.as_str()),
        params.get("limitBytes").and_then(|s| s.parse().ok()),
    );
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_options_shape_the_text_like_the_kubelet() {
        let text = "2026-01-01T00:00:00Z a\n2026-01-01T00:09:00Z b\n2026-01-01T00:10:00Z c\n";
        let now: Timestamp = "2026-01-01T00:10:30Z".parse().unwrap();
        let cases = [
            ((None, None, None), text.to_string()),
            ((None, Some(1), None), "2026-01-01T00:10:00Z c\n".to_string()),
            ((Some(120), None, None), "2026-01-01T00:09:00Z b\n2026-01-01T00:10:00Z c\n".to_string()),
            ((None, Some(2), Some(10)), "2026-01-01".to_string()),
            ((None, Some(0), None), String::new()),
        ];
        for ((since, tail, limit), want) in cases {
            assert_eq!(shape(text, now, since, tail, None, limit), want, "{since:?} {tail:?} {limit:?}");
        }
    }
}
