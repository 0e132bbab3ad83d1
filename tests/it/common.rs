//! The test harness: an emwheel home shared by the tests (its target is installed once), and
//! the toolchain `scripts/setup` installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The Pyodide version the tests target.
pub const TARGET: &str = "0.29.5";

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The emwheel home the tests share: targets, source cache and build venvs persist across
/// runs under Cargo's target dir, so a second run does not fetch again.
pub fn test_home() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("emwheel-home")
}

/// The toolchain `scripts/setup` installed. Missing is a failure, not a skip.
pub fn toolchain_bin() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".local/share")
        });
    let home = std::env::var_os("EMWHEEL_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| data.join("emwheel"));
    let bin = home.join("toolchain/bin");
    assert!(
        bin.join("emcc").is_file(),
        "emcc not found in {}: run scripts/setup first",
        bin.display()
    );
    bin
}

/// `emwheel` with the test home, the setup toolchain through `EMSDK`,
/// and no emcc mismatch opt-in (tests that build pass it explicitly).
pub fn emwheel() -> Command {
    // Kept build directories of failing builds land here, not in the machine's /tmp.
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_emwheel"));
    command
        .env("TMPDIR", tmp)
        .env("EMWHEEL_HOME", test_home())
        .env("EMSDK", toolchain_bin())
        .env_remove("EMWHEEL_ALLOW_EMCC_MISMATCH")
        .env_remove("SOURCE_DATE_EPOCH")
        .env("NO_COLOR", "1");
    command
}

/// Installs the test target once per test run.
pub fn ensure_target() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let output = emwheel()
            .args(["target", "install", TARGET])
            .output()
            .unwrap();
        assert_success(&output);
    });
}

/// Runs `emwheel build <path> -o <out> --allow-emcc-mismatch` and returns the wheel path.
pub fn build(path: &Path, out: &Path) -> PathBuf {
    build_with(path, out, &[]).0
}

/// As [`build`], with more arguments; returns the wheel path and stderr.
pub fn build_with(path: &Path, out: &Path, extra: &[&std::ffi::OsStr]) -> (PathBuf, String) {
    ensure_target();
    let output = emwheel()
        .arg("build")
        .arg(path)
        .arg("-o")
        .arg(out)
        .arg("--allow-emcc-mismatch")
        .args(extra)
        .output()
        .unwrap();
    assert_success(&output);
    let wheel = PathBuf::from(String::from_utf8(output.stdout).unwrap().trim());
    (wheel, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Runs `emwheel test` on recipes whose wheels are in `dist`; all must pass.
pub fn assert_pass_in_pyodide<P: AsRef<std::ffi::OsStr>>(recipes: &[P], dist: &Path) {
    let output = emwheel()
        .arg("test")
        .args(recipes)
        .arg("--dist")
        .arg(dist)
        .arg("--target")
        .arg(TARGET)
        .output()
        .unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches(": passed in").count(),
        recipes.len(),
        "{stderr}"
    );
}

/// Fails with both output streams when the command failed.
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Asserts exit code 1 and returns stderr.
pub fn assert_user_error(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    stderr
}
