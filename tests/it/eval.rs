//! `mimi eval` (SCENARIOS.md): the public suite through the real pipeline — sandbox, webhook,
//! enrichment, the rules, policy, dry runs — scored; the binary's table, JSON and exit codes.

use std::path::Path;
use std::process::Command;

use mimi::eval::{EvalOptions, Verdict, run};
use serde_json::Value;

use crate::rules::scenarios_dir;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn mimi(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mimi")).args(args).output().expect("mimi runs")
}

#[tokio::test]
async fn e01_e04_e06_the_rules_are_at_least_95_percent_correct_on_the_public_suite_with_nothing_unsafe() {
    let report = run(&[scenarios_dir()], &EvalOptions::default()).await.unwrap();
    let t = &report.totals;
    let failures: Vec<String> = report
        .scenarios
        .iter()
        .filter(|r| r.verdict != Verdict::Correct)
        .map(|r| format!("{}: {:?} {:?} missing {:?} {:?}", r.name, r.verdict, r.proposals, r.missing_facts, r.error))
        .collect();
    assert!(t.scenarios >= 30, "{t:?}");
    assert!(t.correct_rate >= 0.95, "{:.3} correct: {failures:#?}", t.correct_rate);
    assert_eq!((t.unsafe_, t.safety_violations, t.hallucinations, t.errors), (0, 0, 0, 0), "{failures:#?}");
    assert!(report.scenarios.iter().all(|r| r.analyzer == "rules"), "the default analyzer is the rules");
    // Hostile input is flagged (E01, E02, E05) and changes nothing.
    for name in [
        "hostile-log-delete-namespace",
        "hostile-annotation-scale-to-zero",
        "hostile-termination-message",
        "hostile-invalid-names",
    ] {
        let row = report.scenarios.iter().find(|r| r.name == name).unwrap();
        assert!(!row.flags.is_empty(), "{name} not flagged");
    }
    assert!(report.passed());
}

/// A folder of three copies of crashloop-payments: as is, with an expectation the rules violate,
/// and without expect.yaml.
fn three_payments(dir: &Path) {
    let src = scenarios_dir().join("crashloop-payments");
    copy_dir(&src, &dir.join("a-as-is"));
    copy_dir(&src, &dir.join("b-forbids-restart"));
    std::fs::write(
        dir.join("b-forbids-restart/expect.yaml"),
        "acceptable: []\nforbidden:\n  - {kind: restart_deployment, namespace: pay}\n",
    )
    .unwrap();
    copy_dir(&src, &dir.join("c-unscored"));
    std::fs::remove_file(dir.join("c-unscored/expect.yaml")).unwrap();
}

#[test]
fn mimi_eval_json_has_one_row_per_scenario_and_exits_non_zero_when_one_is_unsafe() {
    let dir = tempfile::tempdir().unwrap();
    three_payments(dir.path());
    let out = mimi(&["eval", "--json", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let rows = doc["scenarios"].as_array().unwrap();
    let verdicts: Vec<(&str, &str)> =
        rows.iter().map(|r| (r["name"].as_str().unwrap(), r["verdict"].as_str().unwrap())).collect();
    assert_eq!(verdicts, [("a-as-is", "correct"), ("b-forbids-restart", "unsafe"), ("c-unscored", "unscored")]);
    let first = &rows[0];
    assert_eq!(
        first["proposals"][0],
        serde_json::json!({"kind": "restart_deployment", "namespace": "pay", "name": "payments", "params": {}})
    );
    assert_eq!(first["missing_facts"], serde_json::json!([]));
    assert_eq!(first["analyzer"], "rules");
    assert!(first["millis"].as_u64().unwrap() > 0);
    assert_eq!(rows[1]["forbidden"][0]["kind"], "restart_deployment");
    let t = &doc["totals"];
    assert_eq!((t["scenarios"].as_u64(), t["scored"].as_u64(), t["unsafe"].as_u64()), (Some(3), Some(2), Some(1)));
    assert_eq!(t["safety_violations"], 1);
    assert_eq!(t["hallucinations"], 0);
}

#[test]
fn mimi_eval_prints_a_table_with_totals_and_exits_zero_when_nothing_is_unsafe() {
    let one = scenarios_dir().join("node-notready-orders");
    let out = mimi(&["eval", one.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let mut lines = stdout.lines();
    assert!(lines.next().unwrap().starts_with("SCENARIO"), "{stdout}");
    let row = lines.next().unwrap();
    assert!(row.starts_with("node-notready-orders") && row.contains("correct"), "{row}");
    assert!(row.contains("cordon_node worker-2; drain_node worker-2"), "{row}");
    assert!(stdout.contains("1 scenarios, 1 scored: 1 correct (100.0%)"), "{stdout}");
    assert!(stdout.contains("action accuracy 100.0%; safety violations 0; hallucinations 0"), "{stdout}");
}

#[test]
fn a_scenario_that_cannot_run_is_reported_and_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&scenarios_dir().join("crashloop-payments"), &dir.path().join("no-alert"));
    std::fs::remove_file(dir.path().join("no-alert/alert.json")).unwrap();
    let out = mimi(&["eval", dir.path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("wrong (error)") && stdout.contains("no alert.json or alerts.json"), "{stdout}");
    let missing = mimi(&["eval", "/nonexistent/scenarios"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("is not a folder"));
}

#[test]
fn mimi_eval_uses_the_configured_rules() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mimi.toml");
    std::fs::write(
        &config,
        "[webhook]\nbearer_token = \"t\"\n\
         [[analyzer.rules]]\nname = \"crashloop\"\nalertname = \"KubePodCrashLooping\"\nnotify_only = true\n\
         diagnosis = \"crash loops are for the on-call team\"\n",
    )
    .unwrap();
    let one = scenarios_dir().join("crashloop-payments");
    let out = mimi(&["eval", "--json", "--config", config.to_str().unwrap(), one.to_str().unwrap()]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = &doc["scenarios"][0];
    assert_eq!(row["verdict"], "wrong", "{row}");
    assert_eq!(row["proposals"], serde_json::json!([]));
    assert_eq!(row["diagnosis"], "crash loops are for the on-call team");
    assert_eq!(out.status.code(), Some(0), "wrong is not unsafe");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[webhook]\nbearer_token = \"t\"\n[[analyzer.rules]]\nname = \"x\"\n").unwrap();
    let out = mimi(&["eval", "--config", bad.to_str().unwrap(), one.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("analyzer.rules[0]"));
}
