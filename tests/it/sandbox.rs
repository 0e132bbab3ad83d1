//! `emwheel build --sandbox` with the real toolchain: a recipe script that downloads or
//! writes outside its build directory fails with a clear error, and an honest build gives
//! the same wheel as without the sandbox.

use std::path::Path;
use std::process::Output;

use crate::common::{assert_success, assert_user_error, build_command, repo, test_home};

/// Builds `recipe` into `out`, with build directories in `tmp`, sandboxed or not.
fn build_in(recipe: &Path, out: &Path, tmp: &Path, sandbox: bool) -> Output {
    crate::common::ensure_target();
    let mut command = build_command(&test_home(), recipe, out);
    command.env("TMPDIR", tmp);
    if sandbox {
        command.arg("--sandbox");
    }
    command.output().unwrap()
}

fn fixture(name: &str) -> std::path::PathBuf {
    repo().join("tests/fixtures/sandbox").join(name)
}

#[test]
fn a_sandboxed_script_cannot_download() {
    let (out, tmp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandboxed = build_in(&fixture("download"), out.path(), tmp.path(), true);
    let stderr = assert_user_error(&sandboxed);
    assert!(stderr.contains("Network is unreachable"), "{stderr}");
    assert!(
        stderr.contains("`--sandbox`, which has no network"),
        "{stderr}"
    );
    // Without the sandbox the same script reaches the network stack (nothing listens).
    let open = build_in(&fixture("download"), out.path(), tmp.path(), false);
    let stderr = assert_user_error(&open);
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(!stderr.contains("--sandbox"), "{stderr}");
}

#[test]
fn a_sandboxed_script_cannot_write_outside_its_build_dir() {
    let (out, tmp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let escaped = tmp.path().join("escaped-from-the-sandbox");
    let sandboxed = build_in(&fixture("write"), out.path(), tmp.path(), true);
    let stderr = assert_user_error(&sandboxed);
    assert!(stderr.contains("Read-only file system"), "{stderr}");
    assert!(
        stderr.contains("lets it write only inside its build directory"),
        "{stderr}"
    );
    assert!(!escaped.exists(), "the sandboxed script wrote outside");
    let open = build_in(&fixture("write"), out.path(), tmp.path(), false);
    assert_success(&open);
    assert!(
        escaped.exists(),
        "without the sandbox the write goes through"
    );
}

#[test]
fn a_sandboxed_build_gives_the_same_wheel() {
    let tmp = tempfile::tempdir().unwrap();
    let wheels: Vec<Vec<u8>> = [true, false]
        .into_iter()
        .map(|sandbox| {
            let out = tempfile::tempdir().unwrap();
            let recipe = repo().join("recipes/markupsafe");
            assert_success(&build_in(&recipe, out.path(), tmp.path(), sandbox));
            let wheel = "markupsafe-2.1.5-cp313-cp313-pyemscripten_2025_0_wasm32.whl";
            std::fs::read(out.path().join(wheel)).unwrap()
        })
        .collect();
    assert!(wheels[0] == wheels[1], "the sandbox changed the wheel");
}
