//! The Deployment and what it depends on: hardening, probes, the data volume, the configuration
//! and secret files (loaded with Mimi's own configuration loader), the Service and NetworkPolicy,
//! the image built by the Dockerfile, and the optional Qdrant.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Container, PersistentVolumeClaim, Pod, PodSpec, Secret, Service, Volume};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use mimi::config::{LogFormat, load_from};

use super::{Doc, all_docs, repo_root, the};

const MIMI_UID: i64 = 65532;

fn deployment(docs: &[Doc]) -> Deployment {
    the(docs, "Deployment", "mimi").typed()
}

fn pod_spec(d: &Deployment) -> PodSpec {
    d.spec.template.spec.clone().expect("the Deployment has a pod template")
}

fn mimi_container(pod: &PodSpec) -> Container {
    assert_eq!(pod.containers.len(), 1, "one container");
    pod.containers[0].clone()
}

fn volume<'a>(pod: &'a PodSpec, name: &str) -> &'a Volume {
    pod.volumes.iter().flatten().find(|v| v.name == name).unwrap_or_else(|| panic!("no volume {name}"))
}

/// The container's mount point of the volume named `name`.
fn mount_path(c: &Container, name: &str) -> PathBuf {
    let m =
        c.volume_mounts.iter().flatten().find(|m| m.name == name).unwrap_or_else(|| panic!("{name} is not mounted"));
    PathBuf::from(&m.mount_path)
}

/// The port a probe or Service names, as a number on this container.
fn container_port(c: &Container, port: &IntOrString) -> i32 {
    match port {
        IntOrString::Int(n) => *n,
        IntOrString::String(name) => {
            c.ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .unwrap_or_else(|| panic!("no container port named {name}"))
                .container_port
        }
    }
}

