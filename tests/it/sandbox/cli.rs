//! `mimi sandbox`: the real binary serves a scenario and writes a kubeconfig kubectl can use.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::support::scenario;

#[tokio::test]
async fn mimi_sandbox_serves_a_scenario_to_kubectl_until_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mimi"))
        .args(["sandbox", "--scenario"])
        .arg(scenario("oomkilled-checkout"))
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if kubeconfig.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(kubeconfig.exists(), "the kubeconfig was written");

    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["get", "pods", "-n", "shop", "-o", "name"])
        .env("HOME", dir.path())
        .output()
        .expect("kubectl runs (tests/run.sh installs it)");
    let pods = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(pods.contains("pod/checkout-6d8f7c9b4-q2x7m"), "{pods}");

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(stdout.contains("sandbox listening on https://127.0.0.1:"), "{stdout}");
}
