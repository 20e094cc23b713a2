//! Matrix event contents: an outbox message as HTML with a plain-text body, its approval
//! instructions, and its relation (an edit is `m.replace`, a timeline reply is in the incident's
//! `m.thread` answering its parent with `m.in_reply_to`).
//!
//! The parts of [`Rendered`] are untrusted alert and cluster text: its `html` escapes every part
//! (A13), and here `@room` is defused and every event carries an empty `m.mentions`, which turns
//! off the legacy body-based mention rules, so alert text can never notify a whole room.

use matrix_sdk::ruma::OwnedEventId;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::relation::Thread;
use matrix_sdk::ruma::events::room::message::{Relation, ReplacementMetadata, RoomMessageEventContent};
use sha2::{Digest, Sha256};

use crate::notify::message::Rendered;
use crate::notify::render::escape_html;
use crate::notify::sink::Action;
use crate::strings::matrix as s;

/// The transaction id of an outbox row: derived from its idempotency key, so a resend after a
/// failure, a rate limit or a restart is the same event to the homeserver (B07).
pub fn transaction_id(idempotency_key: &str) -> String {
    let digest = Sha256::digest(idempotency_key.as_bytes());
    format!("mimi-{}", &hex::encode(digest)[..40])
}

/// Breaks `@room` so that text quoting it cannot be read as a room mention by older clients.
fn defuse(text: &str) -> String {
    text.replace("@room", "@\u{2060}room")
}

/// The plain body and the HTML of a message, with the Matrix way to decide its open proposals.
pub fn bodies(m: &Rendered) -> (String, String) {
    let mut text = m.text.trim_end().to_string();
    let mut html = m.html.clone();
    let open = m.buttons();
    if !open.is_empty() {
        let how = s::how_to_decide(&open);
        text.push_str("\n\n");
        text.push_str(&how);
        html.push_str(&format!("<p>{}</p>", escape_html(&how).replace('\n', "<br>")));
    }
    (defuse(&text), defuse(&html))
}

/// The content of one outbox message for `action`.
pub fn content(action: Action<'_>, m: &Rendered) -> Result<RoomMessageEventContent, String> {
    let (text, html) = bodies(m);
    let event = |id: &str| OwnedEventId::try_from(id).map_err(|_| format!("{id:?} is not a Matrix event id"));
    let content = match action {
        Action::Post => RoomMessageEventContent::text_html(text, html).add_mentions(Mentions::new()),
        Action::Edit { message } => RoomMessageEventContent::text_html(text, html)
            .add_mentions(Mentions::new())
            .make_replacement(ReplacementMetadata::new(event(message)?, Some(Mentions::new()))),
        Action::Reply { root, parent } => {
            let mut c = RoomMessageEventContent::notice_html(text, html).add_mentions(Mentions::new());
            c.relates_to = Some(Relation::Thread(thread(event(root)?, event(parent)?)));
            c
        }
    };
    Ok(content)
}

/// A thread relation: in `root`'s thread, answering `parent`.
pub fn thread(root: OwnedEventId, parent: OwnedEventId) -> Thread {
    if root == parent { Thread::plain(root, parent) } else { Thread::reply(root, parent) }
}

/// A plain-text answer (a command reply), escaped for HTML, in `root`'s thread answering `parent`.
pub fn answer(text: &str, root: OwnedEventId, parent: OwnedEventId) -> RoomMessageEventContent {
    let html = escape_html(text).replace('\n', "<br>");
    let mut c = RoomMessageEventContent::notice_html(defuse(text), defuse(&html)).add_mentions(Mentions::new());
    c.relates_to = Some(Relation::Thread(thread(root, parent)));
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(summary: &str) -> Rendered {
        crate::notify::message::sample("p-7", vec![summary.into()])
    }

    fn json(c: &RoomMessageEventContent) -> serde_json::Value {
        serde_json::to_value(c).unwrap()
    }

    #[test]
    fn alert_text_is_escaped_and_cannot_mention_the_room() {
        let m = message("<a href=\"https://evil\">ok</a> @room <b>x</b>");
        let c = json(&content(Action::Post, &m).unwrap());
        let html = c["formatted_body"].as_str().unwrap();
        assert!(html.contains("&lt;a href=&quot;https://evil&quot;&gt;ok&lt;/a&gt;"), "{html}");
        assert!(!html.contains("<a href=\"https://evil") && !html.contains("<b>x"));
        assert!(!c["body"].as_str().unwrap().contains("@room"));
        assert_eq!(c["m.mentions"], serde_json::json!({}), "empty intentional mentions");
        assert_eq!(c["format"], "org.matrix.custom.html");
    }

    #[test]
    fn open_proposals_carry_reaction_and_command_instructions() {
        let (text, html) = bodies(&message("s"));
        assert!(text.contains("✅") && text.contains("!mimi approve p-7") && text.contains("!mimi reject p-7"));
        assert!(html.contains("!mimi approve p-7"));
        let mut closed = message("s");
        closed.proposals[0].state = "approved".into();
        crate::notify::render::finish(&mut closed);
        assert!(!bodies(&closed).0.contains("!mimi approve"));
    }

    #[test]
    fn edits_replace_and_replies_go_in_the_thread() {
        let m = message("s");
        let edit = json(&content(Action::Edit { message: "$post:x.org" }, &m).unwrap());
        assert_eq!(edit["m.relates_to"]["rel_type"], "m.replace");
        assert_eq!(edit["m.relates_to"]["event_id"], "$post:x.org");
        assert!(edit["m.new_content"]["formatted_body"].as_str().unwrap().contains("KubePodCrashLooping"));
        let reply = json(&content(Action::Reply { root: "$post:x.org", parent: "$up:x.org" }, &m).unwrap());
        assert_eq!(reply["m.relates_to"]["rel_type"], "m.thread");
        assert_eq!(reply["m.relates_to"]["event_id"], "$post:x.org");
        assert_eq!(reply["m.relates_to"]["m.in_reply_to"]["event_id"], "$up:x.org");
        assert_eq!(reply["msgtype"], "m.notice");
        assert!(content(Action::Edit { message: "not an id" }, &m).is_err());
    }

    #[test]
    fn transaction_ids_are_stable_per_key() {
        assert_eq!(transaction_id("k1"), transaction_id("k1"));
        assert_ne!(transaction_id("k1"), transaction_id("k2"));
        assert!(transaction_id("k1").len() <= 64);
    }
}
