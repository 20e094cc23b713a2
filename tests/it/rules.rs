//! The runbook rules on evidence gathered from the sandbox (the enrich path, without the engine),
//! scored against every public scenario's `expect.yaml`; and `[[analyzer.rules]]` configuration.

use std::path::{Path, PathBuf};

use mimi::analyze::rules::RuleAnalyzer;
use mimi::config::{self, EvidenceSettings, Settings, load_from};
use mimi::domain::analysis::Analysis;
use mimi::eval::direct::analysis_input;
use mimi::eval::scenario::{self, ScenarioFiles};
use mimi::eval::{Outcome, Proposal, Verdict, score::score};

pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

/// The rules' analysis of a scenario: evidence gathered from a sandbox on it, as enrich does.
pub async fn analyse(files: &ScenarioFiles, rules: &RuleAnalyzer) -> Analysis {
    let input = analysis_input(files, &EvidenceSettings::default()).await.expect("the scenario runs");
    rules.analyze_now(&input)
}

pub fn outcome(a: &Analysis) -> Outcome {
    Outcome {
        analyzer: a.analyzer.clone(),
        version: a.version.clone(),
        diagnosis: a.diagnosis.clone(),
        facts: a.facts.clone(),
        flags: a.flags.clone(),
        offered: a
            .proposals
            .iter()
            .map(|p| Proposal {
                kind: p.action.kind.clone(),
                namespace: p.action.namespace.clone(),
                name: p.action.name.clone(),
                params: p.action.params.clone(),
            })
            .collect(),
        ..Outcome::default()
    }
}

#[tokio::test]
async fn the_rules_are_correct_safe_and_name_only_real_targets_on_every_public_scenario() {
    let dirs = scenario::discover(&[scenarios_dir()]).unwrap();
    assert!(dirs.len() >= 30, "{} scenarios", dirs.len());
    let rules = RuleAnalyzer::default();
    let mut failures = Vec::new();
    for dir in dirs {
        let files = scenario::read(&dir).unwrap_or_else(|e| panic!("{}: {e:#}", dir.display()));
        assert!(files.expect.is_some(), "{}: no expect.yaml", files.name);
        let a = analyse(&files, &rules).await;
        let s = score(files.expect.as_ref(), &files.objects, &outcome(&a));
        assert!(s.hallucinated.is_empty(), "{}: hallucinated {:?}", files.name, s.hallucinated);
        assert_ne!(s.verdict, Verdict::Unsafe, "{}: {a:#?}", files.name);
        if s.verdict != Verdict::Correct {
            failures.push(format!(
                "{} ({}): {:?}, missing {:?}\n{a:#?}",
                files.name, a.version, s.verdict, s.missing_facts
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
async fn e01_e02_hostile_scenarios_are_flagged() {
    let rules = RuleAnalyzer::default();
    for name in ["hostile-log-delete-namespace", "hostile-annotation-scale-to-zero", "hostile-termination-message"] {
        let files = scenario::read(&scenarios_dir().join(name)).unwrap();
        let a = analyse(&files, &rules).await;
        assert!(!a.flags.is_empty(), "{name}: not flagged: {a:#?}");
        assert!(a.confidence < Some(0.9), "{name}: {a:#?}");
    }
}

fn file(text: &str) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(format!("[webhook]\nbearer_token = \"t\"\n{text}").as_bytes()).unwrap();
    f
}

#[test]
fn h01_analyzer_rule_problems_name_the_key() {
    let rule = |body: &str| format!("[[analyzer.rules]]\nname = \"r\"\nalertname = \"A\"\n{body}");
    let cases: Vec<(String, &str)> = vec![
        ("[[analyzer.rules]]\nname = \"Bad Name\"\nalertname = \"A\"\n".into(), "analyzer.rules[0].name"),
        (
            "[[analyzer.rules]]\nname = \"a\"\nalertname = \"A\"\n[[analyzer.rules]]\nname = \"a\"\nalertname = \"B\"\n".into(),
            "analyzer.rules[1].name",
        ),
        ("[[analyzer.rules]]\nname = \"everything\"\n".into(), "analyzer.rules[0]"),
        (rule("evidence = \"(unclosed\""), "analyzer.rules[0].evidence"),
        (rule("confidence = 1.5"), "analyzer.rules[0].confidence"),
        (rule("labels = { \"bad-label\" = \"x\" }"), "analyzer.rules[0].labels.bad-label"),
        (rule("diagnosis = \"{nope}\""), "analyzer.rules[0].diagnosis"),
        (rule("notify_only = true\npropose = [{ kind = \"delete_pod\", namespace = \"x\", name = \"y\" }]"), "analyzer.rules[0].propose"),
        (rule("propose = [{ kind = \"exec_pod\", namespace = \"x\", name = \"y\" }]"), "analyzer.rules[0].propose[0].kind"),
        (rule("propose = [{ kind = \"delete_pod\", name = \"{pod}\" }]"), "analyzer.rules[0].propose[0].namespace"),
        (rule("propose = [{ kind = \"drain_node\", namespace = \"x\", name = \"{node}\" }]"), "analyzer.rules[0].propose[0].namespace"),
        (rule("propose = [{ kind = \"delete_pod\", namespace = \"{namespace}\", name = \"{pods}\" }]"), "analyzer.rules[0].propose[0].name"),
        (
            rule("propose = [{ kind = \"scale_deployment\", namespace = \"{namespace}\", name = \"{deployment}\" }]"),
            "analyzer.rules[0].propose[0].params.replicas",
        ),
        (
            rule("propose = [{ kind = \"restart_deployment\", namespace = \"n\", name = \"d\", params = { force = true } }]"),
            "analyzer.rules[0].propose[0].params.force",
        ),
        (
            rule("propose = [{ kind = \"scale_deployment\", namespace = \"n\", name = \"d\", params = { replicas = -1 } }]"),
            "analyzer.rules[0].propose[0].params.replicas",
        ),
        ("[[analyzer.rules]]\nname = \"mine\"\nenabled = false\n".into(), "analyzer.rules[0].enabled"),
        ("[[analyzer.rules]]\nname = \"no-match\"\nenabled = false\n".into(), "analyzer.rules[0].enabled"),
        (rule("typo = 1"), "typo"),
    ];
    for (toml, key) in cases {
        let f = file(&toml);
        let err = load_from(Some(f.path()), Vec::<(String, String)>::new()).expect_err(&toml);
        assert!(err.0.iter().any(|e| e.key == key || e.message.contains(key)), "{toml}\nwant {key}, got: {err}");
    }
}

#[test]
fn configured_rules_load_and_switch_built_in_ones_off() {
    let f = file(
        "[[analyzer.rules]]\nname = \"crashloop\"\nenabled = false\n\
         [[analyzer.rules]]\nname = \"db-down\"\nalertname = \"KubePodCrashLooping\"\nevidence = \"5432\"\n\
         propose = [{ kind = \"restart_deployment\", namespace = \"{namespace}\", name = \"{deployment}\" }]\n",
    );
    let settings: Settings = load_from(Some(f.path()), Vec::<(String, String)>::new()).unwrap();
    let rules = RuleAnalyzer::from_settings(&settings).unwrap();
    let names = rules.rule_names();
    assert_eq!(names[0], "db-down");
    assert!(!names.contains(&"crashloop"));
    let example = config::load_from(
        Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/mimi.example.toml")),
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    assert_eq!(RuleAnalyzer::from_settings(&example).unwrap().rule_names()[..2], ["payments-db-down", "batch-jobs"]);
}
