//! The alert's own expression, taken out of its `generatorURL` (pure).
//!
//! Prometheus links each alert to its rule's expression: `<external URL>/graph?g0.expr=<PromQL>&g0.tab=1`
//! (newer UIs: `/query?g0.expr=`), form-URL-encoded. The URL arrives in a webhook, so it is hostile:
//! only the expression is kept — never the scheme, host or path — capped in length and free of
//! control characters. It is then sent verbatim as a query parameter to the configured Prometheus,
//! which parses it; Mimi never interprets it.

use std::fmt;

/// The longest expression Mimi evaluates. Real rule expressions are far shorter.
pub const MAX_EXPR_BYTES: usize = 4096;

/// A PromQL expression from a `generatorURL`: non-empty, at most [`MAX_EXPR_BYTES`], no control
/// characters other than tab and newline.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlertExpr(String);

/// Why no expression could be taken from a `generatorURL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprRejected {
    NoUrl,
    NotAUrl,
    NotAGraphLink,
    NoExpression,
    TooLong(usize),
    ControlCharacters,
}

impl fmt::Display for ExprRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExprRejected::NoUrl => f.write_str("the alert has no generatorURL"),
            ExprRejected::NotAUrl => f.write_str("its generatorURL is not a URL"),
            ExprRejected::NotAGraphLink => f.write_str("its generatorURL is not a Prometheus /graph or /query link"),
            ExprRejected::NoExpression => f.write_str("its generatorURL carries no g0.expr"),
            ExprRejected::TooLong(n) => {
                write!(f, "its expression is {n} bytes, more than the {MAX_EXPR_BYTES} allowed")
            }
            ExprRejected::ControlCharacters => f.write_str("its expression contains control characters"),
        }
    }
}

impl AlertExpr {
    /// The expression in `generator_url`'s `g0.expr` parameter.
    pub fn from_generator_url(generator_url: &str) -> Result<AlertExpr, ExprRejected> {
        let raw = generator_url.trim();
        if raw.is_empty() {
            return Err(ExprRejected::NoUrl);
        }
        // Refuse before parsing: a huge URL is not worth decoding.
        if raw.len() > MAX_EXPR_BYTES * 4 {
            return Err(ExprRejected::TooLong(raw.len()));
        }
        // Prometheus always sends an absolute URL; a relative one (no external URL set) is read
        // against a placeholder base, which is never contacted either way.
        let url = url::Url::parse(raw)
            .or_else(|_| url::Url::parse("http://generator.invalid/").and_then(|base| base.join(raw)))
            .map_err(|_| ExprRejected::NotAUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ExprRejected::NotAUrl);
        }
        let last = url.path_segments().and_then(|mut s| s.next_back()).unwrap_or_default();
        if last != "graph" && last != "query" {
            return Err(ExprRejected::NotAGraphLink);
        }
        let expr = url
            .query_pairs()
            .find(|(k, _)| k == "g0.expr")
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or(ExprRejected::NoExpression)?;
        AlertExpr::new(expr)
    }

    /// Checks an expression given directly.
    pub fn new(expr: String) -> Result<AlertExpr, ExprRejected> {
        if expr.len() > MAX_EXPR_BYTES {
            return Err(ExprRejected::TooLong(expr.len()));
        }
        if expr.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
            return Err(ExprRejected::ControlCharacters);
        }
        if expr.trim().is_empty() {
            return Err(ExprRejected::NoExpression);
        }
        Ok(AlertExpr(expr))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<String, ExprRejected> {
        AlertExpr::from_generator_url(url).map(|e| e.as_str().to_string())
    }

    #[test]
    fn expressions_come_out_of_generator_urls() {
        let cases: &[(&str, &str)] = &[
            (
                "http://prometheus-k8s-0:9090/graph?g0.expr=rate%28kube_pod_container_status_restarts_total%7Bjob%3D%22kube-state-metrics%22%7D%5B5m%5D%29+%3E+0&g0.tab=1",
                r#"rate(kube_pod_container_status_restarts_total{job="kube-state-metrics"}[5m]) > 0"#,
            ),
            ("https://prom.example.com/query?g0.expr=up+%3D%3D+0", "up == 0"),
            ("https://example.com/prometheus/graph?g0.tab=1&g0.expr=vector%281%29", "vector(1)"),
            // `+` is a space, `%2B` a plus.
            ("http://p/graph?g0.expr=a%2Bb+%3E+1", "a+b > 1"),
            // Relative link (no external URL configured).
            ("/graph?g0.expr=up", "up"),
            // The first g0.expr wins; g1 is ignored.
            ("http://p/graph?g0.expr=up&g0.expr=down&g1.expr=x", "up"),
            // Multi-line rule expressions keep their newlines.
            ("http://p/graph?g0.expr=sum%28x%29%0A++%3E+1", "sum(x)\n  > 1"),
        ];
        for (url, expr) in cases {
            assert_eq!(parse(url).as_deref(), Ok(*expr), "{url}");
        }
    }

    #[test]
    fn hostile_generator_urls_yield_no_expression() {
        let long = format!("http://p/graph?g0.expr={}", "a".repeat(MAX_EXPR_BYTES + 1));
        let huge = format!("http://p/graph?g0.expr={}", "%41".repeat(MAX_EXPR_BYTES * 2));
        let cases: Vec<(String, ExprRejected)> = vec![
            ("".into(), ExprRejected::NoUrl),
            ("   ".into(), ExprRejected::NoUrl),
            ("javascript:alert(1)//graph?g0.expr=up".into(), ExprRejected::NotAUrl),
            ("file:///etc/passwd?g0.expr=up".into(), ExprRejected::NotAUrl),
            ("http://evil.example/api/v1/admin/tsdb/delete_series?g0.expr=up".into(), ExprRejected::NotAGraphLink),
            ("http://p/graph?g0.tab=1".into(), ExprRejected::NoExpression),
            ("http://p/graph?g0.expr=".into(), ExprRejected::NoExpression),
            ("http://p/graph?g0.expr=+++".into(), ExprRejected::NoExpression),
            ("http://p/graph?g0.expr=up%00".into(), ExprRejected::ControlCharacters),
            ("http://p/graph?g0.expr=up%1B%5B31m".into(), ExprRejected::ControlCharacters),
            (long, ExprRejected::TooLong(MAX_EXPR_BYTES + 1)),
            (huge.clone(), ExprRejected::TooLong(huge.len())),
        ];
        for (url, why) in cases {
            assert_eq!(parse(&url), Err(why), "{url}");
        }
    }

    #[test]
    fn only_the_expression_is_kept_never_the_host() {
        let e = AlertExpr::from_generator_url("https://attacker.example:8443/graph?g0.expr=up&x=https://evil").unwrap();
        assert_eq!(format!("{e:?}"), "AlertExpr(\"up\")");
    }
}
