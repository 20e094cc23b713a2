//! Event handlers: invites, reactions, messages, and events that could not be decrypted.
//!
//! Every handler first checks the room is one Mimi serves and the sender is not Mimi itself, then
//! hands slow work (the store, the engine, questions) to a task so the sync loop never waits.

use std::time::Duration;

use matrix_sdk::event_handler::Ctx;
use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::events::room::encrypted::OriginalSyncRoomEncryptedEvent;
use matrix_sdk::ruma::events::room::member::{MembershipState, StrippedRoomMemberEvent};
use matrix_sdk::ruma::events::room::message::{MessageType, OriginalSyncRoomMessageEvent, Relation};
use matrix_sdk::{Client, Room, RoomState};

use super::events::{self, Message, Said};
use super::{Bot, approve, commands};

pub(super) fn register(client: &Client, bot: Bot) {
    client.add_event_handler_context(bot);
    client.add_event_handler(on_invite);
    client.add_event_handler(on_reaction);
    client.add_event_handler(on_message);
    client.add_event_handler(on_undecryptable);
}

fn serves(bot: &Bot, room: &Room) -> bool {
    bot.settings.matrix.room(room.room_id().as_str()).is_some()
}

/// At start: answers invites that came while Mimi was away, and leaves rooms it no longer serves.
pub(super) async fn tidy_rooms(client: &Client, bot: &Bot) {
    for room in client.invited_rooms() {
        answer_invite(room, bot.clone()).await;
    }
    for room in client.joined_rooms().into_iter().filter(|r| !serves(bot, r)) {
        tracing::info!(room = %room.room_id(), "matrix: leaving a room Mimi does not serve");
        if let Err(e) = room.leave().await {
            tracing::warn!(room = %room.room_id(), error = %e, "matrix: could not leave a room");
        }
    }
}

async fn on_invite(ev: StrippedRoomMemberEvent, room: Room, client: Client, Ctx(bot): Ctx<Bot>) {
    if ev.content.membership != MembershipState::Invite || client.user_id() != Some(&*ev.state_key) {
        return;
    }
    tokio::spawn(answer_invite(room, bot));
}

/// Joins a configured room; declines any other invite without posting anything (D06).
async fn answer_invite(room: Room, bot: Bot) {
    if room.state() != RoomState::Invited {
        return;
    }
    if !serves(&bot, &room) {
        tracing::info!(room = %room.room_id(), "matrix: invited to a room Mimi does not serve; declining");
        if let Err(e) = room.leave().await {
            tracing::warn!(room = %room.room_id(), error = %e, "matrix: could not decline an invite");
        }
        return;
    }
    // Synapse may not have finished processing the invite when it is synced: retry a little.
    let mut wait = Duration::from_millis(500);
    for attempt in 1..=6 {
        match room.join().await {
            Ok(()) => {
                tracing::info!(room = %room.room_id(), "matrix: joined a configured room");
                return;
            }
            Err(e) => tracing::warn!(room = %room.room_id(), attempt, error = %e, "matrix: could not join yet"),
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
}

async fn on_reaction(ev: OriginalSyncReactionEvent, room: Room, client: Client, Ctx(bot): Ctx<Bot>) {
    if !serves(&bot, &room) || client.user_id() == Some(&*ev.sender) {
        return;
    }
    let Some(choice) = events::reaction_choice(&ev.content.relates_to.key) else { return };
    tokio::spawn(approve::by_reaction(bot, room, ev.sender, ev.content.relates_to.event_id, choice));
}

async fn on_message(ev: OriginalSyncRoomMessageEvent, room: Room, client: Client, Ctx(bot): Ctx<Bot>) {
    let Some(me) = client.user_id() else { return };
    if !serves(&bot, &room) || me == ev.sender {
        return;
    }
    let c = &ev.content;
    let message = Message {
        body: c.body(),
        is_text: matches!(c.msgtype, MessageType::Text(_)),
        is_edit: matches!(c.relates_to, Some(Relation::Replacement(_))),
        mentions_me: c.mentions.as_ref().is_some_and(|m| m.user_ids.contains(me)),
        me: me.as_str(),
    };
    // Answer in the thread the command was given in, or start one on it.
    let (root, in_thread) = match &c.relates_to {
        Some(Relation::Thread(t)) => (t.event_id.clone(), true),
        _ => (ev.event_id.clone(), false),
    };
    match events::classify(&message) {
        Said::Command(text) => {
            tokio::spawn(commands::run(bot, room, ev.sender, root, ev.event_id, text));
        }
        // A thread message not addressed to Mimi: perhaps a plain read question (`chat::overheard`).
        Said::Nothing if in_thread && message.is_text && !message.is_edit => {
            let text = c.body().to_string();
            tokio::spawn(commands::overheard(bot, room, ev.sender, root, ev.event_id, text));
        }
        Said::Nothing => {}
    }
}

/// An event Mimi could not decrypt stays `m.room.encrypted`: whatever it says, it is never a
/// command or an approval (D07).
async fn on_undecryptable(ev: OriginalSyncRoomEncryptedEvent, room: Room) {
    tracing::warn!(room = %room.room_id(), sender = %ev.sender, event = %ev.event_id, "matrix: could not decrypt an event; ignored");
}
