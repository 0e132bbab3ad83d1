//! Bad input gets a clear error (file, line, fix), exit code 1, and nothing half-written.

use std::io::Write;
use std::path::Path;
use std::process::Output;

use crate::common::{assert_user_error, emwheel, ensure_target, repo, test_home, TARGET};

/// Snapshots a rendered error (`tests/it/snapshots/`), with temp paths and random suffixes
/// replaced so that the snapshot holds on any machine.
fn assert_rendered(name: &str, stderr: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&escape(env!("CARGO_TARGET_TMPDIR")), "[TARGET_TMP]");
    settings.add_filter(&escape(env!("CARGO_MANIFEST_DIR")), "[REPO]");
    settings.add_filter(r"/[^\s`']*/\.tmp[A-Za-z0-9]{6}", "[TMP]");
    settings.add_filter(
        r"(emwheel-[a-z0-9_-]+?-|\.partial-)[A-Za-z0-9]{6}\b",
        "${1}[RANDOM]",
    );
    // The emcc in use depends on the machine; the opt-in's warning is not the error.
    settings.add_filter(r"warning: emcc [^\n]*does not match[^\n]*\n", "");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, stderr));
}

/// `text` as a regular expression matching itself.
fn escape(text: &str) -> String {
    let special = |c: char| r"\.+*?()|[]{}^$".contains(c);
    text.chars()
        .flat_map(|c| special(c).then_some('\\').into_iter().chain([c]))
        .collect()
}

/// Asserts exit code 2 (a usage error) and returns stderr.
fn assert_usage_error(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    stderr
}

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
    assert_rendered("malformed_recipe", &stderr);
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
    assert_rendered("unknown_key", &stderr);
}

/// A recipe of `[package]` x 1.0 with `source` as its `[source]` table and `rest` after.
fn recipe_with(source: &str, rest: &str) -> String {
    format!("[package]\nname = \"x\"\nversion = \"1.0\"\n\n[source]\n{source}\n{rest}")
}

/// Recipe errors caught before anything runs: each names its line and the fix.
#[test]
fn recipe_mistakes_are_caught_with_their_place() {
    let six_sha = "sha256 = \"ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81\"";
    let cases = [
        (
            "wrong_type_list",
            recipe_with("path = \".\"", "[requirements]\nhost = \"numpy\"\n"),
            "recipe.toml:8:",
        ),
        (
            "wrong_type",
            recipe_with("path = \".\"", "[build]\npure = \"yes\"\n"),
            "recipe.toml:8:",
        ),
        (
            "missing_sha256_for_pypi",
            recipe_with("pypi = \"six==1.17.0\"", ""),
            "recipe.toml:6:",
        ),
        (
            "bad_pypi_pin",
            recipe_with(&format!("pypi = \"six>=1.0\"\n{six_sha}"), ""),
            "recipe.toml:6:",
        ),
        (
            "two_sources",
            recipe_with(
                &format!("pypi = \"six==1.17.0\"\n{six_sha}\npath = \".\""),
                "",
            ),
            "recipe.toml:8:",
        ),
    ];
    for (name, text, place) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_recipe(dir.path(), &text);
        let stderr = build_error(dir.path(), &dir.path().join("out"), &[]);
        assert!(stderr.contains(place), "{name}: {stderr}");
        assert!(stderr.contains("help:"), "{name}: {stderr}");
        assert_rendered(name, &stderr);
    }
}

#[test]
fn bad_flags_are_usage_errors() {
    let cases: [(&str, &[&str]); 3] = [
        (
            "target_without_value",
            &["build", "recipes/six", "--target"],
        ),
        ("unknown_flag", &["build", "recipes/six", "--frobnicate"]),
        ("build_without_path", &["build"]),
    ];
    for (name, args) in cases {
        let output = emwheel().args(args).current_dir(repo()).output().unwrap();
        let stderr = assert_usage_error(&output);
        assert_rendered(name, &stderr);
    }
}

/// A tar.gz whose one member is named `name`, as a hostile tool writes it.
fn tar_gz_with(name: &str) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    header.set_size(4);
    header.set_mode(0o644);
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&header, &b"evil"[..]).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&builder.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_hostile_source_archive_is_refused_naming_the_entry() {
    ensure_target();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x-1.0.tar.gz"), tar_gz_with("../../evil")).unwrap();
    write_recipe(dir.path(), &recipe_with("path = \"x-1.0.tar.gz\"", ""));
    let out = dir.path().join("out");
    let stderr = build_error(dir.path(), &out, &["--allow-emcc-mismatch"]);
    assert!(
        stderr.contains("refused entry `../../evil`: its path contains `..`"),
        "{stderr}"
    );
    assert!(!out.exists());
    let kept = kept_build_dir(&stderr);
    assert!(!Path::new(kept).join("../evil").exists(), "written outside");
    assert_rendered("hostile_archive", &stderr);
    std::fs::remove_dir_all(kept).unwrap();
}

/// The build directory a failure names.
fn kept_build_dir(stderr: &str) -> &str {
    stderr
        .split("build directory kept at `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("the kept directory is named")
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
    let kept = kept_build_dir(&stderr);
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
