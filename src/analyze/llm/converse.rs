//! A chat completions call with tools (OpenAI function calling), for the question engine's
//! read-only tool loop (`qa::llm`): the conversation so far and the tool definitions in, the
//! model's text or its tool calls out. Same transport, limits and error classes as `complete`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{CallError, ChatClient};

/// One tool call the model asked for; `arguments` is the JSON text the model wrote (untrusted).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// One model turn.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Turn {
    pub content: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub tokens: Option<u64>,
}

impl Turn {
    /// The assistant message to append to the conversation before the tool results.
    pub fn message(&self) -> Value {
        let calls: Vec<Value> = self
            .tool_calls
            .iter()
            .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
            .collect();
        let mut m = json!({"role": "assistant", "content": self.content});
        if !calls.is_empty() {
            m["tool_calls"] = Value::Array(calls);
        }
        m
    }
}

impl ChatClient {
    /// One turn of a conversation with `tools` (function definitions).
    pub(crate) async fn converse(&self, messages: &[Value], tools: &Value, max_tokens: u32) -> Result<Turn, CallError> {
        let body = json!({
            "model": self.model,
            "messages": messages,
            "tools": tools,
            "tool_choice": "auto",
            "temperature": 0,
            "max_tokens": max_tokens,
            "stream": false,
        });
        let call = async { parse_turn(&self.post(&body).await?) };
        match tokio::time::timeout(self.timeout + Duration::from_millis(250), call).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Timeout),
        }
    }
}

#[derive(Deserialize)]
struct Body {
    choices: Vec<ChoiceBody>,
    #[serde(default)]
    usage: Option<UsageBody>,
}

#[derive(Deserialize)]
struct ChoiceBody {
    message: MessageBody,
}

#[derive(Deserialize)]
struct MessageBody {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<CallBody>,
}

#[derive(Deserialize)]
struct CallBody {
    #[serde(default)]
    id: String,
    function: FunctionBody,
}

#[derive(Deserialize)]
struct FunctionBody {
    name: String,
    #[serde(default)]
    arguments: Value,
}

#[derive(Deserialize)]
struct UsageBody {
    #[serde(default)]
    total_tokens: Option<u64>,
}

fn parse_turn(bytes: &[u8]) -> Result<Turn, CallError> {
    let body: Body =
        serde_json::from_slice(bytes).map_err(|_| CallError::Malformed("not a chat completion with tools".into()))?;
    let Some(choice) = body.choices.into_iter().next() else {
        return Err(CallError::Malformed("the completion has no choices".into()));
    };
    let tool_calls = choice
        .message
        .tool_calls
        .into_iter()
        .enumerate()
        .map(|(i, c)| ToolCall {
            id: if c.id.is_empty() { format!("call_{i}") } else { c.id },
            name: c.function.name,
            // Some servers send the arguments as an object instead of JSON text.
            arguments: match c.function.arguments {
                Value::String(s) => s,
                Value::Null => "{}".into(),
                other => other.to_string(),
            },
        })
        .collect();
    Ok(Turn {
        content: choice.message.content.filter(|c| !c.trim().is_empty()),
        tool_calls,
        tokens: body.usage.and_then(|u| u.total_tokens),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_calls_are_read_whether_arguments_are_text_or_an_object() {
        let body = json!({"choices": [{"message": {"content": null, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "problem_pods", "arguments": "{\"namespace\":\"shop\"}"}},
            {"type": "function", "function": {"name": "nodes", "arguments": {"x": 1}}}
        ]}}], "usage": {"total_tokens": 42}});
        let t = parse_turn(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            t.tool_calls[0],
            ToolCall { id: "a".into(), name: "problem_pods".into(), arguments: "{\"namespace\":\"shop\"}".into() }
        );
        assert_eq!(t.tool_calls[1].id, "call_1");
        assert_eq!(t.tool_calls[1].arguments, "{\"x\":1}");
        assert_eq!(t.tokens, Some(42));
        assert_eq!(t.content, None);
        assert_eq!(t.message()["tool_calls"][0]["function"]["name"], "problem_pods");
    }

    #[test]
    fn a_body_without_choices_is_malformed() {
        assert!(matches!(parse_turn(b"{\"choices\": []}"), Err(CallError::Malformed(_))));
        assert!(matches!(parse_turn(b"not json"), Err(CallError::Malformed(_))));
    }
}
