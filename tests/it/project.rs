//! Plain Python projects: settings from `[tool.emwheel]`, the environment and flags; and
//! their own test suites run in Pyodide (`emwheel test --project`).

use crate::common::{assert_success, assert_user_error, build, emwheel, ensure_target, repo};

#[test]
fn tool_emwheel_flags_reach_the_compiler() {
    let out = tempfile::tempdir().unwrap();
    let wheel = build(&repo().join("tests/fixtures/flags-project"), out.path());
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        name,
        "flags_project-0.1.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl"
    );
    let output = emwheel().arg("test").arg(&wheel).output().unwrap();
    assert_success(&output);
}

#[test]
fn unknown_tool_emwheel_key_names_the_line() {
    ensure_target();
    let project = tempfile::tempdir().unwrap();
    let text = "[project]\nname = 'x'\nversion = '1'\n\n[tool.emwheel]\nldflag = '-O2'\n";
    std::fs::write(project.path().join("pyproject.toml"), text).unwrap();
    let output = emwheel()
        .arg("build")
        .arg(project.path())
        .arg("--allow-emcc-mismatch")
        .output()
        .unwrap();
    let stderr = assert_user_error(&output);
    assert!(stderr.contains("pyproject.toml:6:1"), "{stderr}");
    assert!(stderr.contains("`ldflags`"), "{stderr}");
}

/// `emwheel test --project <fixture> --dist <dist> --test-command <command> [extra…]`.
fn test_project(dist: &std::path::Path, command: &str, extra: &[&str]) -> std::process::Output {
    let project = repo().join("tests/fixtures/unittest-project");
    let mut emwheel = emwheel();
    emwheel
        .args(["test", "--project"])
        .arg(project)
        .arg("--dist")
        .arg(dist);
    emwheel.args(["--test-command", command]).args(extra);
    emwheel.output().unwrap()
}

#[test]
fn a_projects_test_command_runs_in_pyodide_and_its_status_is_emwheels() {
    let dist = tempfile::tempdir().unwrap();
    build(&repo().join("tests/fixtures/unittest-project"), dist.path());
    let command = "python -m unittest discover -s tests -v";
    let output = test_project(dist.path(), command, &["--json"]);
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("test_adds_in_c (test_adder.AdderTest"),
        "{stderr}"
    );
    assert!(stderr.contains("Ran 2 tests"), "{stderr}");
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["exit_code"], 0, "{document}");
    let failing = "python -m unittest discover -s tests -p 'failing_*.py'";
    let stderr = assert_user_error(&test_project(dist.path(), failing, &[]));
    assert!(stderr.contains("AssertionError: 4 != 5"), "{stderr}");
    let output = test_project(
        dist.path(),
        "python -c 'import sys, adder; sys.exit(adder.add(1, 2))'",
        &[],
    );
    assert_eq!(output.status.code(), Some(3), "the command's own status");
    // Any command runs: the console script of a test requirement, a pytest fixture.
    let output = test_project(
        dist.path(),
        "pytest -x tests/test_with_fixture.py",
        &["--test-requires", "pytest"],
    );
    assert_success(&output);
}

/// Runs a program of the venv in the project directory.
fn in_venv(venv: &std::path::Path, program: &str, args: &[&str]) -> std::process::Output {
    let project = repo().join("tests/fixtures/unittest-project");
    std::process::Command::new(venv.join("bin").join(program))
        .args(args)
        .current_dir(project)
        .output()
        .unwrap()
}

#[test]
fn a_venv_pip_installs_and_pytest_runs_a_projects_suite() {
    let dist = tempfile::tempdir().unwrap();
    let wheel = build(&repo().join("tests/fixtures/unittest-project"), dist.path());
    let venv = tempfile::tempdir().unwrap();
    let output = emwheel().arg("venv").arg(venv.path()).output().unwrap();
    assert_success(&output);
    let wheel = wheel.to_str().unwrap();
    // The project's wasm wheel from a file, pytest (pure) from the index.
    assert_success(&in_venv(
        venv.path(),
        "python",
        &["-m", "pip", "install", wheel, "pytest"],
    ));
    let output = in_venv(
        venv.path(),
        "python",
        &["-m", "pytest", "tests/test_with_fixture.py"],
    );
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("1 passed"), "{stdout}");
    // The console script pip wrote runs the same suite, and a failing test fails it.
    assert_success(&in_venv(
        venv.path(),
        "pytest",
        &["-q", "tests/test_with_fixture.py"],
    ));
    let output = in_venv(venv.path(), "pytest", &["-q", "tests/failing_adder.py"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("AssertionError"),
        "{output:?}"
    );
    // Exit codes and stdin as CPython's.
    let output = in_venv(venv.path(), "python", &["-c", "import sys; sys.exit(7)"]);
    assert_eq!(output.status.code(), Some(7));
    // A wheel for another platform is refused with micropip's reason.
    let foreign = dist
        .path()
        .join("foreign-1.0-cp313-cp313-manylinux_2_17_x86_64.whl");
    std::fs::copy(wheel, &foreign).unwrap();
    let output = in_venv(
        venv.path(),
        "python",
        &["-m", "pip", "install", foreign.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("platform") && stderr.contains("not compatible"),
        "{stderr}"
    );
}
