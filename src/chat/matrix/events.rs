//! What an inbound room event means to Mimi (pure, table-tested): a decision by reaction, a command
//! for the shared command layer, or nothing.
//!
//! Only plain, original messages count: an edit (`m.replace`) is never a command or an approval
//! (RELIABILITY D05), notices (other bots) are ignored, and events that could not be decrypted never
//! reach this point (they arrive as `m.room.encrypted` and are only logged, D07). Who sent it and
//! in which room is checked by the caller against the configuration; nothing here trusts a display
//! name.

use crate::domain::approval::Choice;

/// The command prefix in rooms.
pub const PREFIX: &str = "!mimi";

/// The decision a reaction key stands for: ✅ approves, ❌ rejects (with or without the emoji
/// variation selector); anything else is not a decision.
pub fn reaction_choice(key: &str) -> Option<Choice> {
    match key.trim_end_matches('\u{FE0F}') {
        "✅" => Some(Choice::Approve),
        "❌" => Some(Choice::Reject),
        _ => None,
    }
}

/// What a message says to Mimi.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// The text after `!mimi` or after a mention of Mimi (empty: just the prefix, i.e. help).
    Command(String),
    /// Not addressed to Mimi.
    Nothing,
}

/// The facts of a message the classification needs.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub body: &'a str,
    /// `m.text` (not `m.notice`, `m.emote` or media).
    pub is_text: bool,
    /// It replaces an earlier event (`m.relates_to.rel_type = m.replace`).
    pub is_edit: bool,
    /// Mimi's user id is in the event's `m.mentions`.
    pub mentions_me: bool,
    /// Mimi's full user id, e.g. `@mimi:example.org`.
    pub me: &'a str,
}

/// Removes a rich-reply fallback (leading `> ` quote lines and the blank line after them).
fn strip_reply_fallback(body: &str) -> &str {
    if !body.starts_with("> ") {
        return body;
    }
    let mut rest = body;
    while let Some(line_end) = rest.find('\n') {
        if !rest.starts_with('>') {
            break;
        }
        rest = &rest[line_end + 1..];
    }
    if rest.starts_with('>') { "" } else { rest.trim_start_matches('\n') }
}

/// The text after a leading mention of Mimi (`@mimi:example.org`, `mimi:`, `Mimi,`), if any.
fn after_mention<'a>(text: &'a str, me: &str) -> Option<&'a str> {
    let localpart = me.trim_start_matches('@').split(':').next().unwrap_or_default();
    let first = text.split_whitespace().next()?;
    let word = first.trim_end_matches([':', ',']);
    // The bare name counts only as an address ("mimi: ...", "Mimi, ..."), not as a word in a sentence.
    let addressed = first.len() > word.len() && word.eq_ignore_ascii_case(localpart);
    let named = word == me || word.eq_ignore_ascii_case(&format!("@{localpart}")) || addressed;
    named.then(|| text[first.len()..].trim())
}

pub fn classify(m: &Message<'_>) -> Said {
    if m.is_edit || !m.is_text {
        return Said::Nothing;
    }
    let text = strip_reply_fallback(m.body).trim();
    let lower = text.get(..PREFIX.len()).map(str::to_ascii_lowercase);
    if lower.as_deref() == Some(PREFIX) {
        let rest = &text[PREFIX.len()..];
        if rest.is_empty() || rest.starts_with(char::is_whitespace) {
            return Said::Command(rest.trim().to_string());
        }
        return Said::Nothing;
    }
    if let Some(rest) = after_mention(text, m.me) {
        return Said::Command(rest.to_string());
    }
    if m.mentions_me {
        return Said::Command(text.to_string());
    }
    Said::Nothing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(body: &str, is_edit: bool, mentions_me: bool) -> Said {
        classify(&Message { body, is_text: true, is_edit, mentions_me, me: "@mimi:example.org" })
    }

    fn command(text: &str) -> Said {
        Said::Command(text.into())
    }

    #[test]
    fn the_classification_table() {
        let table: &[(&str, bool, bool, Said)] = &[
            ("!mimi approve p-1", false, false, command("approve p-1")),
            ("  !MIMI   incidents ", false, false, command("incidents")),
            ("!mimi", false, false, command("")),
            ("!mimiapprove p-1", false, false, Said::Nothing),
            ("approve p-1", false, false, Said::Nothing),
            ("!mimi approve p-1", true, false, Said::Nothing),
            ("@mimi:example.org how many pods in shop?", false, false, command("how many pods in shop?")),
            ("Mimi: any problem pods?", false, true, command("any problem pods?")),
            ("mimi, help", false, false, command("help")),
            ("mimi is great", false, false, Said::Nothing),
            ("what about hr?", false, true, command("what about hr?")),
            ("@mimi:evil.org approve p-1", false, false, Said::Nothing),
            ("> <@bob:x.org> something\n> more\n\n!mimi pods", false, false, command("pods")),
            ("> only a quote", false, false, Said::Nothing),
        ];
        for (body, edit, mentions, want) in table {
            assert_eq!(said(body, *edit, *mentions), *want, "{body:?}");
        }
        let notice =
            Message { body: "!mimi approve p-1", is_text: false, is_edit: false, mentions_me: false, me: "@m:x" };
        assert_eq!(classify(&notice), Said::Nothing);
    }

    #[test]
    fn only_check_and_cross_marks_decide() {
        assert_eq!(reaction_choice("✅"), Some(Choice::Approve));
        assert_eq!(reaction_choice("✅\u{FE0F}"), Some(Choice::Approve));
        assert_eq!(reaction_choice("❌"), Some(Choice::Reject));
        for other in ["👍", "✔️", "approve", "", "✅✅"] {
            assert_eq!(reaction_choice(other), None, "{other:?}");
        }
    }
}
