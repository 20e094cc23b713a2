//! What chat commands answer (Slack, Matrix), before escaping for the platform.

pub const HELP: &str = "Commands: `help`, `incidents [open|recent]`, `incident ID`, `pods [-n NAMESPACE]`, \
`problems [-n NAMESPACE]`, `logs POD [-n NAMESPACE]`, `approve PROPOSAL_ID`, `reject PROPOSAL_ID`, \
`silence INCIDENT_ID|FINGERPRINT DURATION [reason]`, `ask QUESTION`. Anything else is a question, \
e.g. \"how many pods are running in shop?\". Questions only read; actions run only after approval.";
pub const TOO_LONG: &str = "That is too long for a command or a question (2000 bytes at most).";
pub fn usage(form: &str) -> String {
    format!("I did not understand that command. Usage: {form}. Say \"help\" for every command.")
}

pub const NO_PROPOSAL: &str = "There is no proposal with that id.";
pub const CONFLICT: &str = "Others decided at the same moment; look at the incident message and try again if needed.";
pub const INTERNAL: &str = "Something went wrong on my side; it is logged. Please try again.";
pub fn approved(id: &str, by: &str) -> String {
    format!("Approved {id} (by {by}): it runs after a fresh policy check and dry run.")
}
pub fn needs_another(id: &str, by: &str) -> String {
    format!("Approval of {id} by {by} recorded; it needs a second approver.")
}
pub fn rejected(id: &str, by: &str) -> String {
    format!("Rejected {id} (by {by}); a rejection is final.")
}
pub fn not_open(id: &str, state: &str) -> String {
    format!("Proposal {id} cannot be decided: it is {state}.")
}

pub const SILENCE_OFF: &str =
    "Silences need [alertmanager] url in Mimi's configuration; ask an operator, or silence in Alertmanager.";
pub const SILENCE_NO_INCIDENT: &str = "I know no incident with that id that I can silence here.";
pub const SILENCE_NO_ALERT: &str = "I know no alert with that fingerprint that I can silence here.";
pub const SILENCE_NO_LABELS: &str = "That incident's alerts share no labels, so a silence would match too much.";
pub fn silence_refused(why: &str) -> String {
    format!("You cannot silence alerts here: {why}")
}
pub fn silenced(id: &str, until: &str, matchers: &str) -> String {
    format!("Silenced until {until} (silence {id}): {matchers}.")
}
pub fn silence_failed(why: &str) -> String {
    format!("Alertmanager did not create the silence: {why}")
}
pub fn silence_comment(who: &str, target: &str) -> String {
    format!("silenced from chat by {who} ({target})")
}
