//! Routing: which sinks and targets an incident goes to, from its labels (namespace, severity,
//! team, cluster), by `[[notify.routes]]` in order, first match wins unless it says `continue`.
//! No match: email to `[email] to` when email is on. The same rules choose the email recipients
//! (of email routes, and of the fallback of chat routes). Pure and table-tested.

use crate::config::{EmailSettings, RouteSettings};

/// What the router looks at.
#[derive(Debug, Clone, Default)]
pub struct RouteInput<'a> {
    pub namespace: Option<&'a str>,
    pub severity: Option<&'a str>,
    pub team: Option<&'a str>,
    pub cluster: &'a str,
}

/// Where one copy of the incident goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub sink: String,
    /// Channel or room id; for email the recipients, comma-separated.
    pub target: String,
    /// Email fallback recipients for a chat destination (empty: none).
    pub fallback_to: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<RouteSettings>,
    default_to: Vec<String>,
    email: bool,
}

fn matches(accepted: &[String], value: Option<&str>) -> bool {
    accepted.is_empty() || value.is_some_and(|v| accepted.iter().any(|a| a == v))
}

impl Router {
    pub fn new(routes: &[RouteSettings], email: &EmailSettings) -> Self {
        Router { routes: routes.to_vec(), default_to: email.to.clone(), email: email.enabled() }
    }

    /// The destinations of an incident, without duplicates, in route order.
    pub fn route(&self, input: &RouteInput<'_>) -> Vec<Destination> {
        let mut out: Vec<Destination> = Vec::new();
        let recipients =
            |r: &RouteSettings| if r.email_to.is_empty() { self.default_to.clone() } else { r.email_to.clone() };
        for r in &self.routes {
            let hit = matches(&r.namespace, input.namespace)
                && matches(&r.severity, input.severity)
                && matches(&r.team, input.team)
                && matches(&r.cluster, Some(input.cluster));
            if !hit {
                continue;
            }
            let d = if r.sink == "email" {
                Destination { sink: "email".into(), target: recipients(r).join(", "), fallback_to: Vec::new() }
            } else {
                let fallback = if self.email { recipients(r) } else { Vec::new() };
                Destination {
                    sink: r.sink.clone(),
                    target: r.target.clone().unwrap_or_default(),
                    fallback_to: fallback,
                }
            };
            if !d.target.is_empty() && !out.iter().any(|o| o.sink == d.sink && o.target == d.target) {
                out.push(d);
            }
            if !r.continue_matching {
                break;
            }
        }
        if out.is_empty() && self.email && !self.default_to.is_empty() {
            out.push(Destination { sink: "email".into(), target: self.default_to.join(", "), fallback_to: Vec::new() });
        }
        out
    }

    /// Every (sink, target) any route names, and the default email recipients (dead man's switch).
    pub fn all_destinations(&self) -> Vec<Destination> {
        let mut out: Vec<Destination> = Vec::new();
        for r in &self.routes {
            let target = if r.sink == "email" {
                if r.email_to.is_empty() { self.default_to.join(", ") } else { r.email_to.join(", ") }
            } else {
                r.target.clone().unwrap_or_default()
            };
            if !target.is_empty() && !out.iter().any(|o| o.sink == r.sink && o.target == target) {
                out.push(Destination { sink: r.sink.clone(), target, fallback_to: Vec::new() });
            }
        }
        let default = self.default_to.join(", ");
        if self.email && !default.is_empty() && !out.iter().any(|o| o.sink == "email" && o.target == default) {
            out.push(Destination { sink: "email".into(), target: default, fallback_to: Vec::new() });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(sink: &str, target: Option<&str>, f: impl FnOnce(&mut RouteSettings)) -> RouteSettings {
        let mut r = RouteSettings { sink: sink.into(), target: target.map(str::to_string), ..Default::default() };
        f(&mut r);
        r
    }

    fn email() -> EmailSettings {
        EmailSettings {
            smtp_host: Some("smtp".into()),
            from: Some("m@x.org".into()),
            to: vec!["oncall@x.org".into()],
            ..Default::default()
        }
    }

    #[test]
    fn the_routing_table() {
        let routes = vec![
            route("slack", Some("CPAY"), |r| {
                r.namespace = vec!["pay".into()];
                r.email_to = vec!["pay@x.org".into()];
                r.continue_matching = true;
            }),
            route("matrix", Some("!crit:x.org"), |r| r.severity = vec!["critical".into()]),
            route("slack", Some("CTEAM"), |r| {
                r.team = vec!["web".into()];
                r.cluster = vec!["prod".into()];
            }),
            route("email", None, |r| r.namespace = vec!["batch".into()]),
        ];
        let router = Router::new(&routes, &email());
        let go = |ns: Option<&str>, sev: Option<&str>, team: Option<&str>, cluster: &str| -> Vec<String> {
            router
                .route(&RouteInput { namespace: ns, severity: sev, team, cluster })
                .into_iter()
                .map(|d| format!("{}:{}:{}", d.sink, d.target, d.fallback_to.join("+")))
                .collect()
        };
        type Row<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, &'a str, &'a [&'a str]);
        let table: &[Row] = &[
            (Some("pay"), Some("critical"), None, "prod", &["slack:CPAY:pay@x.org", "matrix:!crit:x.org:oncall@x.org"]),
            (Some("pay"), Some("warning"), None, "prod", &["slack:CPAY:pay@x.org"]),
            (Some("shop"), Some("critical"), None, "prod", &["matrix:!crit:x.org:oncall@x.org"]),
            (Some("shop"), None, Some("web"), "prod", &["slack:CTEAM:oncall@x.org"]),
            (Some("shop"), None, Some("web"), "staging", &["email:oncall@x.org:"]),
            (Some("batch"), None, None, "prod", &["email:oncall@x.org:"]),
            (None, None, None, "prod", &["email:oncall@x.org:"]),
        ];
        for (ns, sev, team, cluster, want) in table {
            assert_eq!(go(*ns, *sev, *team, cluster), *want, "{ns:?} {sev:?} {team:?} {cluster}");
        }
    }

    #[test]
    fn without_email_an_unrouted_incident_goes_nowhere() {
        let router =
            Router::new(&[route("slack", Some("C1"), |r| r.namespace = vec!["a".into()])], &EmailSettings::default());
        assert!(router.route(&RouteInput { namespace: Some("b"), cluster: "c", ..Default::default() }).is_empty());
        let d = router.route(&RouteInput { namespace: Some("a"), cluster: "c", ..Default::default() });
        assert!(d[0].fallback_to.is_empty());
        assert_eq!(router.all_destinations().len(), 1);
    }
}
