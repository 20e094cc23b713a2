//! Chat commands, parsed strictly (pure): the text after `/mimi`, `@mimi` or `!mimi`.
//!
//! ```text
//! help | incidents [open|recent] | incident ID | pods [-n NS] | problems [-n NS] | logs POD [-n NS]
//! approve ID | reject ID | silence INCIDENT|FINGERPRINT DURATION [reason...] | ask QUESTION | <question>
//! ```
//!
//! A command word followed by anything it does not expect is a usage error, never a guess: names
//! become [`NamespaceName`] / [`ObjectName`] (so `--server=https://x`, `$(id)` or `../` cannot get
//! through, E05), proposal ids become [`ProposalId`], durations are bounded. Text that does not start
//! with a command word is a question for the question-answering engine, which only reads.

use std::fmt;
use std::time::Duration;

use crate::domain::approval::ProposalId;
use crate::domain::names::{NamespaceName, ObjectName};
use crate::strings::chat as s;

/// Longest command or question accepted, in bytes.
pub const MAX_INPUT: usize = 2000;
/// Shortest and longest silence.
pub const MIN_SILENCE: Duration = Duration::from_secs(60);
pub const MAX_SILENCE: Duration = Duration::from_secs(30 * 24 * 3600);
/// Longest silence reason kept, in characters.
pub const MAX_REASON: usize = 200;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Incidents {
        open_only: bool,
    },
    Incident {
        id: i64,
    },
    Pods {
        namespace: Option<NamespaceName>,
    },
    Problems {
        namespace: Option<NamespaceName>,
    },
    Logs {
        pod: ObjectName,
        namespace: Option<NamespaceName>,
    },
    Approve(ProposalId),
    Reject(ProposalId),
    Silence(SilenceRequest),
    /// A question in words (`ask ...`, or anything that is not a command).
    Ask(String),
}

/// `silence TARGET DURATION [reason]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilenceRequest {
    pub target: SilenceTarget,
    pub duration: Duration,
    /// Cleaned of control characters and clipped to [`MAX_REASON`].
    pub reason: Option<String>,
}

/// What a silence covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SilenceTarget {
    /// Every alert of incident N.
    Incident(i64),
    /// One alert, by its Alertmanager fingerprint (16 hex digits).
    Fingerprint(String),
}

/// Why a command was not understood; `Display` is the answer (usage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    TooLong,
    Usage(Verb),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooLong => f.write_str(s::TOO_LONG),
            ParseError::Usage(verb) => f.write_str(&usage(*verb)),
        }
    }
}

impl std::error::Error for ParseError {}

/// The command words, for usage messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Help,
    Incidents,
    Incident,
    Pods,
    Problems,
    Logs,
    Approve,
    Reject,
    Silence,
    Ask,
}

fn usage(verb: Verb) -> String {
    let form = match verb {
        Verb::Help => "help",
        Verb::Incidents => "incidents [open|recent]",
        Verb::Incident => "incident ID (a number, e.g. incident 42)",
        Verb::Pods => "pods [-n NAMESPACE]",
        Verb::Problems => "problems [-n NAMESPACE]",
        Verb::Logs => "logs POD [-n NAMESPACE]",
        Verb::Approve => "approve PROPOSAL_ID",
        Verb::Reject => "reject PROPOSAL_ID",
        Verb::Silence => "silence INCIDENT_ID|FINGERPRINT DURATION [reason] (DURATION like 30m, 2h, 1d; 1m to 30d)",
        Verb::Ask => "ask QUESTION",
    };
    s::usage(form)
}

