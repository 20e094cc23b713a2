//! Containers that cannot start: their image cannot be pulled (notify; roll back when a rollout
//! just changed the image), or their configuration is missing (a ConfigMap or Secret: notify).

use super::Finding;
use super::context::{Ctx, Failing, WorkloadRef, distinct_pods};
use super::crash::caused_by_rollout;
use super::propose;
use crate::strings::rules as s;

const PULL_REASONS: &[&str] = &["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"];
const CONFIG_REASONS: &[&str] = &["CreateContainerConfigError", "CreateContainerError"];

/// Events that say why a pull failed (the kubelet's "Failed to pull image ...").
fn pull_events(ctx: &Ctx<'_>, failing: &[Failing<'_>]) -> Vec<String> {
    let mut facts = Vec::new();
    for f in failing {
        for e in ctx.events_about("Pod", &f.pod.name) {
            let relevant = e.message.contains("image") || e.reason.contains("Pull") || e.reason == "Failed";
            let line = s::event(&e.object, &e.reason, e.count, &e.message);
            if relevant && !facts.contains(&line) && facts.len() < 3 {
                facts.push(line);
            }
        }
    }
    facts
}

fn pull_facts(ctx: &Ctx<'_>, failing: &[Failing<'_>]) -> Vec<String> {
    let mut facts: Vec<String> = failing
        .iter()
        .take(3)
        .map(|f| {
            let reason = f.waiting_reason().unwrap_or_default();
            s::image_pull(
                &f.pod.namespace,
                &f.pod.name,
                &f.container.name,
                &f.container.image,
                reason,
                f.waiting_message(),
            )
        })
        .collect();
    facts.extend(pull_events(ctx, failing));
    facts
}

/// The image of `container` changed in the rollout, and the newest image is the failing one.
fn rollout_changed_image(rollout_changes: &[String], failing: &Failing<'_>) -> bool {
    let prefix = format!("image {}: ", failing.container.name);
    rollout_changes
        .iter()
        .filter_map(|c| c.strip_prefix(&prefix))
        .any(|change| change.rsplit(" -> ").next() == Some(failing.container.image.as_str()))
}

/// Image pulls failing in the newest revision, just rolled out with that image: roll back.
pub(crate) fn pull_after_rollout(ctx: &Ctx<'_>) -> Option<Finding> {
    let failing = ctx.waiting(PULL_REASONS);
    for (owner, list) in ctx.by_owner(&failing) {
        let Some(w) = owner else { continue };
        let Some(rollout) = caused_by_rollout(ctx, &w, &list) else { continue };
        if !list.iter().all(|f| rollout_changed_image(&rollout.changes, f)) {
            continue;
        }
        let mut facts = vec![s::rollout(rollout)];
        if let Some(ready) = rollout.from_ready.filter(|r| *r > 0) {
            facts.push(s::old_revision_serving(&rollout.from_revision, ready));
        }
        facts.extend(pull_facts(ctx, &list));
        let to = rollout.from_revision.parse().ok().filter(|n: &u64| *n > 0);
        let proposals = propose::rollback(&w, to, s::reason_rollback_image(&rollout.from_revision));
        return Some(Finding {
            diagnosis: s::diag_pull_after_rollout(&w, &list[0].container.image, &rollout.from_revision),
            facts,
            proposals: proposals.into_iter().collect(),
        });
    }
    None
}

/// Image pulls failing otherwise: notify only — only a person can fix the image or the registry.
pub(crate) fn image_pull(ctx: &Ctx<'_>) -> Option<Finding> {
    let failing = ctx.waiting(PULL_REASONS);
    let (owner, list) = ctx.by_owner(&failing).into_iter().next()?;
    let first = list[0];
    let subject = subject(owner.as_ref(), &first);
    let mut facts = pull_facts(ctx, &list);
    facts.push(s::notify_only_pull().to_string());
    Some(Finding {
        diagnosis: s::diag_image_pull(&subject, &first.container.image, first.waiting_reason().unwrap_or_default()),
        facts,
        proposals: Vec::new(),
    })
}

/// A container whose ConfigMap, Secret or key is missing: notify only.
pub(crate) fn container_config(ctx: &Ctx<'_>) -> Option<Finding> {
    let failing = ctx.waiting(CONFIG_REASONS);
    let (owner, list) = ctx.by_owner(&failing).into_iter().next()?;
    let first = list[0];
    let message = first
        .waiting_message()
        .map(str::to_string)
        .or_else(|| ctx.events_about("Pod", &first.pod.name).find(|e| e.reason == "Failed").map(|e| e.message.clone()));
    let mut facts: Vec<String> = list
        .iter()
        .take(3)
        .map(|f| {
            let reason = f.waiting_reason().unwrap_or_default();
            s::container_config(&f.pod.namespace, &f.pod.name, &f.container.name, reason, f.waiting_message())
        })
        .collect();
    for e in ctx.events_about("Pod", &first.pod.name).take(2) {
        facts.push(s::event(&e.object, &e.reason, e.count, &e.message));
    }
    facts.push(s::notify_only_config().to_string());
    let missing = message.as_deref().and_then(missing_object);
    Some(Finding {
        diagnosis: s::diag_container_config(&subject(owner.as_ref(), &first), distinct_pods(&list), missing.as_deref()),
        facts,
        proposals: Vec::new(),
    })
}

/// "configmap \"x\" not found" -> "ConfigMap x"; "secret \"y\" not found" -> "Secret y".
fn missing_object(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    for (word, kind) in [("configmap", "ConfigMap"), ("secret", "Secret")] {
        if let Some(i) = lower.find(&format!("{word} \"")) {
            let rest = &message[i + word.len() + 2..];
            let name = rest.split('"').next()?;
            return Some(format!("{kind} {name}"));
        }
    }
    None
}

fn subject(owner: Option<&WorkloadRef>, first: &Failing<'_>) -> String {
    owner.map_or_else(|| format!("Pod {}/{}", first.pod.namespace, first.pod.name), ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::missing_object;

    #[test]
    fn the_missing_configmap_or_secret_is_named_from_the_kubelet_message() {
        assert_eq!(
            missing_object("configmap \"payments-config\" not found").as_deref(),
            Some("ConfigMap payments-config")
        );
        assert_eq!(
            missing_object("couldn't find key DB_URL in Secret pay/db-creds: secret \"db-creds\" not found").as_deref(),
            Some("Secret db-creds")
        );
        assert_eq!(missing_object("something else"), None);
    }
}
