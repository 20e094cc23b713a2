//! The LLM analyzer: flags on an analysis (shown with it), why an answer was not used, budgets.

pub const FLAG_MARKUP: &str =
    "the model's text contained chat markup, mentions or links; they are kept as inert text only";
pub const FLAG_INVISIBLE: &str = "control or invisible characters were removed from the model's text";
pub const FLAG_CONFIDENCE_NOT_A_NUMBER: &str = "the model's confidence was not a number; it is left out";
pub const FLAG_CONFIDENCE_CLAMPED: &str = "the model's confidence was outside 0 to 1; it was clamped";
pub const FLAG_CACHED: &str =
    "reused: the same alerts and evidence were analysed before, so the model was not asked again";
pub const CONTENT_FILTER: &str = "the provider's content filter stopped the answer";
pub const EMPTY_ANSWER: &str = "the answer was empty";
pub const ANSWER_CUT: &str = "the answer was cut off at llm.max_tokens";
pub const NOT_AN_OBJECT: &str = "the answer is JSON but not an object";
pub const TOO_DEEP: &str = "the answer is nested too deeply";

pub fn flag_secrets(n: usize) -> String {
    format!("the model's text repeated {n} secret(s); redacted")
}
pub fn answer_too_long(bytes: usize) -> String {
    format!("the answer is {bytes} bytes long, more than any analysis needs")
}
pub fn not_json(error: &str) -> String {
    format!("the answer is not JSON ({})", error.chars().take(100).collect::<String>())
}
pub fn field_problem(field: &str, problem: &str) -> String {
    format!("the answer's {field} {problem}")
}
pub fn string_too_long(max: usize) -> String {
    format!("the answer holds a text longer than {max} characters")
}

pub fn dropped_malformed(kind: &str, error: &str) -> String {
    format!("dropped a malformed proposal {kind:?}: {error}")
}
pub fn dropped_not_in_catalogue(kind: &str) -> String {
    format!("dropped a proposal {kind:?}: it is not in the action catalogue")
}
pub fn dropped_invalid(kind: &str, error: &str) -> String {
    format!("dropped a {kind} proposal: {error}")
}
pub fn dropped_replicas(replicas: u32, max: u32) -> String {
    format!("dropped a scale proposal to {replicas} replicas: only 1 to {max} can ever be proposed")
}
pub fn dropped_not_allowed(kind: &str, target: &str) -> String {
    format!("dropped {kind} on {target}: the alert's mimi_allowed_actions do not allow it")
}
pub fn dropped_not_in_incident(kind: &str, target: &str) -> String {
    format!("dropped {kind} on {target}: that object is not named by the alerts or the evidence")
}
pub fn dropped_extra(max: usize) -> String {
    format!("dropped proposals beyond the first {max}")
}
pub fn flag_planted(quote: &str) -> String {
    format!("text in the input reads like instructions; it was treated as data only: {quote}")
}
pub fn flag_model_noticed(quote: &str) -> String {
    format!("the model reported suspicious input: \"{quote}\"")
}
pub fn flag_retried(first: &str) -> String {
    format!("the model's first answer was not used ({first}); this is its second")
}

pub fn http_status(status: u16) -> String {
    format!("the LLM server answered HTTP {status}")
}
pub fn rejected(status: u16, message: &str) -> String {
    let hint = if status == 400 {
        " (if the server does not support JSON schemas, set llm.structured_output = \"json_object\")"
    } else {
        ""
    };
    format!("the LLM server refused the request (HTTP {status}): {message}{hint}")
}
pub fn rate_limited(seconds: u64) -> String {
    format!("the LLM provider is rate limiting Mimi (Retry-After {seconds} s)")
}
pub fn paused(why: &str, seconds: u64) -> String {
    format!("{why}; not asking it for another {seconds} s")
}
pub fn breaker(failures: u32) -> String {
    format!("the LLM failed {failures} analyses in a row")
}
pub fn over_incident(used: u64, next: u64, limit: u64) -> String {
    format!(
        "this incident has used {used} tokens and the next call may need {next}, over its \
         {limit} (llm.budget.tokens_per_incident)"
    )
}
pub fn over_window(window: &str, used: u64, limit: u64) -> String {
    format!("{used} of {limit} tokens used in the last {window} (llm.budget.tokens_per_{window})")
}

/// The first flag of an analysis the rules made because the LLM could not.
pub fn not_used(analyzer: &str, why: &str) -> String {
    format!("{analyzer} was not used ({why}); this is the runbook rules' analysis")
}

/// `mimi check`: which analyzer runs.
pub fn check_rules_only() -> String {
    "runbook rules (no [llm] configured)".to_string()
}
pub fn check_llm(model: &str, endpoint: &str, mode: &str, worst_case: u64, per_hour: u64) -> String {
    format!(
        "LLM {model} at {endpoint} ({mode}; up to {per_hour} tokens an hour), then the runbook rules \
         when it fails (after at most {worst_case} s)"
    )
}
pub fn warn_slow_fallback(worst_case: u64) -> String {
    format!(
        "llm.timeout_seconds lets a failing LLM hold an incident up to {worst_case} s before the rules \
         answer (RELIABILITY B08 expects 10 s)"
    )
}
pub const WARN_KEY_IN_CLEAR: &str =
    "llm.base_url is plain http to another machine: the API key travels unencrypted (use https)";
