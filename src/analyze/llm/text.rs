//! Making the model's words safe to keep (RELIABILITY E12, E13).
//!
//! Whatever the model writes is plain text and nothing more. [`Cleaner::clean`] removes control
//! and invisible characters (zero-width, bidi overrides), defuses chat markup — `<!channel>`,
//! `<@U…>`, `<https://x|label>`, HTML tags, `@here` / `@room`, Markdown links, URLs — so that it
//! survives only as inert text, redacts secrets the model may have echoed, and caps the length.
//! Rendering for a chat platform escapes again later; this is the second lock on the door. The
//! cleaner remembers what it changed so the analysis can say so in a flag.

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::redact::redact;
use crate::strings::llm as s;

/// URL schemes (and `www.`) that chat clients turn into links: written as `https[:]//…`, `www[.]…`.
static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\b(?:(javascript|vbscript)\s*:",
        r"|(https?|ftp|sftp|file|ssh|git|wss?|slack|matrix|data|mailto|tel):(//|[a-z]+/|[^\s@/]+@|\+?\d))",
        r"|\bwww\."
    ))
    .expect("valid pattern")
});

/// Mass mentions in plain-text bodies (Slack, Matrix `@room`).
static MENTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)@(here|channel|everyone|room)\b").expect("valid pattern"));

/// Collects what cleaning changed across one answer.
#[derive(Debug, Default)]
pub(super) struct Cleaner {
    markup: bool,
    invisible: bool,
    secrets: usize,
}

impl Cleaner {
    /// Plain, single-line, at most `max_chars` characters.
    pub(super) fn clean(&mut self, text: &str, max_chars: usize) -> String {
        let mut out = String::with_capacity(text.len().min(max_chars * 4));
        let mut last_space = true;
        for c in text.chars() {
            let c = if c == '\n' || c == '\r' || c == '\t' { ' ' } else { c };
            if c.is_control() || is_invisible(c) {
                self.invisible = true;
                continue;
            }
            if c == ' ' && last_space {
                continue;
            }
            last_space = c == ' ';
            out.push(c);
        }
        let out = self.defuse(out.trim_end());
        let (out, found) = redact(&out);
        self.secrets += found.total();
        cap(&out, max_chars)
    }

    fn defuse(&mut self, text: &str) -> String {
        let mut out = text.replace('<', "‹").replace('>', "›").replace("](", "] (");
        if out != text {
            self.markup = true;
        }
        let linked = LINK.replace_all(&out, |c: &regex::Captures<'_>| match (c.get(1), c.get(2), c.get(3)) {
            (Some(script), _, _) => format!("{}[:]", script.as_str()),
            (_, Some(scheme), Some(rest)) => format!("{}[:]{}", scheme.as_str(), rest.as_str()),
            _ => format!("{}[.]", &c[0][..3]),
        });
        let mentioned = MENTION.replace_all(&linked, "＠$1");
        if mentioned != out {
            self.markup = true;
            out = mentioned.into_owned();
        }
        out
    }

    /// Flags describing what was changed, for the analysis.
    pub(super) fn flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if self.markup {
            flags.push(s::FLAG_MARKUP.to_string());
        }
        if self.invisible {
            flags.push(s::FLAG_INVISIBLE.to_string());
        }
        if self.secrets > 0 {
            flags.push(s::flag_secrets(self.secrets));
        }
        flags
    }
}

/// Zero-width, bidi control and other invisible format characters (Unicode Cf and friends).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{E0000}'..='\u{E007F}')
}

/// At most `max` characters, with `…` when cut.
pub(super) fn cap(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A short quote of untrusted text for a flag: cleaned, one line, at most `max` characters.
pub(super) fn quote(text: &str, max: usize) -> String {
    Cleaner::default().clean(text, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(text: &str) -> (String, Vec<String>) {
        let mut c = Cleaner::default();
        let out = c.clean(text, 200);
        (out, c.flags())
    }

    #[test]
    fn chat_markup_becomes_inert_text_and_is_flagged() {
        let cases = [
            ("<!channel> the pod is down", "‹!channel› the pod is down"),
            ("see <https://evil.example|the runbook>", "see ‹https[:]//evil.example|the runbook›"),
            ("[dashboard](https://evil.example/x)", "[dashboard] (https[:]//evil.example/x)"),
            ("<script>alert(1)</script>", "‹script›alert(1)‹/script›"),
            ("ping @here and @channel, @room", "ping ＠here and ＠channel, ＠room"),
            ("go to www.evil.example now", "go to www[.]evil.example now"),
            ("open data:text/html;base64,PHNjcmlwdD4=", "open data[:]text/html;base64,PHNjcmlwdD4="),
            ("javascript:alert(1)", "javascript[:]alert(1)"),
            ("<@U0123ABCD> approve", "‹@U0123ABCD› approve"),
        ];
        for (input, want) in cases {
            let (out, flags) = clean(input);
            assert_eq!(out, want, "{input}");
            assert!(flags.contains(&s::FLAG_MARKUP.to_string()), "{input}: {flags:?}");
        }
    }

    #[test]
    fn plain_diagnoses_are_left_alone() {
        let text =
            "Container app in shop/checkout-6d8f was OOMKilled (exit 137) 5 times: limit 256Mi; no data: file: x.";
        assert_eq!(clean(text), (text.to_string(), vec![]));
    }

    #[test]
    fn control_and_invisible_characters_go_and_whitespace_collapses() {
        let (out, flags) = clean("a\u{202E}b\u{200B}c\x07d\n\n  e\u{FEFF}");
        assert_eq!(out, "abcd e");
        assert_eq!(flags, vec![s::FLAG_INVISIBLE.to_string()]);
    }

    #[test]
    fn echoed_secrets_are_redacted() {
        let (out, flags) = clean("the app logs password=hunter2 and AKIAIOSFODNN7EXAMPLE");
        assert!(!out.contains("hunter2") && !out.contains("AKIAIOSFODNN7EXAMPLE"), "{out}");
        assert_eq!(flags, vec![s::flag_secrets(2)]);
    }

    #[test]
    fn long_text_is_capped_with_an_ellipsis() {
        let mut c = Cleaner::default();
        let out = c.clean(&"x".repeat(1000), 10);
        assert_eq!(out.chars().count(), 10);
        assert!(out.ends_with('…'));
    }
}