/// Parses one command. Empty text is `help`.
pub fn parse(text: &str) -> Result<Command, ParseError> {
    if text.len() > MAX_INPUT {
        return Err(ParseError::TooLong);
    }
    let text = text.trim();
    let mut words = text.split_whitespace();
    let Some(first) = words.next() else { return Ok(Command::Help) };
    let args: Vec<&str> = words.collect();
    let verb = match first.to_ascii_lowercase().as_str() {
        "help" | "commands" => Verb::Help,
        "incidents" => Verb::Incidents,
        "incident" => Verb::Incident,
        "pods" => Verb::Pods,
        "problems" => Verb::Problems,
        "logs" => Verb::Logs,
        "approve" => Verb::Approve,
        "reject" => Verb::Reject,
        "silence" => Verb::Silence,
        "ask" => Verb::Ask,
        _ => return Ok(Command::Ask(text.to_string())),
    };
    let bad = || ParseError::Usage(verb);
    match verb {
        Verb::Help => args.is_empty().then_some(Command::Help).ok_or_else(bad),
        Verb::Incidents => match args.as_slice() {
            [] | ["open"] => Ok(Command::Incidents { open_only: true }),
            ["recent" | "all"] => Ok(Command::Incidents { open_only: false }),
            _ => Err(bad()),
        },
        Verb::Incident => match args.as_slice() {
            [id] => incident_id(id).map(|id| Command::Incident { id }).ok_or_else(bad),
            _ => Err(bad()),
        },
        Verb::Pods | Verb::Problems => {
            let (positional, namespace) = split_namespace(&args).ok_or_else(bad)?;
            if !positional.is_empty() {
                return Err(bad());
            }
            Ok(if verb == Verb::Pods { Command::Pods { namespace } } else { Command::Problems { namespace } })
        }
        Verb::Logs => {
            let (positional, namespace) = split_namespace(&args).ok_or_else(bad)?;
            match positional.as_slice() {
                [pod] => Ok(Command::Logs { pod: ObjectName::parse(pod).map_err(|_| bad())?, namespace }),
                _ => Err(bad()),
            }
        }
        Verb::Approve | Verb::Reject => match args.as_slice() {
            [id] => {
                let id = ProposalId::parse(id).ok_or_else(bad)?;
                Ok(if verb == Verb::Approve { Command::Approve(id) } else { Command::Reject(id) })
            }
            _ => Err(bad()),
        },
        Verb::Silence => silence(&args).ok_or_else(bad),
        Verb::Ask => {
            let question = text[first.len()..].trim();
            if question.is_empty() { Err(bad()) } else { Ok(Command::Ask(question.to_string())) }
        }
    }
}

/// Takes `-n NS`, `--namespace NS`, `--namespace=NS` or `in NS` out of `args`; `None` if a
/// namespace is malformed, missing or given twice.
fn split_namespace<'a>(args: &[&'a str]) -> Option<(Vec<&'a str>, Option<NamespaceName>)> {
    let mut positional = Vec::new();
    let mut namespace = None;
    let mut i = 0;
    while i < args.len() {
        let given = match args[i] {
            "-n" | "--namespace" | "in" => {
                i += 1;
                Some(*args.get(i)?)
            }
            arg => arg.strip_prefix("--namespace="),
        };
        match given {
            Some(ns) => {
                if namespace.is_some() {
                    return None;
                }
                namespace = Some(NamespaceName::parse(ns).ok()?);
            }
            None if args[i].starts_with('-') => return None,
            None => positional.push(args[i]),
        }
        i += 1;
    }
    Some((positional, namespace))
}

/// `42` or `#42`, positive.
fn incident_id(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('#').unwrap_or(text);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().filter(|id| *id > 0)
}

fn silence(args: &[&str]) -> Option<Command> {
    let (target, duration, reason) = match args {
        [target, duration, reason @ ..] => (*target, *duration, reason),
        _ => return None,
    };
    let target = match incident_id(target) {
        Some(id) => SilenceTarget::Incident(id),
        None if is_fingerprint(target) => SilenceTarget::Fingerprint(target.to_ascii_lowercase()),
        None => return None,
    };
    let duration = parse_duration(duration)?;
    let reason = clean_reason(&reason.join(" "));
    Some(Command::Silence(SilenceRequest { target, duration, reason }))
}

fn is_fingerprint(text: &str) -> bool {
    text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `90m`, `2h`, `1d`, `1h30m`; within [`MIN_SILENCE`]..=[`MAX_SILENCE`].
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut units_seen = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            if number.len() >= 6 {
                return None;
            }
            number.push(c);
            continue;
        }
        let unit = match c {
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return None,
        };
        // Each unit once, largest first: `1h30m`, not `30m1h` or `1h1h`.
        if number.is_empty() || units_seen.contains(c) || !units_seen.chars().all(|u| rank(u) > rank(c)) {
            return None;
        }
        units_seen.push(c);
        total = total.checked_add(number.parse::<u64>().ok()?.checked_mul(unit)?)?;
        number.clear();
    }
    if !number.is_empty() || units_seen.is_empty() {
        return None;
    }
    let d = Duration::from_secs(total);
    (MIN_SILENCE..=MAX_SILENCE).contains(&d).then_some(d)
}

fn rank(unit: char) -> u8 {
    match unit {
        'w' => 4,
        'd' => 3,
        'h' => 2,
        _ => 1,
    }
}

/// Control, zero-width and bidi characters out; at most [`MAX_REASON`] characters.
fn clean_reason(text: &str) -> Option<String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control() && !matches!(*c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'))
        .take(MAX_REASON)
        .collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
