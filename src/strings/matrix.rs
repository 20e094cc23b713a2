//! What Mimi says in Matrix rooms, and what `mimi check` says about Matrix.

/// The approval instructions under an incident message with open proposals.
pub fn how_to_decide(open: &[&str]) -> String {
    let commands: Vec<String> = open.iter().map(|id| format!("!mimi approve {id} / !mimi reject {id}")).collect();
    if open.len() == 1 {
        format!("To decide: react to this message with ✅ to approve or ❌ to reject, or send {}.", commands[0])
    } else {
        format!("To decide, send one of: {}. (Reactions are ambiguous with several proposals.)", commands.join("; "))
    }
}

pub const SEVERAL_PROPOSALS: &str = "This message has several open proposals, so a reaction cannot say which one: send !mimi approve ID or !mimi reject ID.";
pub fn refused(why: &str) -> String {
    format!("Not accepted: {why}.")
}
pub fn power_level(needed: i64) -> String {
    format!("approvals in this room need power level {needed} or more")
}

/// `mimi check`.
pub mod check {
    pub const SINK_MATRIX: &str = "sink matrix";
    pub const MATRIX_OFF: &str = "no [matrix] homeserver_url: no Matrix rooms";

    pub fn matrix(url: &str, user: &str, login: &str, rooms: &[String], encrypted_store: bool) -> String {
        let rooms =
            if rooms.is_empty() { "no rooms ([[matrix.rooms]]): it joins none".to_string() } else { rooms.join(", ") };
        let store = if encrypted_store { "encrypted store" } else { "store not encrypted (matrix.store_passphrase)" };
        format!("{user} on {url} ({login}; {store}); rooms: {rooms}")
    }

    pub fn room(id: &str, namespaces: Option<&[String]>, power: Option<i64>) -> String {
        let scope = match namespaces {
            None => "all namespaces".to_string(),
            Some([]) => "no namespaces".to_string(),
            Some(ns) => ns.join("+"),
        };
        match power {
            Some(p) => format!("{id} [{scope}; approvers need power {p}]"),
            None => format!("{id} [{scope}]"),
        }
    }
}