/// Bytes of a memory quantity such as `32Mi` or `1Gi`.
fn bytes(q: &str) -> u64 {
    let units =
        [("Ki", 1u64 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("k", 1000), ("M", 1_000_000), ("G", 1_000_000_000)];
    let (number, unit) =
        units.iter().find_map(|(suffix, unit)| q.strip_suffix(suffix).map(|n| (n, *unit))).unwrap_or((q, 1));
    number.parse::<u64>().unwrap_or_else(|_| panic!("memory quantity {q:?}")) * unit
}

/// Millicores of a CPU quantity such as `50m` or `1`.
fn millicores(q: &str) -> u64 {
    match q.strip_suffix('m') {
        Some(m) => m.parse().unwrap(),
        None => (q.parse::<f64>().unwrap() * 1000.0) as u64,
    }
}

/// What the restricted Pod Security profile and F01's "no escape hatch" ask of a container.
fn hardening_problems(pod: &PodSpec, c: &Container) -> Vec<String> {
    let mut problems = Vec::new();
    let pod_sc = pod.security_context.clone().unwrap_or_default();
    let sc = c.security_context.clone().unwrap_or_default();
    if sc.run_as_non_root.or(pod_sc.run_as_non_root) != Some(true) {
        problems.push("runAsNonRoot is not true".to_string());
    }
    match sc.run_as_user.or(pod_sc.run_as_user) {
        Some(uid) if uid > 0 => {}
        other => problems.push(format!("runAsUser is {other:?}, not a numeric non-root user")),
    }
    if !matches!(sc.run_as_group.or(pod_sc.run_as_group), Some(g) if g > 0) {
        problems.push("runAsGroup is not a non-root group".to_string());
    }
    if sc.read_only_root_filesystem != Some(true) {
        problems.push("readOnlyRootFilesystem is not true".to_string());
    }
    if sc.allow_privilege_escalation != Some(false) {
        problems.push("allowPrivilegeEscalation is not false".to_string());
    }
    if sc.privileged == Some(true) {
        problems.push("privileged".to_string());
    }
    let caps = sc.capabilities.clone().unwrap_or_default();
    if caps.drop.unwrap_or_default() != ["ALL"] {
        problems.push("capabilities are not all dropped".to_string());
    }
    if caps.add.is_some_and(|a| !a.is_empty()) {
        problems.push("capabilities are added".to_string());
    }
    let seccomp = sc.seccomp_profile.or(pod_sc.seccomp_profile).map(|p| p.type_);
    if seccomp.as_deref() != Some("RuntimeDefault") {
        problems.push(format!("seccomp profile is {seccomp:?}, not RuntimeDefault"));
    }
    if pod.host_network == Some(true) || pod.host_pid == Some(true) || pod.host_ipc == Some(true) {
        problems.push("shares a host namespace".to_string());
    }
    if pod.volumes.iter().flatten().any(|v| v.host_path.is_some()) {
        problems.push("mounts a hostPath".to_string());
    }
    problems
}

#[test]
fn the_deployment_runs_one_non_root_replica_with_a_read_only_root_filesystem() {
    let docs = all_docs();
    let d = deployment(&docs);
    let spec = d.spec.clone();
    assert_eq!(spec.replicas, Some(1), "SQLite and the instance lock allow one writer");
    assert_eq!(spec.strategy.and_then(|s| s.type_).as_deref(), Some("Recreate"), "never two pods on one database");
    let pod = pod_spec(&d);
    let c = mimi_container(&pod);
    let problems = hardening_problems(&pod, &c);
    assert!(problems.is_empty(), "k8s/deployment.yaml: {problems:?}");
    let sc = c.security_context.clone().unwrap();
    assert_eq!((sc.run_as_user, sc.run_as_group), (Some(MIMI_UID), Some(MIMI_UID)));

    // The checks above can fail: a root container with a writable root filesystem does.
    let mut root = c.clone();
    let mut bad = root.security_context.take().unwrap();
    bad.run_as_user = Some(0);
    bad.read_only_root_filesystem = Some(false);
    bad.capabilities = None;
    root.security_context = Some(bad);
    let mut root_pod = pod.clone();
    root_pod.security_context = None;
    assert!(hardening_problems(&root_pod, &root).len() >= 3);

    // Data on the PersistentVolumeClaim, not in the container.
    let data = volume(&pod, "data").persistent_volume_claim.clone().expect("data is a PVC");
    assert_eq!(mount_path(&c, "data"), Path::new("/var/lib/mimi"));
    let pvc: PersistentVolumeClaim = the(&docs, "PersistentVolumeClaim", &data.claim_name).typed();
    let pvc_spec = pvc.spec.unwrap();
    assert_eq!(pvc_spec.access_modes.unwrap_or_default(), ["ReadWriteOnce"]);
    assert!(pvc_spec.resources.unwrap().requests.unwrap().contains_key("storage"));
    // With a read-only root, /tmp is a small emptyDir.
    assert!(volume(&pod, "tmp").empty_dir.is_some());
    assert_eq!(mount_path(&c, "tmp"), Path::new("/tmp"));
    // No MIMI_* service-link variables in Mimi's environment.
    assert_eq!(pod.enable_service_links, Some(false));
    assert_eq!(pod.automount_service_account_token, Some(true), "Mimi talks to the API with its token");

    // Small requests and limits, above the measured footprint (12 MiB idle, 30 MiB under load).
    let resources = c.resources.clone().expect("resources are set");
    let requests = resources.requests.unwrap();
    let limits = resources.limits.unwrap();
    let memory_request = bytes(&requests["memory"].0);
    let memory_limit = bytes(&limits["memory"].0);
    assert!((16 << 20..=64 << 20).contains(&memory_request), "memory request {memory_request}");
    assert!((64 << 20..=512 << 20).contains(&memory_limit), "memory limit {memory_limit}");
    assert!(millicores(&requests["cpu"].0) <= 250, "cpu request");
    assert!(limits.contains_key("cpu"));
}

#[test]
fn the_deployment_probes_healthz_and_readyz_on_port_8080() {
    let pod = pod_spec(&deployment(&all_docs()));
    let c = mimi_container(&pod);
    let http = |probe: &Option<k8s_openapi::api::core::v1::Probe>, which: &str| {
        let get = probe.as_ref().and_then(|p| p.http_get.clone()).unwrap_or_else(|| panic!("no {which} HTTP probe"));
        (get.path.unwrap_or_default(), container_port(&c, &get.port))
    };
    assert_eq!(http(&c.liveness_probe, "liveness"), ("/healthz".to_string(), 8080));
    assert_eq!(http(&c.readiness_probe, "readiness"), ("/readyz".to_string(), 8080));
    if c.startup_probe.is_some() {
        assert_eq!(http(&c.startup_probe, "startup"), ("/healthz".to_string(), 8080));
    }
    let ports: Vec<i32> = c.ports.iter().flatten().map(|p| p.container_port).collect();
    assert_eq!(ports, [8080]);
}

/// Every `x_file = "..."` line of a TOML text (the secret files the configuration reads).
fn secret_file_paths(toml: &str) -> Vec<String> {
    toml.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .filter(|(key, _)| key.trim().ends_with("_file"))
        .map(|(_, value)| value.trim().trim_matches('"').to_string())
        .collect()
}

#[test]
fn the_configmap_configuration_loads_with_its_secret_files_and_matches_the_deployment() {
    let docs = all_docs();
    let d = deployment(&docs);
    let pod = pod_spec(&d);
    let c = mimi_container(&pod);

    // The container reads the ConfigMap's file through --config.
    let config_volume = volume(&pod, "config").config_map.clone().expect("config is a ConfigMap volume");
    let cm: ConfigMap = the(&docs, "ConfigMap", &config_volume.name).typed();
    let data = cm.data.unwrap_or_default();
    assert_eq!(data.len(), 1, "the ConfigMap holds the configuration file only");
    let (key, toml) = data.iter().next().unwrap();
    let config_path = mount_path(&c, "config").join(key);
    let args = c.args.clone().unwrap_or_default();
    let flag = args.iter().position(|a| a == "--config").expect("--config is passed");
    assert_eq!(args[0], "serve");
    assert_eq!(Path::new(&args[flag + 1]), config_path);

    // Secret files: each *_file is <secret mount>/<a key of the Secret>.
    let secret_volume = volume(&pod, "secrets").secret.clone().expect("secrets is a Secret volume");
    assert_eq!(secret_volume.default_mode, Some(0o440), "the secret files are not world-readable");
    let secret_dir = mount_path(&c, "secrets");
    let secret_name = secret_volume.secret_name.unwrap();
    let example: Secret = the(&docs, "Secret", &secret_name).typed();
    let keys: Vec<String> = example.string_data.unwrap_or_default().into_keys().collect();
    let paths = secret_file_paths(toml);
    assert!(paths.len() >= 2, "the webhook token and an API token come from files: {paths:?}");
    let dir = tempfile::tempdir().unwrap();
    let mut localized = toml.clone();
    for path in &paths {
        let path = Path::new(path);
        assert_eq!(path.parent(), Some(secret_dir.as_path()), "{} is not in the secret mount", path.display());
        let key = path.file_name().unwrap().to_str().unwrap();
        assert!(keys.iter().any(|k| k == key), "{key} is not a key of the {secret_name} Secret ({keys:?})");
        std::fs::write(dir.path().join(key), format!("value-of-{key}\n")).unwrap();
    }
    // Same files, same names, in a temporary directory instead of /var/run/secrets/mimi.
    localized = localized.replace(&format!("{}/", secret_dir.display()), &format!("{}/", dir.path().display()));
    let file = dir.path().join("mimi.toml");
    std::fs::write(&file, &localized).unwrap();

    let settings = load_from(Some(&file), Vec::new()).unwrap_or_else(|e| panic!("k8s/configmap.yaml: {e}"));
    assert_eq!(settings.webhook.bearer_token.as_ref().unwrap().expose(), "value-of-webhook-token");
    assert!(settings.api.tokens.iter().all(|t| t.token.as_ref().is_some_and(|s| s.expose().starts_with("value-of-"))));
    assert!(!settings.webhook.allow_unauthenticated && !settings.api.allow_unauthenticated);
    assert_eq!(settings.server.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(settings.server.listen.port() as i32, c.ports.as_ref().unwrap()[0].container_port);
    assert_eq!(settings.data_dir, mount_path(&c, "data"));
    assert!(settings.store.path.is_none(), "the database lives in data_dir, on the volume");
    assert_eq!(settings.log.format, LogFormat::Json);
    let grace = pod.termination_grace_period_seconds.expect("terminationGracePeriodSeconds is set");
    assert!(
        grace > settings.server.shutdown_grace_seconds as i64,
        "terminationGracePeriodSeconds {grace} must exceed server.shutdown_grace_seconds {}",
        settings.server.shutdown_grace_seconds
    );

    // Without the secret files, the same configuration is refused and the key is named.
    let missing = dir.path().join("missing.toml");
    std::fs::write(&missing, localized.replace("webhook-token", "no-such-file")).unwrap();
    let err = load_from(Some(&missing), Vec::new()).unwrap_err();
    assert!(err.to_string().contains("webhook.bearer_token_file"), "{err}");
}

#[test]
fn the_secret_and_backup_examples_are_placeholders_and_match_what_they_serve() {
    let docs = all_docs();
    for doc in docs.iter().filter(|d| d.kind() == "Secret") {
        assert!(doc.is_example(), "{}: a Secret outside an *.example.yaml would be applied with its values", doc.at());
        let secret: Secret = doc.typed();
        assert!(secret.data.is_none(), "{}: examples use stringData", doc.at());
        for (key, value) in secret.string_data.unwrap_or_default() {
            assert!(value.starts_with("REPLACE-ME"), "{}: {key} does not look like a placeholder", doc.at());
        }
    }
    let backup: Pod = the(&docs, "Pod", "mimi-backup").typed();
    let spec = backup.spec.unwrap();
    let c = spec.containers[0].clone();
    assert!(hardening_problems(&spec, &c).is_empty(), "the backup pod must start in a restricted namespace");
    let claim = volume(&spec, "data").persistent_volume_claim.clone().unwrap();
    let mimi_claim = volume(&pod_spec(&deployment(&docs)), "data").persistent_volume_claim.clone().unwrap();
    assert_eq!(claim.claim_name, mimi_claim.claim_name);
    assert_eq!(claim.read_only, Some(true), "a backup never writes to the database");
}

#[test]
fn the_service_and_network_policy_let_alertmanager_and_prometheus_reach_port_8080_only() {
    let docs = all_docs();
    let d = deployment(&docs);
    let pod = pod_spec(&d);
    let c = mimi_container(&pod);
    let pod_labels: BTreeMap<String, String> = d.spec.template.metadata.and_then(|m| m.labels).unwrap_or_default();
    let selects = |selector: &BTreeMap<String, String>| {
        !selector.is_empty() && selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v))
    };

    let service: Service = the(&docs, "Service", "mimi").typed();
    let spec = service.spec.unwrap();
    assert!(selects(&spec.selector.unwrap_or_default()), "the Service selects Mimi's pod");
    let ports = spec.ports.unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0].port, 8080);
    assert_eq!(container_port(&c, ports[0].target_port.as_ref().unwrap()), 8080);

    let policy: NetworkPolicy = the(&docs, "NetworkPolicy", "mimi").typed();
    let spec = policy.spec.unwrap();
    assert!(selects(&spec.pod_selector.unwrap().match_labels.unwrap_or_default()));
    assert_eq!(spec.policy_types.unwrap_or_default(), ["Ingress", "Egress"], "both directions are restricted");
    let ingress = spec.ingress.unwrap_or_default();
    let ingress_ports: Vec<_> = ingress.iter().flat_map(|r| r.ports.iter().flatten()).collect();
    assert!(!ingress.is_empty() && ingress.iter().all(|r| r.ports.is_some() && r.from.is_some()));
    assert!(ingress_ports.iter().all(|p| p.port == Some(IntOrString::Int(8080))), "{ingress_ports:?}");
    let namespaces: Vec<String> = ingress
        .iter()
        .flat_map(|r| r.from.iter().flatten())
        .filter_map(|peer| {
            peer.namespace_selector.as_ref()?.match_labels.as_ref()?.get("kubernetes.io/metadata.name").cloned()
        })
        .collect();
    assert_eq!(namespaces, ["monitoring"], "Alertmanager and Prometheus");
    let egress: Vec<(String, i32)> = spec
        .egress
        .unwrap_or_default()
        .iter()
        .flat_map(|r| r.ports.iter().flatten())
        .filter_map(|p| match &p.port {
            Some(IntOrString::Int(n)) => Some((p.protocol.clone().unwrap_or("TCP".into()), *n)),
            _ => None,
        })
        .collect();
    for needed in [("UDP", 53), ("TCP", 53), ("TCP", 443)] {
        assert!(egress.contains(&(needed.0.to_string(), needed.1)), "egress lacks {needed:?}: {egress:?}");
    }
}

