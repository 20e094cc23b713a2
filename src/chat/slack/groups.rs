//! Slack user groups named in `[[policy.approvers]] groups`: which of a channel's groups a person
//! is in, from `usergroups.users.list`, cached for a minute. A lookup that fails counts as "in no
//! group" (fails closed: the person can still approve by user id).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::client::Client;
use crate::config::ApproverSettings;
use crate::domain::approver::Platform;

const TTL: Duration = Duration::from_secs(60);

pub(super) struct UserGroups {
    /// Channel -> the group ids its approver entries name.
    by_channel: HashMap<String, BTreeSet<String>>,
    client: Client,
    cache: Mutex<HashMap<String, (Instant, BTreeSet<String>)>>,
}

impl UserGroups {
    pub(super) fn new(approvers: &[ApproverSettings], client: Client) -> Self {
        let mut by_channel: HashMap<String, BTreeSet<String>> = HashMap::new();
        for a in approvers.iter().filter(|a| a.platform == Platform::Slack && !a.groups.is_empty()) {
            if let Some(channel) = &a.channel {
                by_channel.entry(channel.clone()).or_default().extend(a.groups.iter().cloned());
            }
        }
        UserGroups { by_channel, client, cache: Mutex::new(HashMap::new()) }
    }

    /// The groups of `channel`'s approver entries that `user` is a member of.
    pub(super) async fn of(&self, user: &str, channel: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for group in self.by_channel.get(channel).into_iter().flatten() {
            if self.members(group).await.contains(user) {
                found.insert(group.clone());
            }
        }
        found
    }

    async fn members(&self, group: &str) -> BTreeSet<String> {
        if let Some((at, members)) = self.cache.lock().expect("groups cache").get(group)
            && at.elapsed() < TTL
        {
            return members.clone();
        }
        match self.client.usergroup_members(group).await {
            Ok(users) => {
                let members: BTreeSet<String> = users.into_iter().collect();
                self.cache.lock().expect("groups cache").insert(group.to_string(), (Instant::now(), members.clone()));
                members
            }
            Err(e) => {
                tracing::warn!(error = %e, group, "failed to read a Slack user group's members");
                BTreeSet::new()
            }
        }
    }
}
