//! The web console's words (`http::console`).

pub const TITLE: &str = "Mimi";
pub const SIGN_IN: &str = "Sign in";
pub const SIGN_OUT: &str = "Sign out";
pub const USER: &str = "User";
pub const PASSWORD: &str = "Password";
pub const BAD_LOGIN: &str = "Wrong user name or password.";
pub const NO_SIGN_IN: &str =
    "Nobody can sign in: add [[console.users]] (see docs/console.md) or a trusted proxy header.";
pub const CSRF: &str = "This form expired or did not come from this console. Reload the page and try again.";
pub const CROSS_ORIGIN: &str = "Cross-site request refused.";
pub const INCIDENTS: &str = "Incidents";
pub const OPEN_ONLY: &str = "Open";
pub const ALL: &str = "All";
pub const NO_INCIDENTS: &str = "No incidents. When Alertmanager sends an alert, it shows up here.";
pub const NOT_FOUND: &str = "No such incident.";
pub const ALERTS: &str = "Alerts";
pub const DIAGNOSIS: &str = "Diagnosis";
pub const NO_ANALYSIS: &str = "Not analysed yet.";
pub const FACTS: &str = "Facts it rests on";
pub const EVIDENCE: &str = "Evidence from the cluster";
pub const NO_EVIDENCE: &str = "No evidence gathered.";
pub const PROPOSALS: &str = "Proposed actions";
pub const NO_PROPOSALS: &str = "Nothing to approve: Mimi proposes no action for this incident.";
pub const APPROVE: &str = "Approve";
pub const REJECT: &str = "Reject";
pub const CONFIRM_APPROVE: &str = "Run this action on the cluster?";
pub const DRY_RUN: &str = "Dry run (server-side)";
pub const RUNS: &str = "Actions run";
pub const TIMELINE: &str = "Timeline";
pub const ASK: &str = "Ask";
pub const ASK_PLACEHOLDER: &str = "what's wrong in namespace shop?";
pub const ANSWER: &str = "Answer";
pub const SETTINGS: &str = "Configuration";
pub const SETTINGS_NOTE: &str =
    "The effective configuration, secrets redacted. Read-only: change the file or environment and restart.";
pub const LIVE: &str = "Updates live";

/// After a decision (the notice codes in the redirect).
pub fn notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "approved" => "Approved. Mimi runs the action and verifies the fix; watch the timeline.",
        "needs_another_approver" => "Approval recorded. This action needs a second, different approver.",
        "rejected" => "Rejected. Nothing will run.",
        _ => return None,
    })
}

pub fn refused(reason: &str) -> String {
    format!("Not done: {reason}")
}

pub fn signed_in_as(user: &str) -> String {
    format!("Signed in as {user}")
}
