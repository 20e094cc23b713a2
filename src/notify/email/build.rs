//! Building one email from an outbox message: `[FIRING] KubePodCrashLooping shop/checkout` as the
//! subject, multipart/alternative text + HTML (every part escaped), a Message-ID derived from the
//! idempotency key (a resend after a crash carries the same id, so mail clients show it once), and
//! `In-Reply-To` / `References` for timeline replies.

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use sha2::{Digest, Sha256};

use crate::notify::sink::{Action, Outgoing};

/// The Message-ID of the message with this idempotency key.
pub fn message_id(from: &Mailbox, key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("<mimi.{}@{}>", hex::encode(&digest[..16]), from.email.domain())
}

/// The email and its Message-ID; `Err` names what is wrong with it (never retried).
pub fn build_message(from: &Mailbox, msg: &Outgoing<'_>) -> Result<(Message, String), String> {
    let id = message_id(from, msg.idempotency_key);
    let subject: String = msg.message.title.chars().filter(|c| !c.is_control()).take(200).collect();
    let mut b = Message::builder().from(from.clone()).subject(subject).message_id(Some(id.clone()));
    let mut recipients = 0;
    for addr in msg.target.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        let mailbox: Mailbox = addr.parse().map_err(|e| format!("{addr:?} is not an email address ({e})"))?;
        b = b.to(mailbox);
        recipients += 1;
    }
    if recipients == 0 {
        return Err("no recipients".into());
    }
    match msg.action {
        Action::Post => {}
        Action::Reply { root, parent } => {
            b = b.in_reply_to(parent.to_string()).references(if root == parent {
                root.to_string()
            } else {
                format!("{root} {parent}")
            });
        }
        Action::Edit { .. } => return Err("email cannot edit a sent message".into()),
    }
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">{}</body></html>",
        msg.message.html
    );
    let email = b
        .multipart(MultiPart::alternative_plain_html(msg.message.text.clone(), html))
        .map_err(|e| format!("the email could not be built: {e}"))?;
    Ok((email, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::message::Rendered;

    #[test]
    fn a_reply_is_threaded_and_ids_are_stable() {
        let from: Mailbox = "Mimi <mimi@example.com>".parse().unwrap();
        let mut m = Rendered { title: "[FIRING] X a/b\r\nBcc: evil@x".into(), ..Rendered::default() };
        crate::notify::render::finish(&mut m);
        let out = Outgoing {
            idempotency_key: "email|a@x.org|incident|1|reply|2",
            target: "a@x.org, Bob <b@x.org>",
            action: Action::Reply { root: "<r@x>", parent: "<r@x>" },
            message: &m,
            original_at: jiff::Timestamp::UNIX_EPOCH,
            attempt: 1,
        };
        let (email, id) = build_message(&from, &out).unwrap();
        assert_eq!(id, message_id(&from, out.idempotency_key));
        let raw = String::from_utf8(email.formatted()).unwrap();
        assert!(raw.contains("In-Reply-To: <r@x>"), "{raw}");
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(!headers.contains("\r\nBcc:"), "no header injection: {headers}");
        assert!(raw.contains("multipart/alternative"));
        let bad = Outgoing { target: "not an address", ..out };
        assert!(build_message(&from, &bad).is_err());
    }
}
