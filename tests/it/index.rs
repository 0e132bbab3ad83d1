//! Lockfile, static index and server end to end: Pyodide under Node installs from the
//! served index with micropip and loads packages through the served lockfile; the lockfile
//! passes Pyodide's reference parser; pip downloads from the index.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use emwheel::crossenv::Target;
use emwheel::runtime::{PyodideRuntime, TestSpec};

use crate::common::{assert_success, assert_user_error, build, emwheel, repo, test_home, TARGET};

/// `emwheel serve` on a free loopback port, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
}

impl Server {
    pub(crate) fn start(site: &Path) -> Server {
        Self::start_with(site, &[])
    }

    /// As [`Server::start`], with more `emwheel serve` arguments (e.g. `--demo`).
    pub(crate) fn start_with(site: &Path, extra: &[&str]) -> Server {
        let mut child = emwheel()
            .args(["serve", "--port", "0", "--max-seconds", "300"])
            .args(extra)
            .arg(site)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("serving ")
            .expect("the bound address")
            .trim_end_matches('/')
            .to_string();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> PyodideRuntime {
    let target = Target::open(&test_home().join("targets").join(TARGET)).unwrap();
    let micropip = target
        .info
        .micropip_wheels
        .iter()
        .map(|wheel| target.dir.join(wheel))
        .collect();
    PyodideRuntime::new(target.runtime_dir(), micropip)
}

fn run_in_pyodide(spec: &TestSpec) {
    let work = tempfile::tempdir().unwrap();
    let outcome = runtime().run_tests(spec, work.path()).unwrap();
    assert!(outcome.passed, "{:#?}\n{}", outcome.failures, outcome.log);
}

/// A dist dir with markupsafe, six, the C++ fixture and the Meson fixture (whose tests are
/// unvendored into `meson-ext-tests.zip`).
fn dist() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dist = root.path().join("dist");
    for recipe in [
        "recipes/markupsafe",
        "recipes/six",
        "tests/fixtures/cxx-ext",
        "tests/fixtures/meson-ext",
    ] {
        build(&repo().join(recipe), &dist);
    }
    (root, dist)
}

/// Writes the index of `dist` into `site`, with absolute URLs when `base_url` is given.
pub(crate) fn index(dist: &Path, site: &Path, base_url: Option<&str>) {
    let mut command = emwheel();
    command.arg("index").arg(dist).arg("-o").arg(site);
    if let Some(base_url) = base_url {
        command.args(["--base-url", base_url]);
    }
    assert_success(&command.output().unwrap());
}

#[test]
fn pyodide_installs_from_the_served_index_and_lockfile() {
    let (root, dist) = dist();
    let site = root.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let server = Server::start(&site);
    index(&dist, &site, Some(&server.url));
    // Pinned: a name Pyodide's own lockfile has at that version would be taken from its CDN.
    run_in_pyodide(&TestSpec {
        requirements: vec!["markupsafe==2.1.5".into(), "cxx-ext".into()],
        index_urls: vec![format!("{}/simple", server.url)],
        imports: vec!["markupsafe._speedups".into(), "cxx_ext".into()],
        ..TestSpec::default()
    });
    run_in_pyodide(&TestSpec {
        lock_file_url: Some(site.join("pyodide-lock.json").display().to_string()),
        load_packages: vec!["markupsafe".into(), "six".into()],
        imports: vec!["markupsafe._speedups".into(), "six".into()],
        script: Some("import markupsafe\nassert markupsafe.__version__ == '2.1.5'".into()),
        ..TestSpec::default()
    });
    let download = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
        ])
        .args([
            "--platform",
            "pyemscripten_2025_0_wasm32",
            "--python-version",
            "3.13",
        ])
        .args(["--implementation", "cp", "--abi", "cp313", "--dest"])
        .arg(download.path())
        .args([
            "--index-url",
            &format!("{}/simple/", server.url),
            "markupsafe==2.1.5",
        ])
        .status()
        .unwrap();
    assert!(
        status.success(),
        "pip download from the served index failed"
    );
    assert_eq!(std::fs::read_dir(download.path()).unwrap().count(), 1);
}

