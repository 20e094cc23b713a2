//! Kubernetes names, validated before they reach any API call (RELIABILITY E05).
//!
//! Whatever proposes an action — runbook rules, an LLM, a chat command — its names arrive as text.
//! They become [`ObjectName`] / [`NamespaceName`] here or nowhere: `--server=https://x`, `a;rm -rf /`,
//! `$(id)`, `../` and 300-character names are unrepresentable.

use std::fmt;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a {what} name is empty")]
    Empty { what: &'static str },
    #[error("a {what} name may have at most {max} characters, this one has {len}")]
    TooLong { what: &'static str, max: usize, len: usize },
    #[error("{what} name {shown:?} is not valid: {rule}")]
    Invalid { what: &'static str, shown: String, rule: &'static str },
}

/// An object name (RFC 1123 subdomain: lowercase letters, digits, '-' and '.', at most 253
/// characters, starting and ending with a letter or digit). Pods, workloads and nodes use it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ObjectName(String);

/// A namespace name (RFC 1123 label: lowercase letters, digits and '-', at most 63 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct NamespaceName(String);

impl ObjectName {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        check(text, "object", 253, true).map(|()| ObjectName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl NamespaceName {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        check(text, "namespace", 63, false).map(|()| NamespaceName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for NamespaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ObjectName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ObjectName::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl<'de> serde::Deserialize<'de> for NamespaceName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NamespaceName::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn check(text: &str, what: &'static str, max: usize, dots: bool) -> Result<(), NameError> {
    let shown = || text.chars().take(40).collect::<String>();
    if text.is_empty() {
        return Err(NameError::Empty { what });
    }
    if text.len() > max {
        return Err(NameError::TooLong { what, max, len: text.chars().count() });
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (dots && c == '.');
    if !text.chars().all(allowed) {
        let rule = if dots {
            "only lowercase letters, digits, '-' and '.' are allowed"
        } else {
            "only lowercase letters, digits and '-' are allowed"
        };
        return Err(NameError::Invalid { what, shown: shown(), rule });
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !alnum(text.chars().next()) || !alnum(text.chars().last()) {
        return Err(NameError::Invalid { what, shown: shown(), rule: "it must start and end with a letter or digit" });
    }
    // Each dot-separated part of a subdomain is itself a label.
    if dots && text.split('.').any(|part| !alnum(part.chars().next()) || !alnum(part.chars().last())) {
        return Err(NameError::Invalid {
            what,
            shown: shown(),
            rule: "each part between dots must start and end with a letter or digit",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e05_hostile_names_are_refused_before_any_api_call() {
        let long = "a".repeat(300);
        let hostile = [
            "--server=https://x",
            "a;rm -rf /",
            "$(id)",
            "`id`",
            "../etc/passwd",
            "..",
            "a/b",
            "a b",
            "Checkout",
            "checkout-",
            "-checkout",
            "check..out",
            ".checkout",
            "checkout\n",
            "chéckout",
            "checkout\u{200b}",
            "",
            long.as_str(),
        ];
        for name in hostile {
            assert!(ObjectName::parse(name).is_err(), "object {name:?} must be refused");
            assert!(NamespaceName::parse(name).is_err(), "namespace {name:?} must be refused");
        }
    }

    #[test]
    fn real_names_are_accepted() {
        for name in ["checkout", "checkout-6d8f7c9b4-q2x7m", "worker-1", "ip-10-0-3-17.eu-west-1.compute.internal", "a"]
        {
            assert_eq!(ObjectName::parse(name).unwrap().as_str(), name);
        }
        for ns in ["shop", "kube-system", "team-42"] {
            assert_eq!(NamespaceName::parse(ns).unwrap().as_str(), ns);
        }
        assert!(NamespaceName::parse("a.b").is_err(), "namespaces have no dots");
        assert!(NamespaceName::parse(&"n".repeat(64)).is_err());
        assert!(ObjectName::parse(&"n".repeat(253)).is_ok());
    }

    #[test]
    fn errors_say_what_is_wrong_without_echoing_a_huge_input() {
        let err = ObjectName::parse(&format!("{}$", "x".repeat(200))).unwrap_err().to_string();
        assert!(err.contains("lowercase letters"), "{err}");
        assert!(err.len() < 200, "{err}");
        let err = ObjectName::parse(&"x".repeat(300)).unwrap_err().to_string();
        assert!(err.contains("at most 253"), "{err}");
    }
}
