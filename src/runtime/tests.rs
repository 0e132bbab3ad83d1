use std::os::unix::fs::PermissionsExt;

use super::*;

/// A runtime whose "node" is a shell script, inside a temp dir with fake Pyodide files.
fn fake_runtime(node_script: &str) -> (tempfile::TempDir, PyodideRuntime) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("pyodide.mjs"), "").unwrap();
    fs::write(dir.path().join("micropip.whl"), "").unwrap();
    let node = dir.path().join("fake-node");
    fs::write(&node, format!("#!/bin/sh\n{node_script}\n")).unwrap();
    fs::set_permissions(&node, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut runtime = PyodideRuntime::new(dir.path(), vec![dir.path().join("micropip.whl")]);
    runtime.node = node;
    (dir, runtime)
}

fn run(runtime: &PyodideRuntime, dir: &tempfile::TempDir) -> Result<TestOutcome, RuntimeError> {
    runtime.run_tests(&TestSpec::default(), &dir.path().join("work"))
}

fn spec_with_wheels(count: usize) -> TestSpec {
    let wheels = (0..count)
        .map(|i| PathBuf::from(format!("w{i}.whl")))
        .collect();
    TestSpec {
        wheels,
        ..TestSpec::default()
    }
}

fn report(json: &str) -> Report {
    serde_json::from_str(json).unwrap()
}

#[test]
fn outcome_passes_when_everything_installed_and_nothing_failed() {
    let report = report(r#"{"installed": ["w0.whl"], "failures": []}"#);
    let outcome = TestOutcome::new(report, &spec_with_wheels(1), 1.5, "log".into());
    assert!(outcome.passed);
    assert_eq!(outcome.installed, ["w0.whl"]);
    assert_eq!(outcome.log, "log");
}

#[test]
fn outcome_fails_on_an_import_failure_and_keeps_its_traceback() {
    let json = r#"{"installed": [], "failures": [{"stage": "import", "target": "nope",
        "message": "Traceback ...\nModuleNotFoundError: No module named 'nope'\n"}]}"#;
    let outcome = TestOutcome::new(report(json), &TestSpec::default(), 0.0, String::new());
    assert!(!outcome.passed);
    let failure = &outcome.failures[0];
    assert_eq!(
        (failure.stage, failure.target.as_str()),
        (Stage::Import, "nope")
    );
    let shown = failure.to_string();
    assert!(
        shown.starts_with("import of `nope` failed:\nTraceback"),
        "{shown}"
    );
    assert!(shown.ends_with("'nope'"), "{shown}");
}

#[test]
fn outcome_fails_when_a_wheel_was_not_installed() {
    let report = report(r#"{"installed": ["w0.whl"], "failures": []}"#);
    assert!(!TestOutcome::new(report, &spec_with_wheels(2), 0.0, String::new()).passed);
}

#[test]
fn unknown_stage_is_rejected() {
    let json = r#"{"installed": [], "failures": [{"stage": "x", "target": "", "message": ""}]}"#;
    assert!(serde_json::from_str::<Report>(json).is_err());
}

#[test]
fn job_fields_are_the_ones_the_runner_reads() {
    let job = Job {
        runtime_dir: "/r".into(),
        micropip_wheels: vec!["/m.whl".into()],
        wheels: vec![],
        imports: &[],
        script: None,
        requirements: &[],
        index_urls: &[],
        lock_file_url: None,
        load_packages: &[],
        result_path: "/res.json".into(),
    };
    let value = serde_json::to_value(&job).unwrap();
    for key in value.as_object().unwrap().keys() {
        assert!(
            RUNNER.contains(&format!("job.{key}")),
            "runner never reads `{key}`"
        );
    }
}

#[test]
fn tail_keeps_the_last_lines() {
    let log: String = (0..100).map(|i| format!("line {i}\n")).collect();
    let tail = tail(&log);
    assert_eq!(tail.lines().count(), TAIL_LINES);
    assert!(tail.starts_with("line 60\n") && tail.ends_with("line 99"));
    assert_eq!(super::tail("short"), "short");
}

#[test]
fn missing_node_names_the_binary_and_the_fix() {
    let (dir, mut runtime) = fake_runtime("");
    runtime.node = dir.path().join("no-such-node");
    let message = run(&runtime, &dir).unwrap_err().to_string();
    assert!(message.starts_with("node.js not found at `"), "{message}");
    assert!(message.contains("install Node.js >= 18"), "{message}");
}

#[test]
fn bare_node_name_is_looked_up_on_path() {
    let (dir, mut runtime) = fake_runtime("");
    runtime.node = "sh".into(); // runs the runner as a shell script, which fails
    let error = run(&runtime, &dir).unwrap_err();
    assert!(
        matches!(error, RuntimeError::RunnerFailed { .. }),
        "{error}"
    );
}

#[test]
fn missing_runtime_dir_and_wheels_are_reported_before_starting() {
    let (dir, mut runtime) = fake_runtime("");
    let spec = TestSpec {
        wheels: vec![dir.path().join("gone.whl")],
        ..TestSpec::default()
    };
    let error = runtime.run_tests(&spec, dir.path()).unwrap_err();
    assert!(matches!(&error, RuntimeError::WheelMissing { path } if path.ends_with("gone.whl")));
    runtime.runtime_dir = dir.path().join("nowhere");
    let message = run(&runtime, &dir).unwrap_err().to_string();
    assert!(message.contains("`pyodide.mjs` is missing"), "{message}");
}

#[test]
fn non_zero_exit_carries_command_status_and_output() {
    let (dir, runtime) = fake_runtime("echo 'cannot load pyodide' >&2; exit 3");
    let message = run(&runtime, &dir).unwrap_err().to_string();
    assert!(message.contains("pyodide_runner.mjs"), "{message}");
    assert!(message.contains("exited with code 3"), "{message}");
    assert!(message.ends_with("cannot load pyodide"), "{message}");
}

#[test]
fn missing_result_is_bad_output() {
    let (dir, runtime) = fake_runtime("echo done");
    let error = run(&runtime, &dir).unwrap_err();
    assert!(matches!(&error, RuntimeError::BadOutput { tail, .. } if tail == "done"));
}

#[test]
fn result_written_by_the_runner_is_read() {
    let script =
        r#"echo hello; echo '{"installed":[],"failures":[]}' >"$(dirname "$2")/result.json""#;
    let (dir, runtime) = fake_runtime(script);
    let outcome = run(&runtime, &dir).unwrap();
    assert!(outcome.passed && outcome.installed.is_empty());
    assert_eq!(outcome.log, "hello\n");
}

#[test]
fn hanging_runner_is_killed_after_the_timeout() {
    let (dir, mut runtime) = fake_runtime("echo started; exec sleep 30");
    runtime.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let message = run(&runtime, &dir).unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(message.contains("timed out after 300ms"), "{message}");
    assert!(message.ends_with("started"), "{message}");
}
