//! The Web API methods the fake answers, checked as Slack checks them.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

use super::{APP_TOKEN, BOT_TOKEN, Inner, Message};

fn err(e: &str) -> (StatusCode, Value) {
    (StatusCode::OK, json!({"ok": false, "error": e}))
}

pub(super) fn answer(inner: &mut Inner, method: &str, headers: &HeaderMap, body: &[u8]) -> (StatusCode, Value) {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if method == "apps.connections.open" {
        // Only the app-level token opens connections.
        if auth != Some(&format!("Bearer {APP_TOKEN}")) {
            return err("invalid_auth");
        }
        let url = format!("ws://127.0.0.1:{}/link/?ticket={}", inner.socket.port, inner.socket.connections + 1);
        return (StatusCode::OK, json!({"ok": true, "url": url}));
    }
    if auth != Some(&format!("Bearer {BOT_TOKEN}")) {
        return err(if auth.is_none() { "not_authed" } else { "invalid_auth" });
    }
    if let Some(secs) = inner.rate_limit_next.pop() {
        return (StatusCode::TOO_MANY_REQUESTS, json!({"retry_after": secs}));
    }
    if inner.fail_next_5xx > 0 {
        inner.fail_next_5xx -= 1;
        return (StatusCode::SERVICE_UNAVAILABLE, json!({"ok": false, "error": "service_unavailable"}));
    }
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if method == "usergroups.users.list" {
        let group = url::form_urlencoded::parse(body).find(|(k, _)| k == "usergroup").map(|(_, v)| v.into_owned());
        return match group.and_then(|g| inner.usergroups.get(&g).cloned()) {
            Some(users) => (StatusCode::OK, json!({"ok": true, "users": users})),
            None => err("no_such_subteam"),
        };
    }
    let args: Value = if ctype.starts_with("application/json") {
        match serde_json::from_slice(body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return err("invalid_json"),
        }
    } else if ctype.starts_with("application/x-www-form-urlencoded") {
        let pairs: serde_json::Map<String, Value> =
            url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), json!(v.into_owned()))).collect();
        Value::Object(pairs)
    } else {
        return err("invalid_form_data");
    };
    let Some(channel) = args["channel"].as_str().map(str::to_string) else { return err("channel_not_found") };
    if !inner.channels.contains(&channel) {
        return err("channel_not_found");
    }
    match method {
        "chat.postMessage" | "chat.update" => {
            if !ctype.starts_with("application/json") {
                return err("invalid_arguments");
            }
            if let Some(bad) = check_content(&args) {
                return err(bad);
            }
        }
        _ => {}
    }
    match method {
        "chat.postMessage" => {
            if let Some(secs) = inner.per_channel_retry_after {
                let now = Instant::now();
                if inner.last_post.get(&channel).is_some_and(|t| now.duration_since(*t) < Duration::from_secs(1)) {
                    return (StatusCode::TOO_MANY_REQUESTS, json!({"retry_after": secs}));
                }
                inner.last_post.insert(channel.clone(), now);
            }
            let thread_ts = args["thread_ts"].as_str().map(str::to_string);
            if let Some(root) = &thread_ts
                && !inner.messages.iter().any(|m| &m.ts == root && m.channel == channel)
            {
                return err("thread_not_found");
            }
            inner.seq += 1;
            let ts = format!("1700000000.{:06}", inner.seq);
            inner.messages.push(Message {
                channel: channel.clone(),
                ts: ts.clone(),
                thread_ts,
                text: args["text"].as_str().unwrap_or("").into(),
                blocks: args["blocks"].clone(),
                metadata: args["metadata"].clone(),
                edits: 0,
            });
            (StatusCode::OK, json!({"ok": true, "channel": channel, "ts": ts}))
        }
        "chat.update" => {
            let ts = args["ts"].as_str().unwrap_or("").to_string();
            let Some(m) = inner.messages.iter_mut().find(|m| m.ts == ts && m.channel == channel) else {
                return err("message_not_found");
            };
            m.text = args["text"].as_str().unwrap_or("").into();
            m.blocks = args["blocks"].clone();
            m.edits += 1;
            (StatusCode::OK, json!({"ok": true, "channel": channel, "ts": ts}))
        }
        "conversations.history" | "conversations.replies" => {
            let with_meta = args["include_all_metadata"] == "true";
            let root = args["ts"].as_str().map(str::to_string);
            let list: Vec<Value> = inner
                .messages
                .iter()
                .filter(|m| m.channel == channel)
                .filter(|m| match &root {
                    Some(r) => &m.ts == r || m.thread_ts.as_ref() == Some(r),
                    None => m.thread_ts.is_none(),
                })
                .map(|m| {
                    let mut v = json!({"type": "message", "ts": m.ts, "text": m.text});
                    if with_meta && !m.metadata.is_null() {
                        v["metadata"] = m.metadata.clone();
                    }
                    v
                })
                .collect();
            (StatusCode::OK, json!({"ok": true, "messages": list, "has_more": false}))
        }
        _ => err("unknown_method"),
    }
}

/// What Slack refuses in a message: no text and no blocks, blocks without a type, oversized text.
fn check_content(args: &Value) -> Option<&'static str> {
    let text = args["text"].as_str().unwrap_or("");
    let blocks = &args["blocks"];
    if text.is_empty() && blocks.as_array().is_none_or(Vec::is_empty) {
        return Some("no_text");
    }
    if text.chars().count() > 40_000 {
        return Some("msg_too_long");
    }
    if let Some(list) = blocks.as_array() {
        if list.len() > 50 {
            return Some("invalid_blocks");
        }
        for b in list {
            if b["type"].as_str().is_none() {
                return Some("invalid_blocks");
            }
            if b["text"]["text"].as_str().is_some_and(|t| t.chars().count() > 3000) {
                return Some("invalid_blocks");
            }
            if b["type"] == "actions"
                && b["elements"]
                    .as_array()
                    .is_none_or(|e| e.iter().any(|e| e["value"].as_str().is_some_and(|v| v.len() > 2000)))
            {
                return Some("invalid_blocks");
            }
        }
    } else if !blocks.is_null() {
        return Some("invalid_blocks");
    }
    None
}
