//! The kubeconfig a sandbox hands out, and a kube-rs client built from it exactly as Mimi builds
//! one from a user's kubeconfig.

use anyhow::Context;
use kube::config::{KubeConfigOptions, Kubeconfig};

pub const CONTEXT: &str = "mimi-sandbox";

/// A kubeconfig for `server` (an `https://` URL) trusting `ca_pem`, with a bearer token.
pub fn render(server: &str, ca_pem: &str, token: &str) -> String {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {CONTEXT}
  cluster:
    server: {server}
    certificate-authority-data: {ca}
contexts:
- name: {CONTEXT}
  context:
    cluster: {CONTEXT}
    user: {CONTEXT}
    namespace: default
current-context: {CONTEXT}
users:
- name: {CONTEXT}
  user:
    token: {token}
preferences: {{}}
"
    )
}

/// A kube-rs config from kubeconfig YAML, as `Config::infer` would load it from a file.
pub async fn config(yaml: &str) -> anyhow::Result<kube::Config> {
    let kc = Kubeconfig::from_yaml(yaml).context("failed to parse the sandbox kubeconfig")?;
    kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .context("failed to load the sandbox kubeconfig")
}
