//! Secret redaction (DESIGN invariant 5, RELIABILITY E12).
//!
//! Everything Mimi reads from a cluster — logs, events, annotations — passes through [`redact`]
//! before it is stored, analysed, posted or logged. It replaces credentials with
//! `[REDACTED:<kind>]`: PEM blocks (also when cut in half by a log tail), cloud and chat tokens,
//! JWTs, `Authorization` headers, credentials in connection strings, and `password=`-style pairs.
//! It errs on the side of hiding: a redacted word that was harmless costs little.

use std::sync::LazyLock;

use regex::Regex;

/// What was redacted, by kind (for the `mimi_redactions_total` metric and the timeline).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactions {
    pub hits: Vec<(&'static str, usize)>,
}

impl Redactions {
    pub fn total(&self) -> usize {
        self.hits.iter().map(|(_, n)| n).sum()
    }

    fn add(&mut self, kind: &'static str, n: usize) {
        if n == 0 {
            return;
        }
        match self.hits.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, count)) => *count += n,
            None => self.hits.push((kind, n)),
        }
    }

    pub fn merge(&mut self, other: &Redactions) {
        for (kind, n) in &other.hits {
            self.add(kind, *n);
        }
    }
}

struct Rule {
    kind: &'static str,
    re: Regex,
    /// Keep capture group 1 (a key name, a scheme) and replace the rest of the match.
    keep_prefix: bool,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule =
        |kind, pattern: &str, keep_prefix| Rule { kind, re: Regex::new(pattern).expect("valid pattern"), keep_prefix };
    vec![
        // A whole PEM block, or a block cut off by the end of the text.
        rule("pem", r"-----BEGIN [A-Z0-9 ]+-----(?s:.*?)(?:-----END [A-Z0-9 ]+-----|\z)", false),
        rule(
            "authorization",
            r"(?i)(\bauthorization\s*[:=]\s*)(?:(?:bearer|basic|token|negotiate)\s+)?[^\s,;'\x22]+",
            true,
        ),
        rule("bearer", r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}", true),
        rule("url_credentials", r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/\s:@]+:[^@\s/]+@", true),
        rule("jwt", r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}", false),
        rule("aws_key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b", false),
        rule("slack_token", r"\bx(?:ox[abposre]|app)-[0-9A-Za-z-]{8,}", false),
        rule("github_token", r"\bgh[pousr]_[A-Za-z0-9]{30,}", false),
        rule("google_api_key", r"\bAIza[0-9A-Za-z_-]{30,}", false),
        rule("api_key", r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{10,}|\bsk-[A-Za-z0-9_-]{20,}", false),
        // key=value and "key": "value" pairs whose key names a secret.
        rule(
            "secret_pair",
            r#"(?i)(\b[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?)["']?\s*[=:]\s*["']?)[^\s"',;&}]+"#,
            true,
        ),
    ]
});

/// The tail of a PEM block whose beginning was cut off (a log tail starting inside a key).
static PEM_TAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\A(?s:.*?)-----END [A-Z0-9 ]*PRIVATE KEY-----").expect("valid pattern"));

/// Redacts `text`, returning the safe text and what was removed.
pub fn redact(text: &str) -> (String, Redactions) {
    let mut found = Redactions::default();
    let mut out = text.to_string();
    if let Some(m) = PEM_TAIL.find(&out)
        && !m.as_str().contains("-----BEGIN")
    {
        out.replace_range(m.range(), "[REDACTED:pem]");
        found.add("pem", 1);
    }
    for rule in RULES.iter() {
        let mut n = 0;
        let replaced = rule.re.replace_all(&out, |caps: &regex::Captures<'_>| {
            n += 1;
            let prefix = if rule.keep_prefix { caps.get(1).map_or("", |m| m.as_str()) } else { "" };
            format!("{prefix}[REDACTED:{}]", rule.kind)
        });
        if n > 0 {
            out = replaced.into_owned();
            found.add(rule.kind, n);
        }
    }
    (out, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The canaries of RELIABILITY E12 and friends: (input, the secret part that must disappear).
    const CANARIES: &[(&str, &str)] = &[
        ("aws key AKIAIOSFODNN7EXAMPLE in config", "AKIAIOSFODNN7EXAMPLE"),
        ("slack xoxb-1234567890-0987654321-AbCdEfGhIjKl posted", "xoxb-1234567890-0987654321-AbCdEfGhIjKl"),
        ("app token xapp-1-A0123-456-abcdef", "xapp-1-A0123-456-abcdef"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ),
        ("GET / Authorization: Bearer abc123.def456-ghi", "abc123.def456-ghi"),
        ("header authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("curl -H 'Authorization: token ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'", "ghp_aaaa"),
        ("dsn postgres://app:hunter2@db.internal:5432/shop", "hunter2"),
        ("redis redis://default:s3cr3t@cache:6379/0", "s3cr3t"),
        ("login failed password=hunter2 for user", "hunter2"),
        ("DB_PASSWORD: 'correct horse'", "correct"),
        ("{\"client_secret\": \"shhh-value\", \"ok\": 1}", "shhh-value"),
        ("api_key=sk-proj-abcdefghijklmnopqrstuvwx", "sk-proj-abcdefghijklmnopqrstuvwx"),
        ("stripe sk_live_51H8abcdefghijklmnop", "sk_live_51H8abcdefghijklmnop"),
        ("token: AIzaSyA-abcdefghijklmnopqrstuvwxyz012345", "AIzaSyA-abcdefghijklmnopqrstuvwxyz012345"),
        (
            "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabcdef\n-----END RSA PRIVATE KEY-----\ndone",
            "MIIEowIBAAKCAQEA7",
        ),
        ("cut: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", "b3BlbnNzaC1rZXktdjEAAAAA"),
        ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\nnext line", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
    ];

    #[test]
    fn e12_canaries_never_survive_redaction() {
        for (input, secret) in CANARIES {
            let (out, found) = redact(input);
            assert!(!out.contains(secret), "{input:?} -> {out:?}");
            assert!(out.contains("[REDACTED:"), "{out:?}");
            assert!(found.total() >= 1, "{input:?}");
        }
    }

    #[test]
    fn ordinary_log_lines_are_left_alone() {
        let lines = [
            "2026-11-20T09:14:10Z ERROR java.lang.OutOfMemoryError: Java heap space",
            "GET /api/orders?id=42 200 12ms",
            "connected to postgres://db.internal:5432/shop",
            "token bucket refilled: 12 tokens",
            "password policy updated",
            "Back-off restarting failed container app in pod checkout-6d8f7c9b4-q2x7m",
        ];
        for line in lines {
            let (out, found) = redact(line);
            assert_eq!(out, line);
            assert_eq!(found.total(), 0, "{line}");
        }
    }

    #[test]
    fn redaction_keeps_the_key_name_so_the_evidence_still_reads() {
        let (out, found) = redact("connecting with password=hunter2 and Authorization: Bearer abcdefgh12345");
        assert_eq!(out, "connecting with password=[REDACTED:secret_pair] and Authorization: [REDACTED:authorization]");
        assert_eq!(found.total(), 2);
    }

    #[test]
    fn e14_large_inputs_are_redacted_in_linear_time() {
        let big = "INFO request ok password=x\n".repeat(200_000);
        let (out, found) = redact(&big);
        assert_eq!(found.total(), 200_000);
        assert!(!out.contains("password=x"));
    }
}
