//! What must not change between a proposal and its execution (RELIABILITY C10).
//!
//! Not the resourceVersion: status updates change it every few seconds on a live workload, which
//! would block every action. The spec generation, replica count and images are what an approver
//! saw; the UID tells a replaced object from the original; schedulability is what a node action is
//! about.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub uid: String,
    pub generation: Option<i64>,
    pub replicas: Option<i32>,
    /// (container, image) pairs.
    pub images: Vec<(String, String)>,
    pub unschedulable: Option<bool>,
}

impl Snapshot {
    /// What differs in `now` from this snapshot, in words; `None` when nothing that matters did.
    pub fn changed_in(&self, now: &Snapshot) -> Option<String> {
        if self.uid != now.uid {
            return Some("it was deleted and recreated (new UID)".into());
        }
        if self.replicas != now.replicas {
            return Some(format!(
                "replicas changed ({} -> {})",
                self.replicas.unwrap_or_default(),
                now.replicas.unwrap_or_default()
            ));
        }
        if self.images != now.images {
            return Some("its images changed".into());
        }
        if self.unschedulable != now.unschedulable {
            return Some("its schedulability changed".into());
        }
        // Anything else in the spec (checked last: the specific reasons above say more).
        if self.generation != now.generation {
            return Some(format!(
                "its spec changed (generation {} -> {})",
                self.generation.unwrap_or_default(),
                now.generation.unwrap_or_default()
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c10_only_what_the_approver_saw_counts_as_a_change() {
        let base = Snapshot {
            uid: "u1".into(),
            generation: Some(3),
            replicas: Some(2),
            images: vec![("app".into(), "shop:1".into())],
            unschedulable: None,
        };
        assert_eq!(base.changed_in(&base.clone()), None);
        let cases: Vec<(Snapshot, &str)> = vec![
            (Snapshot { uid: "u2".into(), ..base.clone() }, "recreated"),
            (Snapshot { generation: Some(4), ..base.clone() }, "spec changed"),
            (Snapshot { replicas: Some(0), ..base.clone() }, "replicas changed (2 -> 0)"),
            (Snapshot { images: vec![("app".into(), "shop:2".into())], ..base.clone() }, "images changed"),
            (Snapshot { unschedulable: Some(true), ..base.clone() }, "schedulability"),
        ];
        for (now, expected) in cases {
            let what = base.changed_in(&now).unwrap();
            assert!(what.contains(expected), "{what:?} should say {expected:?}");
        }
    }
}
