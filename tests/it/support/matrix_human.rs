//! A person in Matrix, driven by matrix-sdk: logs in to the test Synapse, creates rooms (encrypted
//! or not), types messages, edits them, reacts, and reads what Mimi posted (decrypted).

use std::time::Duration;

use matrix_sdk::config::SyncSettings;
use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::api::client::room::create_room::v3::{Request as CreateRoom, RoomPreset};
use matrix_sdk::ruma::events::InitialStateEvent;
use matrix_sdk::ruma::events::reaction::ReactionEventContent;
use matrix_sdk::ruma::events::relation::Annotation;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::events::room::message::{ReplacementMetadata, RoomMessageEventContent};
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, UserId};
use matrix_sdk::{Client, Room};
use serde_json::Value;
use tempfile::TempDir;

use super::synapse::{Synapse, User};
use super::wait_until;

pub struct Human {
    pub client: Client,
    _dir: TempDir,
    sync: tokio::task::JoinHandle<()>,
}

impl Human {
    pub async fn login(synapse: &Synapse, user: &User) -> Human {
        mimi::tls::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let client =
            Client::builder().homeserver_url(&synapse.url).sqlite_store(dir.path(), None).build().await.unwrap();
        client.matrix_auth().login_username(&user.user_id, &user.password).send().await.unwrap();
        client.sync_once(SyncSettings::default()).await.unwrap();
        let c = client.clone();
        let sync = tokio::spawn(async move {
            let _ = c.sync(SyncSettings::default().timeout(Duration::from_secs(1))).await;
        });
        Human { client, _dir: dir, sync }
    }

    /// A private room inviting `invite`, optionally end-to-end encrypted.
    pub async fn create_room(&self, invite: &[&str], encrypted: bool) -> OwnedRoomId {
        let mut req = CreateRoom::new();
        req.preset = Some(RoomPreset::PrivateChat);
        req.invite = invite.iter().map(|u| OwnedUserId::try_from(*u).unwrap()).collect();
        if encrypted {
            let content = RoomEncryptionEventContent::with_recommended_defaults();
            req.initial_state = vec![InitialStateEvent::with_empty_state_key(content).to_raw_any()];
        }
        self.client.create_room(req).await.unwrap().room_id().to_owned()
    }

    pub async fn room(&self, id: &RoomId) -> Room {
        let mut found = None;
        wait_until(Duration::from_secs(20), "the room in the human's sync", || {
            found = self.client.get_room(id);
            let ok = found.is_some();
            async move { ok }
        })
        .await;
        found.unwrap()
    }

    /// Waits until `user`'s membership in `room` is `state`.
    pub async fn wait_membership(&self, room: &RoomId, user: &str, state: MembershipState) {
        let room = self.room(room).await;
        let user = UserId::parse(user).unwrap();
        wait_until(Duration::from_secs(60), &format!("{user} to be {state} in the room"), || {
            let (room, user, state) = (room.clone(), user.clone(), state.clone());
            async move {
                let _ = room.sync_members().await;
                room.get_member_no_sync(&user).await.ok().flatten().is_some_and(|m| *m.membership() == state)
            }
        })
        .await;
    }

    pub async fn say(&self, room: &RoomId, text: &str) -> OwnedEventId {
        let room = self.room(room).await;
        room.send(RoomMessageEventContent::text_plain(text)).await.unwrap().response.event_id
    }

    /// Edits `original` to say `text` (`m.replace`).
    pub async fn edit(&self, room: &RoomId, original: &OwnedEventId, text: &str) {
        let room = self.room(room).await;
        let content = RoomMessageEventContent::text_plain(text)
            .make_replacement(ReplacementMetadata::new(original.clone(), None));
        room.send(content).await.unwrap();
    }

    pub async fn react(&self, room: &RoomId, on: &str, key: &str) {
        let room = self.room(room).await;
        let on = OwnedEventId::try_from(on).unwrap();
        room.send(ReactionEventContent::new(Annotation::new(on, key.into()))).await.unwrap();
    }

    /// The room's latest events (decrypted where the human can), as JSON, newest first.
    pub async fn events(&self, room: &RoomId) -> Vec<Value> {
        let room = self.room(room).await;
        let mut opts = MessagesOptions::backward();
        opts.limit = 100u32.into();
        let messages = room.messages(opts).await.unwrap();
        messages.chunk.iter().filter_map(|e| e.raw().deserialize_as::<Value>().ok()).collect()
    }

    /// Events sent by `sender` of `kind` (e.g. `m.room.message`), newest first.
    pub async fn events_from(&self, room: &RoomId, sender: &str, kind: &str) -> Vec<Value> {
        self.events(room).await.into_iter().filter(|e| e["sender"] == sender && e["type"] == kind).collect()
    }
}

impl Drop for Human {
    fn drop(&mut self) {
        self.sync.abort();
    }
}