#[test]
fn the_image_and_the_deployment_agree_on_user_command_port_and_version() {
    let docs = all_docs();
    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile")).unwrap();
    let instruction = |name: &str| -> Vec<String> {
        dockerfile.lines().filter_map(|l| l.strip_prefix(&format!("{name} "))).map(|s| s.trim().to_string()).collect()
    };
    let froms = instruction("FROM");
    assert!(froms[0].starts_with("rust:1.95-slim-bookworm "), "the builder: {froms:?}");
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    assert!(dockerfile.contains("SQLX_OFFLINE=true"));
    assert!(dockerfile.contains("cargo build --release --locked --bin mimi"));

    let pod = pod_spec(&deployment(&docs));
    let c = mimi_container(&pod);
    let sc = c.security_context.clone().unwrap();
    assert_eq!(instruction("USER"), [format!("{}:{}", sc.run_as_user.unwrap(), sc.run_as_group.unwrap())]);
    let exec_form = |name: &str| -> Vec<String> {
        let [line] = instruction(name).try_into().unwrap_or_else(|v| panic!("one {name}: {v:?}"));
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{name} {line} is not in exec form: {e}"))
    };
    assert_eq!(exec_form("ENTRYPOINT"), ["mimi"]);
    assert_eq!(exec_form("CMD"), c.args.clone().unwrap(), "the image's default command is the Deployment's");
    assert_eq!(instruction("EXPOSE"), [c.ports.as_ref().unwrap()[0].container_port.to_string()]);
    assert!(
        dockerfile.contains("--chown=65532:65532 /out/var/lib/mimi /var/lib/mimi"),
        "data dir owned by Mimi's user"
    );

    let ignore = std::fs::read_to_string(repo_root().join(".dockerignore")).unwrap();
    for entry in ["target/", ".git", "**/*.db", "mimi-data/"] {
        assert!(ignore.lines().any(|l| l.trim() == entry), ".dockerignore lacks {entry}");
    }

    // The kustomization sets the image the Deployment names, at the crate's version.
    let kustomization = super::load_file(&repo_root().join("k8s/kustomization.yaml")).remove(0).value;
    let image = &kustomization["images"][0];
    assert_eq!(image["name"].as_str(), c.image.as_deref());
    assert_eq!(
        image["newTag"].as_str(),
        Some(env!("CARGO_PKG_VERSION")),
        "bump k8s/kustomization.yaml with Cargo.toml"
    );
}