/// A venv with Pyodide's reference lockfile parser, made once per test home. pyodide-lock
/// 0.2 (for Pythons from 3.12 on, so made with the target's host Python 3.13) reads the
/// lockfiles of Pyodide 0.27 to 314; 0.1.x, the newest for older Pythons, still requires
/// `info.version`, which 0.29 and 314 no longer write.
fn reference_parser() -> PathBuf {
    let venv = test_home().join("pyodide-lock-0.2-venv");
    let python = venv.join("bin/python");
    if !python.is_file() {
        let target = Target::open(&test_home().join("targets").join(TARGET)).unwrap();
        assert!(Command::new(&target.info.host_python)
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap()
            .success());
        let install = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "pyodide-lock>=0.2"])
            .status()
            .unwrap();
        assert!(install.success(), "pip install pyodide-lock failed");
    }
    python
}

/// Validates a lockfile with the reference parser and prints the number of packages.
const VALIDATE: &str =
    "import sys; from pathlib import Path; from pyodide_lock import PyodideLockSpec
print(len(PyodideLockSpec.from_json(Path(sys.argv[1])).packages))";

/// The reference parser's package count for `lock`; a rejection fails the test.
fn validate(lock: &Path) -> usize {
    let output = Command::new(reference_parser())
        .args(["-c", VALIDATE])
        .arg(lock)
        .output()
        .unwrap();
    assert_success(&output);
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn the_lockfile_passes_the_reference_parser() {
    let (root, dist) = dist();
    let site = root.path().join("site");
    index(&dist, &site, None);
    let output = emwheel().arg("lock").arg(&dist).output().unwrap();
    assert_success(&output);
    for lock in [
        dist.join("pyodide-lock.json"),
        site.join("pyodide-lock.json"),
    ] {
        assert!(
            validate(&lock) > 300,
            "base packages kept: {}",
            lock.display()
        );
        let text = std::fs::read_to_string(&lock).unwrap();
        assert!(text.contains("\"cxx-ext\""), "the built wheels are listed");
        let lock: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(lock["packages"]["meson-ext"]["unvendored_tests"], true);
        assert_eq!(
            lock["packages"]["meson-ext-tests"]["depends"],
            serde_json::json!(["meson-ext"])
        );
    }
}

#[test]
fn a_corrupt_wheel_is_named_and_nothing_is_written() {
    crate::common::ensure_target();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("broken-1.0-py3-none-any.whl"),
        b"not a zip",
    )
    .unwrap();
    let output = emwheel().arg("lock").arg(dist.path()).output().unwrap();
    let stderr = assert_user_error(&output);
    assert!(stderr.contains("broken-1.0-py3-none-any.whl"), "{stderr}");
    assert!(!dist.path().join("pyodide-lock.json").exists());
}

#[test]
fn lockfiles_for_pyodide_0_27_and_314_pass_the_reference_parser() {
    for version in ["0.27.7", "314.0.7"] {
        let output = emwheel()
            .args(["target", "install", version])
            .output()
            .unwrap();
        assert_success(&output);
        let dist = tempfile::tempdir().unwrap();
        let output = emwheel()
            .args(["build", "--allow-emcc-mismatch", "--target", version, "-o"])
            .arg(dist.path())
            .arg(repo().join("recipes/markupsafe"))
            .output()
            .unwrap();
        assert_success(&output);
        let output = emwheel()
            .args(["lock", "--target", version])
            .arg(dist.path())
            .output()
            .unwrap();
        assert_success(&output);
        let lock = dist.path().join("pyodide-lock.json");
        assert!(validate(&lock) > 300, "{version}");
        let text = std::fs::read_to_string(&lock).unwrap();
        let lock: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys = |entry: &serde_json::Value| {
            entry
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(&lock["packages"]["markupsafe"]),
            keys(&lock["packages"]["six"]),
            "{version}"
        );
    }
}
