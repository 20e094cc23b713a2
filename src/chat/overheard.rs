//! Thread messages that do not address Mimi. People talk to each other in an incident's thread, so
//! Mimi answers such a message only when it is plainly a read question, and only in its own
//! threads:
//!
//! - the message ends with "?" and asks something Mimi looks up (pods, problem pods, a workload,
//!   events, logs, nodes, incidents, history, runbooks), or is a follow-up ("what about hr?") in a
//!   thread where Mimi already answered a question;
//! - the thread is the thread of an incident's message, or one where Mimi answered a question.
//!
//! Commands (approve, reject, silence), requests to act, secrets, "help" and anything Mimi does not
//! understand get an answer only when Mimi is addressed: an overheard "should we restart it?" or
//! "approve?" gets no reply and does nothing.

use crate::qa::intent::{Intent, parse};
use crate::store::Store;

/// Words that name no workload ("is it ok?", "is that healthy?").
const NOT_NAMES: &[&str] = &["it", "this", "that", "everything", "all", "ok", "up", "there", "he", "she", "they"];

/// The question in an overheard thread message, if Mimi should answer it.
pub fn question(text: &str, thread_has_context: bool) -> Option<String> {
    let text = text.trim();
    if !text.ends_with('?') {
        return None;
    }
    let answer = match parse(text) {
        Intent::FollowUp { .. } => thread_has_context,
        Intent::Help | Intent::Unknown | Intent::ActionRequest { .. } | Intent::Secret => false,
        Intent::Workload { name, .. } => !NOT_NAMES.contains(&name.to_ascii_lowercase().as_str()),
        _ => true,
    };
    answer.then(|| text.to_string())
}

/// The question to answer in an overheard thread message, if any: `sink`/`target`/`root` name the
/// platform, the channel or room and the thread's first message; `thread_key` is the thread as the
/// question engine knows it (for follow-ups). Not Mimi's thread, or unreadable: nothing.
pub async fn heard(
    store: &Store,
    text: &str,
    sink: &str,
    target: &str,
    root: &str,
    thread_key: &str,
) -> Option<String> {
    if !text.trim().ends_with('?') {
        return None;
    }
    let context = store.qa_context(thread_key).await.ok().flatten().is_some();
    let mimis = context || store.incident_of_message(sink, target, root).await.ok().flatten().is_some();
    if !mimis {
        return None;
    }
    question(text, context)
}

#[cfg(test)]
mod tests {
    use super::question;

    #[test]
    fn only_plain_read_questions_are_answered_unaddressed() {
        let answered = [
            "how many pods are running in shop?",
            "any problem pods?",
            "what's wrong in namespace shop?",
            "status of deployment checkout?",
            "logs of checkout-6d8f7c9b4-q2x7m?",
            "node status?",
            "what did we do last time KubePodCrashLooping fired?",
            "  open incidents?  ",
        ];
        for q in answered {
            assert_eq!(question(q, false).as_deref(), Some(q.trim()), "{q:?}");
        }
        let left_alone = [
            "looking at it now",
            "how many pods are running in shop",
            "is it ok now?",
            "is that healthy?",
            "should we restart checkout?",
            "can you delete that pod?",
            "approve?",
            "what is the db password?",
            "help?",
            "any idea?",
            "thanks!",
            "lunch?",
            "what about hr?",
        ];
        for q in left_alone {
            assert_eq!(question(q, false), None, "{q:?}");
        }
        assert_eq!(question("what about hr?", true).as_deref(), Some("what about hr?"), "a follow-up with context");
    }
}
