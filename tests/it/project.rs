//! Plain Python projects: settings from `[tool.emwheel]`, the environment and flags.

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
