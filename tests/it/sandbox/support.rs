//! Starting a sandbox for a test, and running the real kubectl against it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use mimi::sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use tempfile::TempDir;

/// A scenario folder of the project's `tests/scenarios/` by name.
pub fn scenario(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios").join(name);
    assert!(dir.is_dir(), "no scenario {}", dir.display());
    dir
}

pub struct Env {
    pub sandbox: SandboxHandle,
    pub client: kube::Client,
    pub dir: TempDir,
}

impl Env {
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub fn api<K>(&self, ns: &str) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), ns)
    }

    /// Pods of a namespace matching a label selector.
    pub async fn pods(&self, ns: &str, selector: &str) -> Vec<Pod> {
        self.api::<Pod>(ns).list(&ListParams::default().labels(selector)).await.expect("list pods").items
    }

    /// Runs kubectl with this sandbox's kubeconfig and a private cache and home.
    pub async fn kubectl(&self, args: &[&str]) -> std::process::Output {
        kubectl_command(self, args).output().await.expect("kubectl runs")
    }

    /// Runs kubectl and returns its stdout, failing the test with stderr if it failed.
    pub async fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args).await;
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "kubectl {args:?} failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
        stdout
    }
}

pub fn kubectl_command(env: &Env, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(kubectl_path());
    cmd.args(args)
        .env("KUBECONFIG", env.kubeconfig())
        .env("KUBECACHEDIR", env.dir.path().join("cache"))
        .env("HOME", env.dir.path())
        .kill_on_drop(true);
    cmd
}

/// kubectl from PATH; a clear failure when it is not installed.
pub fn kubectl_path() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join("kubectl")).find(|p| p.is_file()))
        .expect(
            "kubectl is not on PATH: install it (Debian package kubernetes-client) to run the sandbox kubectl tests",
        )
}

pub async fn start(name: &str) -> Env {
    start_with(name, SandboxOptions::default()).await
}

pub async fn start_with(name: &str, opts: SandboxOptions) -> Env {
    let sandbox = Sandbox::start(scenario(name), opts).await.expect("sandbox starts");
    let dir = tempfile::tempdir().expect("temp dir");
    sandbox.write_kubeconfig(dir.path().join("kubeconfig")).expect("kubeconfig written");
    let client = sandbox.client().await.expect("kube client");
    Env { sandbox, client, dir }
}

/// Polls `check` until it holds, failing after fifteen seconds with `what`.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

pub fn waiting_reason(p: &Pod) -> Option<String> {
    p.status.as_ref()?.container_statuses.as_ref()?.first()?.state.as_ref()?.waiting.as_ref()?.reason.clone()
}

pub fn api_error_code(e: &kube::Error) -> u16 {
    match e {
        kube::Error::Api(s) => s.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}
