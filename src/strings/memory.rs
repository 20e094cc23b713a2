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
