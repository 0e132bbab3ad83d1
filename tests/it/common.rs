//! The test harness: an emwheel home shared by the tests (its target is installed once), and
//! the toolchain `scripts/setup` installed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

/// The Pyodide version the tests target unless they name another; the default target of the
/// shared test home.
pub const TARGET: &str = "0.29.5";

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The emwheel home the tests share: targets, source cache and build venvs persist across
/// runs under Cargo's target dir, so a second run does not fetch again.
pub fn test_home() -> PathBuf {
    let home = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("emwheel-home");
    static LINKED: OnceLock<()> = OnceLock::new();
    LINKED.get_or_init(|| link_toolchain(&home));
    home
}

/// Links the CPython headers, libffi's source, the Rust toolchain and playwright-core
/// (`node/`, for `test --browser`) of the setup toolchain into an emwheel home, where emwheel looks for them. emcc is not linked: tests name it
/// through `EMSDK`, or take it away.
fn link_toolchain(home: &Path) {
    let toolchain = home.join("toolchain");
    std::fs::create_dir_all(&toolchain).unwrap();
    for part in ["python-dev", "libffi", "rust", "node"] {
        let link = toolchain.join(part);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(toolchain_dir().join(part), &link).unwrap();
        }
    }
}

/// The toolchain `scripts/setup` installed (emcc, and the CPython 3.14 headers that
/// Pyodide 314 needs on a machine without Python 3.14). Missing is a failure, not a skip.
pub fn toolchain_dir() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".local/share")
        });
    let home = std::env::var_os("EMWHEEL_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| data.join("emwheel"));
    let toolchain = home.join("toolchain");
    assert!(
        toolchain.join("bin/emcc").is_file(),
        "emcc not found in {}: run scripts/setup first",
        toolchain.display()
    );
    toolchain
}

/// A fresh emwheel home for tests that need one of their own, with the setup toolchain's
/// CPython headers linked in where emwheel looks for them.
pub fn fresh_home() -> tempfile::TempDir {
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    link_toolchain(home.path());
    home
}

/// A fresh emwheel home (empty source cache and build envs) that shares the installed
/// targets of [`test_home`] (and its default) through a `targets` link, so it needs no
/// install of its own.
pub fn fresh_home_with_target() -> tempfile::TempDir {
    ensure_target();
    let home = fresh_home();
    std::os::unix::fs::symlink(test_home().join("targets"), home.path().join("targets")).unwrap();
    home
}

/// `emwheel build <recipe> -o <out> --allow-emcc-mismatch` with the home `home`.
pub fn build_command(home: &Path, recipe: &Path, out: &Path) -> Command {
    let mut command = emwheel_in(home);
    command
        .arg("build")
        .arg(recipe)
        .arg("-o")
        .arg(out)
        .arg("--allow-emcc-mismatch");
    command
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
        .env("EMSDK", toolchain_dir().join("bin"))
        .env_remove("EMWHEEL_ALLOW_EMCC_MISMATCH")
        .env_remove("SOURCE_DATE_EPOCH")
        .env("NO_COLOR", "1");
    command
}

/// `emwheel` with its own home (see [`fresh_home`]).
pub fn emwheel_in(home: &Path) -> Command {
    let mut command = emwheel();
    command.env("EMWHEEL_HOME", home);
    command
}

/// Installs the test target once per test run and makes it the default, so that tests which
/// install other targets in the shared home change no other test's default.
pub fn ensure_target() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        ensure_version(TARGET);
        assert_success(&emwheel().args(["target", "use", TARGET]).output().unwrap());
    });
}

/// Installs Pyodide `version` from npm in the shared test home, once per test run. The
/// CPython headers of a 3.14 target come from the toolchain `scripts/setup` installed, whose
/// headers [`test_home`] links into the home.
pub fn ensure_version(version: &str) {
    static INSTALLED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if !installed
        .get_or_insert_with(HashSet::new)
        .insert(version.to_string())
    {
        return;
    }
    let output = emwheel()
        .args(["target", "install", version])
        .output()
        .unwrap();
    assert_success(&output);
}

/// Runs `emwheel build <path> -o <out> --allow-emcc-mismatch` for the default target and
/// returns the wheel path.
pub fn build(path: &Path, out: &Path) -> PathBuf {
    ensure_target();
    build_with(path, out, &[]).0
}

/// Runs `emwheel build <path> -o <out> --allow-emcc-mismatch <extra…>` and returns the wheel.
pub fn build_for(path: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let extra: Vec<&std::ffi::OsStr> = extra.iter().map(std::ffi::OsStr::new).collect();
    build_with(path, out, &extra).0
}

/// As [`build_for`]; returns the wheel path (the first output line) and stderr.
pub fn build_with(path: &Path, out: &Path, extra: &[&std::ffi::OsStr]) -> (PathBuf, String) {
    let (outputs, stderr) = build_outputs(path, out, extra);
    (outputs.into_iter().next().unwrap_or_default(), stderr)
}

/// Runs `emwheel build <path> -o <out> --allow-emcc-mismatch <extra…>`; returns every path it
/// printed (the wheel or a library's manifest first, then archives beside it) and stderr.
pub fn build_outputs(
    path: &Path,
    out: &Path,
    extra: &[&std::ffi::OsStr],
) -> (Vec<PathBuf>, String) {
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
    let stdout = String::from_utf8(output.stdout).unwrap();
    let outputs = stdout.lines().map(PathBuf::from).collect();
    (
        outputs,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `emwheel test` on recipes whose wheels are in `dist`; all must pass.
pub fn assert_pass_in_pyodide<P: AsRef<std::ffi::OsStr>>(recipes: &[P], dist: &Path) {
    let mut command = emwheel();
    command.args(["test", "--target", TARGET]);
    assert_pass_with(command, recipes, dist);
}

/// Runs `command RECIPES --dist DIST`, where `command` is an `emwheel test` with its own
/// environment and options; every recipe must pass. Returns stderr for further checks.
pub fn assert_pass_with<P: AsRef<std::ffi::OsStr>>(
    mut command: Command,
    recipes: &[P],
    dist: &Path,
) -> String {
    let output = command
        .args(recipes)
        .arg("--dist")
        .arg(dist)
        .output()
        .unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        stderr.matches(": passed in").count(),
        recipes.len(),
        "{stderr}"
    );
    stderr
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

/// The names of a wheel's (or any zip's) entries, in archive order.
pub fn entries(wheel: &Path) -> Vec<String> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().to_string())
        .collect()
}
