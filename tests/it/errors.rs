//! Bad input gets a clear error (file, line, fix), exit code 1, and nothing half-written.

use std::path::Path;

use crate::common::{assert_user_error, emwheel, ensure_target, repo, test_home, TARGET};

fn write_recipe(dir: &Path, text: &str) {
    std::fs::write(dir.join("recipe.toml"), text).unwrap();
}

fn build_error(recipe: &Path, out: &Path, extra: &[&str]) -> String {
    let output = emwheel()
        .arg("build")
        .arg(recipe)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert_user_error(&output)
}

#[test]
fn malformed_recipe_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write_recipe(dir.path(), "[package]\nname = \"x\"\nversion = 1.0.0\n");
    let stderr = build_error(dir.path(), &dir.path().join("out"), &[]);
    assert!(stderr.contains("recipe.toml:3:"), "{stderr}");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn unknown_key_suggests_the_nearest() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "[package]\nname = \"x\"\nversion = \"1\"\n[source]\npypi = \"x==1\"\nsha265 = \"00\"\n";
    write_recipe(dir.path(), text);
    let stderr = build_error(dir.path(), &dir.path().join("out"), &[]);
    assert!(stderr.contains("recipe.toml:6:1"), "{stderr}");
    assert!(stderr.contains("`sha256`"), "{stderr}");
}

#[test]
fn sha256_mismatch_is_refused_before_unpacking() {
    ensure_target();
    let dir = tempfile::tempdir().unwrap();
    let wrong = "0".repeat(64);
    let text = format!("[package]\nname = \"six\"\nversion = \"1.17.0\"\n[source]\npypi = \"six==1.17.0\"\nsha256 = \"{wrong}\"\n");
    write_recipe(dir.path(), &text);
    let out = dir.path().join("out");
    let stderr = build_error(dir.path(), &out, &["--allow-emcc-mismatch"]);
    assert!(stderr.contains(&wrong), "{stderr}");
    assert!(
        stderr.contains("ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written on a mismatch");
    assert!(!test_home().join("sources").join(&wrong).exists());
}

#[test]
fn missing_emcc_says_how_to_install_it() {
    ensure_target();
    let out = tempfile::tempdir().unwrap();
    let output = emwheel()
        .env_remove("EMSDK")
        .env("PATH", "/usr/bin:/bin")
        .arg("build")
        .arg(repo().join("recipes/six"))
        .arg("-o")
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = assert_user_error(&output);
    assert!(stderr.contains("emcc not found"), "{stderr}");
    assert!(stderr.contains("scripts/setup"), "{stderr}");
}

#[test]
fn wrong_emcc_version_is_an_error_without_the_opt_in() {
    ensure_target();
    let out = tempfile::tempdir().unwrap();
    let stderr = build_error(&repo().join("recipes/six"), out.path(), &[]);
    assert!(
        stderr.contains("emcc 3.1.69 does not match the target's Emscripten 4.0.9"),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-emcc-mismatch"), "{stderr}");
}

#[test]
fn unknown_target_lists_the_installed_ones() {
    ensure_target();
    let out = tempfile::tempdir().unwrap();
    let stderr = build_error(
        &repo().join("recipes/six"),
        out.path(),
        &["--target", "9.9.9"],
    );
    assert!(
        stderr.contains("target `9.9.9` is not installed"),
        "{stderr}"
    );
    assert!(stderr.contains(TARGET), "{stderr}");
    assert!(stderr.contains("emwheel target install 9.9.9"), "{stderr}");
}

#[test]
fn compile_error_shows_command_log_tail_and_kept_dir() {
    ensure_target();
    let out = tempfile::tempdir().unwrap();
    let project = repo().join("tests/fixtures/broken-c");
    let stderr = build_error(&project, out.path(), &["--allow-emcc-mismatch"]);
    assert!(
        stderr.contains("building `broken-c` failed; build directory kept at"),
        "{stderr}"
    );
    assert!(stderr.contains("undeclared_function_here"), "{stderr}");
    assert!(
        stderr.contains("pep517_backend.py"),
        "the failing command is named:\n{stderr}"
    );
    let kept = stderr
        .split("build directory kept at `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("the kept directory is named");
    assert!(Path::new(kept).join("build.log").is_file(), "{kept}");
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "no wheel on failure"
    );
    std::fs::remove_dir_all(kept).unwrap();
}

#[test]
fn wrapper_without_config_explains_itself() {
    let dir = tempfile::tempdir().unwrap();
    let cc = dir.path().join("cc");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_emwheel"), &cc).unwrap();
    let output = std::process::Command::new(&cc)
        .args(["-c", "x.c"])
        .env_remove("EMWHEEL_WRAPPER_CONFIG")
        .output()
        .unwrap();
    let stderr = assert_user_error(&output);
    assert!(stderr.contains("emwheel wrapper:"), "{stderr}");
    assert!(stderr.contains("EMWHEEL_WRAPPER_CONFIG"), "{stderr}");
}

#[test]
fn doctor_verifies_the_toolchain_and_targets() {
    ensure_target();
    let output = emwheel().arg("doctor").output().unwrap();
    crate::common::assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("emcc 3.1.69"), "{stdout}");
    assert!(stdout.contains(&format!("target {TARGET}:")), "{stdout}");
}
