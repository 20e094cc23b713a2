//! Reading the model's answer, strictly (RELIABILITY B08, E03).
//!
//! The answer must be one JSON object with `diagnosis` (non-empty string), `facts` (strings),
//! `confidence` and `proposals` (an array); anything else — not JSON, a missing field, a wrong
//! type, an oversized string, a cut-off answer — is [`AnalyzeError::Invalid`], and a refusal
//! (the `refusal` field, a content filter, or prose like "I can't help with that") is
//! [`AnalyzeError::Refused`]. Proposals are kept raw here; `proposals` validates each one.
//! A confidence that is not a number is dropped (and flagged), never guessed.

use serde_json::{Map, Value};

use super::client::Completion;
use crate::analyze::AnalyzeError;
use crate::strings::llm as s;

/// Longer answers are not analyses (the schema asks for a few sentences).
pub(super) const MAX_CONTENT_BYTES: usize = 32 * 1024;
/// Any one string longer than this makes the answer invalid; shorter ones are capped later.
pub(super) const MAX_STRING_CHARS: usize = 4000;

/// The answer's fields, checked for shape but not yet cleaned.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Answer {
    pub diagnosis: String,
    pub facts: Vec<String>,
    pub confidence: Option<f64>,
    pub proposals: Vec<Value>,
    pub suspicious: Vec<String>,
    pub flags: Vec<String>,
}

/// The completion's answer, or why there is none.
pub(super) fn answer(c: &Completion) -> Result<Answer, AnalyzeError> {
    if let Some(refusal) = &c.refusal {
        return Err(AnalyzeError::Refused(super::text::quote(refusal, 120)));
    }
    if c.finish_reason.as_deref() == Some("content_filter") {
        return Err(AnalyzeError::Refused(s::CONTENT_FILTER.into()));
    }
    let content = c.content.as_deref().unwrap_or_default();
    if content.trim().is_empty() {
        return Err(AnalyzeError::Invalid(s::EMPTY_ANSWER.into()));
    }
    if content.len() > MAX_CONTENT_BYTES {
        return Err(AnalyzeError::Invalid(s::answer_too_long(content.len())));
    }
    if c.finish_reason.as_deref() == Some("length") {
        return Err(AnalyzeError::Invalid(s::ANSWER_CUT.into()));
    }
    parse_content(content)
}

/// Parses the answer text (exposed for the unit tests and the table of hostile answers).
pub(super) fn parse_content(content: &str) -> Result<Answer, AnalyzeError> {
    let json = unwrap_json(content);
    let value: Value = match serde_json::from_str(json) {
        Ok(v) => v,
        Err(_) if looks_like_refusal(content) => return Err(AnalyzeError::Refused(super::text::quote(content, 120))),
        Err(e) => return Err(AnalyzeError::Invalid(s::not_json(&e.to_string()))),
    };
    let Value::Object(obj) = value else { return Err(AnalyzeError::Invalid(s::NOT_AN_OBJECT.into())) };
    check_sizes(&Value::Object(obj.clone()))?;

    let diagnosis = string(&obj, "diagnosis")?;
    if diagnosis.trim().is_empty() {
        return Err(AnalyzeError::Invalid(s::field_problem("diagnosis", "is empty")));
    }
    let facts = strings(&obj, "facts", true)?;
    let suspicious = strings(&obj, "suspicious_input", false)?;
    let proposals = match obj.get("proposals") {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None => return Err(AnalyzeError::Invalid(s::field_problem("proposals", "is missing"))),
        Some(_) => return Err(AnalyzeError::Invalid(s::field_problem("proposals", "is not a list"))),
    };
    let mut flags = Vec::new();
    let confidence = match obj.get("confidence") {
        None => return Err(AnalyzeError::Invalid(s::field_problem("confidence", "is missing"))),
        Some(Value::Number(n)) => n.as_f64().filter(|f| f.is_finite()).map(|f| f.clamp(0.0, 1.0)),
        Some(Value::Null) => None,
        Some(_) => {
            flags.push(s::FLAG_CONFIDENCE_NOT_A_NUMBER.to_string());
            None
        }
    };
    if let Some(Value::Number(n)) = obj.get("confidence")
        && n.as_f64().is_some_and(|f| !(0.0..=1.0).contains(&f))
    {
        flags.push(s::FLAG_CONFIDENCE_CLAMPED.to_string());
    }
    Ok(Answer { diagnosis, facts, confidence, proposals, suspicious, flags })
}

/// The JSON inside the answer: the text itself, or the body of one surrounding Markdown fence,
/// after a leading `<think>…</think>` block (reasoning models served by Ollama or vLLM).
fn unwrap_json(content: &str) -> &str {
    let mut text = content.trim();
    if text.starts_with("<think>")
        && let Some(end) = text.find("</think>")
    {
        text = text[end + "</think>".len()..].trim();
    }
    if let Some(rest) = text.strip_prefix("```") {
        let rest = rest.strip_prefix("json").unwrap_or(rest);
        if let Some(body) = rest.trim_end().strip_suffix("```") {
            return body.trim();
        }
    }
    text
}

fn looks_like_refusal(text: &str) -> bool {
    let t = text.trim_start().to_lowercase().replace('’', "'");
    const OPENINGS: [&str; 10] = [
        "i can't",
        "i cannot",
        "i can not",
        "i'm sorry",
        "i am sorry",
        "sorry,",
        "i'm unable",
        "i am unable",
        "i won't",
        "as an ai",
    ];
    OPENINGS.iter().any(|o| t.starts_with(o))
}

fn string(obj: &Map<String, Value>, key: &'static str) -> Result<String, AnalyzeError> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(AnalyzeError::Invalid(s::field_problem(key, "is missing"))),
        Some(_) => Err(AnalyzeError::Invalid(s::field_problem(key, "is not text"))),
    }
}

fn strings(obj: &Map<String, Value>, key: &'static str, required: bool) -> Result<Vec<String>, AnalyzeError> {
    match obj.get(key) {
        None | Some(Value::Null) if !required => Ok(Vec::new()),
        None | Some(Value::Null) => Err(AnalyzeError::Invalid(s::field_problem(key, "is missing"))),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| AnalyzeError::Invalid(s::field_problem(key, "is not a list of text"))),
        Some(_) => Err(AnalyzeError::Invalid(s::field_problem(key, "is not a list of text"))),
    }
}

/// Every string anywhere in the answer (keys included) within [`MAX_STRING_CHARS`], and no deep nesting.
fn check_sizes(v: &Value) -> Result<(), AnalyzeError> {
    fn walk(v: &Value, depth: usize) -> Result<(), AnalyzeError> {
        if depth > 8 {
            return Err(AnalyzeError::Invalid(s::TOO_DEEP.into()));
        }
        let too_long = |t: &str| t.chars().count() > MAX_STRING_CHARS;
        match v {
            Value::String(t) if too_long(t) => Err(AnalyzeError::Invalid(s::string_too_long(MAX_STRING_CHARS))),
            Value::Array(items) => items.iter().try_for_each(|i| walk(i, depth + 1)),
            Value::Object(map) => map.iter().try_for_each(|(k, i)| {
                if too_long(k) {
                    return Err(AnalyzeError::Invalid(s::string_too_long(MAX_STRING_CHARS)));
                }
                walk(i, depth + 1)
            }),
            _ => Ok(()),
        }
    }
    walk(v, 0)
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
