pub const SIMILAR: &str = "Similar past incidents:";
pub const UNAVAILABLE: &str = "Similar past incidents: not available";
pub fn unavailable(why: &str) -> String {
    format!("skipped: similar past incidents not recalled ({why})")
}
/// What a similar past incident says about a proposal (a rule's fact).
pub fn past_fact(id: i64, action: &str, verified: Option<bool>, same: bool) -> String {
    let outcome = match verified {
        Some(true) => "was verified to fix it",
        Some(false) => "did not fix it",
        None => "was run (outcome unknown)",
    };
    let same = if same { " (the same action is proposed now)" } else { "" };
    format!("Similar past incident #{id}: {action} {outcome}{same}.")
}
/// One recalled incident as a message line.
pub fn line(id: i64, score: f32, summary: &str, action: Option<&str>, verified: Option<bool>) -> String {
    let done = match (action, verified) {
        (Some(a), Some(true)) => format!("; action then: {a} (verified fix)"),
        (Some(a), Some(false)) => format!("; action then: {a} (did not fix it)"),
        (Some(a), None) => format!("; action then: {a}"),
        (None, _) => "; no action was run".to_string(),
    };
    format!("#{id} (similarity {score:.2}): {summary}{done}")
}
/// What `mimi memory status` and `mimi check` call the remote store (never with the API key).
pub fn remote_describe(url: &str) -> String {
    format!("remote Qdrant at {url}")
}
pub fn remote_client(url: &str, why: &str) -> String {
    format!("cannot set up the Qdrant client for {url}: {why}")
}
/// A gRPC status from the Qdrant server, e.g. "deadline exceeded: Timeout expired".
pub fn remote_status(what: &str, message: &str) -> String {
    format!("Qdrant: {what}: {message}")
}
pub const REMOTE_REFUSED_KEY: &str =
    "the Qdrant server refused the API key (check memory.qdrant.api_key / MIMI__MEMORY__QDRANT__API_KEY)";
/// A collection with metadata that does not name an embedder (created by something else).
pub const REMOTE_UNKNOWN_EMBEDDER: &str = "an unknown embedder";
pub fn remote_layout(collection: &str) -> String {
    format!(
        "Qdrant collection {collection:?} does not have one unnamed cosine vector per point as Mimi needs: \
         drop it or pick another memory.collection"
    )
}
