//! Decisions from Matrix: a ✅ / ❌ reaction on an incident message decides the open proposal that
//! message carries; `!mimi approve ID` goes through the command layer to the same engine entry.
//!
//! The shared rules decide (`chat::Responder::decide` -> `engine::decide_proposal`: configured
//! approvers by full user id, the room the proposal was posted in, single use, expiry, two-person,
//! reject is final) and audit refusals. The adapter adds only the room's optional power-level
//! threshold. A reaction on any event that is not an incident message with an open proposal is
//! ignored, and so is a non-approver's reaction (audited, not answered: anyone can react with any
//! emoji, D04). A successful decision is told by the outbox (the message is edited, its thread says
//! who decided), so only refusals are answered here.

use matrix_sdk::Room;
use matrix_sdk::ruma::events::room::power_levels::UserPowerLevel;
use matrix_sdk::ruma::{OwnedEventId, OwnedUserId, UserId};
use serde_json::json;

use super::{Bot, render};
use crate::domain::approval::Choice;
use crate::domain::approver::{Approver, ApproverId, MessageRef, Origin, Platform};
use crate::store::NewEvent;
use crate::strings::matrix as s;

pub(super) async fn by_reaction(bot: Bot, room: Room, sender: OwnedUserId, on: OwnedEventId, choice: Choice) {
    let Ok(id) = ApproverId::matrix(sender.as_str()) else { return };
    let person = Approver::new(id);
    let m = MessageRef { platform: Platform::Matrix, channel: room.room_id().to_string(), message: on.to_string() };
    let open = match bot.store.open_proposals_on("matrix", &m).await {
        Ok(open) => open,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "matrix: could not look up the proposals of a message");
            return;
        }
    };
    let origin = Origin::Message(m);
    let answer = match open.as_slice() {
        [] => return,
        [proposal] => {
            let quiet = bot.settings.policy.approver_rules().check(&person, &origin).is_err();
            let refusal = match power_gate(&bot, &room, proposal, &person, choice).await {
                Some(refusal) => Some(refusal),
                None => {
                    let reply = bot.responder.decide(proposal, &person, &origin, choice).await;
                    reply.private.then_some(reply.text)
                }
            };
            match refusal {
                Some(text) if !quiet => text,
                _ => return,
            }
        }
        _ => s::SEVERAL_PROPOSALS.to_string(),
    };
    say(&room, &answer, on.clone(), on).await;
}

/// The room's power-level threshold for approvers: the refusal (audited) when `person` is below it.
pub(super) async fn power_gate(
    bot: &Bot,
    room: &Room,
    proposal: &str,
    person: &Approver,
    choice: Choice,
) -> Option<String> {
    let needed = bot.settings.matrix.room(room.room_id().as_str())?.approver_power_level?;
    let user = UserId::parse(person.id.user()).ok()?;
    let level = match room.get_member_no_sync(&user).await {
        Ok(Some(member)) => member.power_level(),
        _ => UserPowerLevel::Int(0u32.into()),
    };
    if let UserPowerLevel::Int(n) = level
        && i64::from(n) < needed
    {
        let why = s::power_level(needed);
        audit_refusal(bot, proposal, person, choice, &why).await;
        return Some(s::refused(&why));
    }
    None
}

async fn audit_refusal(bot: &Bot, proposal: &str, person: &Approver, choice: Choice, why: &str) {
    let Ok(Some(row)) = bot.store.proposal(proposal).await else { return };
    let detail = json!({"proposal": proposal, "choice": choice, "rule": "power_level", "refusal": why});
    let event = NewEvent::new(row.incident_id, "decision_refused", &person.id.to_string(), detail);
    if let Err(e) = bot.store.append_events(&[event]).await {
        tracing::error!(error = format!("{e:#}"), "matrix: could not audit a refusal");
    }
}

/// Posts a short answer in `root`'s thread, answering `parent`.
pub(super) async fn say(room: &Room, text: &str, root: OwnedEventId, parent: OwnedEventId) {
    if let Err(e) = room.send(render::answer(text, root, parent)).await {
        tracing::warn!(room = %room.room_id(), error = %e, "matrix: could not answer");
    }
}