#[test]
fn the_optional_qdrant_runs_unprivileged_and_only_mimi_may_reach_it() {
    let docs = all_docs();
    let qdrant: StatefulSet = the(&docs, "StatefulSet", "mimi-qdrant").typed();
    let spec = qdrant.spec;
    assert_eq!(spec.replicas, Some(1));
    let pod = spec.template.spec.unwrap();
    let c = &pod.containers[0];
    assert!(hardening_problems(&pod, c).is_empty(), "{:?}", hardening_problems(&pod, c));
    assert!(c.image.as_deref().unwrap().ends_with("-unprivileged"), "the image that runs as a non-root user");
    assert!(spec.volume_claim_templates.is_some_and(|t| t.len() == 1), "its storage is persistent");

    let policy: NetworkPolicy = the(&docs, "NetworkPolicy", "mimi-qdrant").typed();
    let spec = policy.spec.unwrap();
    assert_eq!(spec.egress, Some(Vec::new()), "Qdrant opens no connections");
    let from: Vec<_> = spec.ingress.unwrap().into_iter().flat_map(|r| r.from.unwrap_or_default()).collect();
    assert_eq!(from.len(), 1);
    let labels = from[0].pod_selector.as_ref().unwrap().match_labels.clone().unwrap();
    assert_eq!(labels.get("app.kubernetes.io/name").map(String::as_str), Some("mimi"));
    assert!(from[0].namespace_selector.is_none(), "Mimi's pods in Mimi's namespace only");
}
