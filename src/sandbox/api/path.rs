//! Parsing a request path into what it addresses: a discovery document, a collection, an object
//! or a subresource.
//!
//! Invariant: a path naming a resource or subresource the sandbox does not serve is 404 with a
//! `Status`, never routed to a near match.

use super::super::error::ApiError;
use super::super::resources::{self, GROUPS, ResourceDef, Sub};

#[derive(Debug)]
pub enum Route {
    Version,
    Health,
    /// `/api`
    CoreVersions,
    /// `/apis`
    Groups,
    /// `/apis/{group}`
    Group(String),
    /// `/api/v1`, `/apis/{group}/{version}`
    Resources {
        group: String,
        version: String,
    },
    /// A collection (`name` None) or an object, optionally a subresource of it.
    Object {
        def: &'static ResourceDef,
        ns: Option<String>,
        name: Option<String>,
        sub: Option<Sub>,
    },
}

fn served_group_version(group: &str, version: &str) -> bool {
    (group.is_empty() && version == "v1") || GROUPS.iter().any(|(g, v)| *g == group && *v == version)
}

fn resource(group: &str, version: &str, rest: &[&str]) -> Result<Route, ApiError> {
    let find = |plural: &str| resources::by_path(group, version, plural).ok_or(ApiError::NoRoute);
    let sub_of = |def: &ResourceDef, s: &str| {
        [Sub::Status, Sub::Scale, Sub::Log, Sub::Eviction]
            .into_iter()
            .find(|x| x.name() == s && def.has(*x))
            .ok_or(ApiError::NoRoute)
    };
    let namespaced = rest.len() >= 3
        && rest[0] == "namespaces"
        && resources::by_path(group, version, rest[2]).is_some_and(|d| d.namespaced);
    let (ns, rest) = if namespaced { (Some(rest[1].to_string()), &rest[2..]) } else { (None, rest) };
    let obj = |def, name: Option<&str>, sub| Route::Object { def, ns: ns.clone(), name: name.map(String::from), sub };
    match rest {
        [plural] => Ok(obj(find(plural)?, None, None)),
        [plural, name] => Ok(obj(find(plural)?, Some(name), None)),
        [plural, name, sub] => {
            let def = find(plural)?;
            Ok(obj(def, Some(name), Some(sub_of(def, sub)?)))
        }
        _ => Err(ApiError::NoRoute),
    }
}

pub fn parse(path: &str) -> Result<Route, ApiError> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => Ok(Route::Version),
        ["healthz" | "livez" | "readyz", ..] => Ok(Route::Health),
        ["api"] => Ok(Route::CoreVersions),
        ["apis"] => Ok(Route::Groups),
        ["apis", g] if GROUPS.iter().any(|(x, _)| x == g) => Ok(Route::Group(g.to_string())),
        ["api", "v1"] => Ok(Route::Resources { group: String::new(), version: "v1".into() }),
        ["apis", g, v] if served_group_version(g, v) => {
            Ok(Route::Resources { group: g.to_string(), version: v.to_string() })
        }
        ["api", "v1", rest @ ..] => resource("", "v1", rest),
        ["apis", g, v, rest @ ..] if served_group_version(g, v) => resource(g, v, rest),
        _ => Err(ApiError::NoRoute),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(path: &str) -> (String, Option<String>, Option<String>, Option<Sub>) {
        match parse(path).unwrap() {
            Route::Object { def, ns, name, sub } => (def.qualified(), ns, name, sub),
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn paths_route_to_what_they_address() {
        let s = |x: &str| Some(x.to_string());
        let cases = [
            ("/api/v1/pods", ("pods", None, None, None)),
            ("/api/v1/namespaces", ("namespaces", None, None, None)),
            ("/api/v1/namespaces/shop", ("namespaces", None, s("shop"), None)),
            ("/api/v1/namespaces/shop/status", ("namespaces", None, s("shop"), Some(Sub::Status))),
            ("/api/v1/namespaces/shop/pods", ("pods", s("shop"), None, None)),
            ("/api/v1/namespaces/shop/pods/p1/log", ("pods", s("shop"), s("p1"), Some(Sub::Log))),
            ("/api/v1/namespaces/shop/pods/p1/eviction", ("pods", s("shop"), s("p1"), Some(Sub::Eviction))),
            ("/api/v1/nodes/w1", ("nodes", None, s("w1"), None)),
            (
                "/apis/apps/v1/namespaces/shop/deployments/web/scale",
                ("deployments.apps", s("shop"), s("web"), Some(Sub::Scale)),
            ),
            ("/apis/apps/v1/deployments", ("deployments.apps", None, None, None)),
            ("/apis/events.k8s.io/v1/namespaces/shop/events", ("events.events.k8s.io", s("shop"), None, None)),
        ];
        for (path, (res, ns, name, sub)) in cases {
            assert_eq!(obj(path), (res.to_string(), ns, name, sub), "{path}");
        }
        assert!(matches!(parse("/apis/apps").unwrap(), Route::Group(g) if g == "apps"));
        assert!(matches!(parse("/version").unwrap(), Route::Version));
    }

    #[test]
    fn unserved_paths_are_404() {
        for path in [
            "/api/v1/configmaps",
            "/apis/apps/v1beta1/deployments",
            "/api/v1/namespaces/shop/pods/p/exec",
            "/apis/apps/v1/namespaces/shop/daemonsets/d/scale",
            "/apis/unknown.io/v1",
            "/metrics",
        ] {
            assert_eq!(parse(path).unwrap_err().code(), 404, "{path}");
        }
    }
}
