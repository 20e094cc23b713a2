//! `!mimi ...` and mentions: parsed and run by the shared chat command layer (`chat::command`,
//! `chat::respond`), answered in the thread the command was given in.
//!
//! The person is the event's sender (a full user id, never a display name, D03); the place is the
//! room, whose `[[matrix.rooms]]` entry gives the namespaces questions may see. Approvals and
//! rejections by command also need the room's power-level threshold, when it has one.

use matrix_sdk::Room;
use matrix_sdk::ruma::{OwnedEventId, OwnedUserId};

use super::{Bot, approve};
use crate::chat::{Caller, Command, overheard};
use crate::domain::approval::Choice;
use crate::domain::approver::{Approver, ApproverId, Platform};
use crate::qa::Scope;

pub(super) async fn run(
    bot: Bot,
    room: Room,
    sender: OwnedUserId,
    root: OwnedEventId,
    parent: OwnedEventId,
    text: String,
) {
    let Ok(id) = ApproverId::matrix(sender.as_str()) else { return };
    let person = Approver::new(id);
    let room_id = room.room_id().to_string();
    let Some(config) = bot.settings.matrix.room(&room_id) else { return };
    let answer = match crate::chat::parse(&text) {
        Err(usage) => usage.to_string(),
        Ok(command) => {
            let deciding = match &command {
                Command::Approve(p) => Some((p.as_str().to_string(), Choice::Approve)),
                Command::Reject(p) => Some((p.as_str().to_string(), Choice::Reject)),
                _ => None,
            };
            let gate = match &deciding {
                Some((proposal, choice)) => approve::power_gate(&bot, &room, proposal, &person, *choice).await,
                None => None,
            };
            match gate {
                Some(refusal) => refusal,
                None => {
                    let scope = match &config.namespaces {
                        Some(list) => Scope::only(list.iter().cloned()),
                        None => Scope::all(),
                    };
                    let thread = format!("matrix:{room_id}:{root}");
                    let caller = Caller {
                        person: &person,
                        platform: Platform::Matrix,
                        channel: &room_id,
                        scope: &scope,
                        thread: Some(&thread),
                    };
                    bot.responder.respond(command, &caller).await.text
                }
            }
        }
    };
    if answer.trim().is_empty() {
        return;
    }
    approve::say(&room, &answer, root, parent).await;
}

/// A thread message that does not address Mimi: answered only when it is plainly a read question
/// in Mimi's thread (an incident's, or one where it answered before).
pub(super) async fn overheard(
    bot: Bot,
    room: Room,
    sender: OwnedUserId,
    root: OwnedEventId,
    parent: OwnedEventId,
    text: String,
) {
    let room_id = room.room_id().to_string();
    let thread = format!("matrix:{room_id}:{root}");
    if let Some(question) = overheard::heard(&bot.store, &text, "matrix", &room_id, root.as_str(), &thread).await {
        run(bot, room, sender, root, parent, format!("ask {question}")).await;
    }
}
