//! One Pyodide for many recipes: a session runs several units (a recipe's wheels, imports,
//! script and pytest files) in one Node.js process, isolating each unit inside Python
//! (`templates/emwheel_session.py` says how), with a per-test timeout. `-j N` runs N sessions
//! side by side, the units dealt out round-robin. With a [`super::browser::Browser`] the same
//! session runs in a Web Worker of a headless Chromium page instead (same job, same result).

use std::path::{Path, PathBuf};
use std::time::Duration;

use fs_err as fs;
use serde::{Deserialize, Serialize};

use super::{PyodideRuntime, RuntimeError, TestFailure};

/// The session runner executed by Node.js; see the file for its job/result format.
const RUNNER: &str = include_str!("../../templates/pyodide_session.mjs");
/// The same session in headless Chromium (`--browser`), driven from Node.js.
const BROWSER_RUNNER: &str = include_str!("../../templates/pyodide_session_browser.mjs");
/// What both runners share (the watchdog and the work on the Pyodide side), beside them.
const CORE: &str = include_str!("../../templates/pyodide_session_core.mjs");
/// The Python side: isolation, the pytest plugin, the stand-in `pytest_pyodide`.
const SUPPORT: &str = include_str!("../../templates/emwheel_session.py");

/// One recipe's (or wheel's) tests in a session.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Unit {
    /// What the results are reported under (the input as given).
    pub name: String,
    /// Wheels installed in order with micropip (`deps=False`), which checks their tags.
    pub wheels: Vec<PathBuf>,
    /// `<name>-tests.zip` files unpacked into site-packages after the wheels.
    pub tests_zips: Vec<PathBuf>,
    /// Modules imported after installing.
    pub imports: Vec<String>,
    /// Python run after the imports (top-level `await` allowed).
    pub script: Option<String>,
    /// pytest files run last, from one temp directory.
    pub test_files: Vec<PathBuf>,
}

/// The result of one test function (or of a test file that did not import).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestResult {
    /// pytest's node id (`test_x.py::test_y`), or the file's for a collection error.
    pub nodeid: String,
    /// `passed`, `failed`, `error`, `skipped`, `xfailed` or `xpassed`.
    pub outcome: String,
    /// Time the test took.
    pub seconds: f64,
    /// The failure's report or the skip's reason; empty for a pass.
    pub message: String,
}

/// What a unit did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitResult {
    /// The unit's name.
    pub name: String,
    /// Wheels and tests zips installed.
    pub installed: Vec<String>,
    /// Failed installs, imports, the script, or the session itself.
    pub failures: Vec<TestFailure>,
    /// The pytest results.
    pub tests: Vec<TestResult>,
    /// What Python printed during the unit (pytest's report included).
    pub output: String,
    /// Time of the unit inside the running Pyodide.
    pub seconds: f64,
}

impl UnitResult {
    /// No failed step and no failed or erroring test (an xpass counts as a pass, as in pytest).
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
            && self
                .tests
                .iter()
                .all(|test| !matches!(test.outcome.as_str(), "failed" | "error"))
    }
}

#[derive(Debug, Serialize)]
struct Job<'a> {
    runtime_dir: PathBuf,
    micropip_wheels: Vec<PathBuf>,
    pytest_wheels: &'a [PathBuf],
    support: PathBuf,
    test_timeout: f64,
    result_path: PathBuf,
    units: Vec<Unit>,
}

#[derive(Debug, Deserialize)]
struct Report {
    units: Vec<UnitResult>,
    start_seconds: f64,
}

/// The results of all units, in the order given, and each session's Pyodide start-up time.
#[derive(Debug)]
pub struct SessionOutcome {
    /// One result per unit.
    pub units: Vec<UnitResult>,
    /// Seconds each session took to load Pyodide and pytest.
    pub start_seconds: Vec<f64>,
}

impl PyodideRuntime {
    /// Runs `units` in `jobs` sessions (at least one, at most one per unit) with pytest from
    /// `pytest_wheels`; a test quiet for longer than `test_timeout` is interrupted.
    pub fn run_session(
        &self,
        units: Vec<Unit>,
        pytest_wheels: &[PathBuf],
        test_timeout: Duration,
        jobs: usize,
        work_dir: &Path,
    ) -> Result<SessionOutcome, RuntimeError> {
        let jobs = jobs.clamp(1, units.len().max(1));
        let names: Vec<String> = units.iter().map(|unit| unit.name.clone()).collect();
        let mut shares: Vec<Vec<Unit>> = vec![Vec::new(); jobs];
        for (index, unit) in units.into_iter().enumerate() {
            shares[index % jobs].push(unit);
        }
        let reports = std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .into_iter()
                .enumerate()
                .map(|(index, share)| {
                    let dir = work_dir.join(format!("session-{index}"));
                    scope.spawn(move || self.one_session(share, pytest_wheels, test_timeout, &dir))
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("a session thread panicked"))
                .collect::<Result<Vec<Report>, RuntimeError>>()
        })?;
        let start_seconds = reports.iter().map(|report| report.start_seconds).collect();
        let mut results: Vec<UnitResult> = reports.into_iter().flat_map(|r| r.units).collect();
        results.sort_by_key(|result| names.iter().position(|name| *name == result.name));
        Ok(SessionOutcome {
            units: results,
            start_seconds,
        })
    }

    fn one_session(
        &self,
        units: Vec<Unit>,
        pytest_wheels: &[PathBuf],
        test_timeout: Duration,
        dir: &Path,
    ) -> Result<Report, RuntimeError> {
        fs::create_dir_all(dir)?;
        let dir = std::path::absolute(dir)?;
        let (runner_name, runner_text) = match self.browser {
            Some(_) => ("pyodide_session_browser.mjs", BROWSER_RUNNER),
            None => ("pyodide_session.mjs", RUNNER),
        };
        let (runner, support) = (dir.join(runner_name), dir.join("emwheel_session.py"));
        let (job_path, result_path) = (dir.join("job.json"), dir.join("result.json"));
        fs::write(&runner, runner_text)?;
        fs::write(dir.join("pyodide_session_core.mjs"), CORE)?;
        fs::write(&support, SUPPORT)?;
        let job = Job {
            runtime_dir: std::path::absolute(&self.runtime_dir)?,
            micropip_wheels: super::absolute_all(&self.micropip_wheels)?,
            pytest_wheels,
            support,
            test_timeout: test_timeout.as_secs_f64(),
            result_path: result_path.clone(),
            units,
        };
        let text = serde_json::to_vec_pretty(&job).map_err(std::io::Error::from)?;
        fs::write(&job_path, text)?;
        super::remove_if_present(&result_path)?;
        let files = super::RunFiles {
            runner,
            job: job_path,
            result: result_path,
            log: dir.join("session.log"),
        };
        let command = self.command_line(&files);
        let environment = match &self.browser {
            Some(browser) => browser.environment(&dir),
            None => Vec::new(),
        };
        let finish = self.run_node(&files, &command, environment)?;
        let log = String::from_utf8_lossy(&fs::read(&files.log)?).into_owned();
        self.check_finish(finish, &command, &log)?;
        let text = fs::read_to_string(&files.result)?;
        serde_json::from_str(&text).map_err(|e| RuntimeError::BadOutput {
            command,
            path: files.result.clone(),
            reason: format!("invalid result json: {e}"),
            tail: super::tail(&log),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(outcomes: &[&str], failures: usize) -> UnitResult {
        let failure = TestFailure {
            stage: super::super::Stage::Import,
            target: "x".into(),
            message: String::new(),
        };
        UnitResult {
            name: "u".into(),
            installed: Vec::new(),
            failures: vec![failure; failures],
            tests: outcomes
                .iter()
                .map(|outcome| TestResult {
                    nodeid: "t".into(),
                    outcome: (*outcome).into(),
                    seconds: 0.0,
                    message: String::new(),
                })
                .collect(),
            output: String::new(),
            seconds: 0.0,
        }
    }

    #[test]
    fn a_unit_fails_on_a_failed_or_erroring_test_or_a_failed_step() {
        assert!(unit(&["passed", "skipped", "xfailed", "xpassed"], 0).passed());
        assert!(!unit(&["passed", "failed"], 0).passed());
        assert!(!unit(&["error"], 0).passed());
        assert!(!unit(&["passed"], 1).passed());
    }

    #[test]
    fn the_session_result_reads_the_runners_json() {
        let json = r#"{"units": [{"name": "a", "installed": ["a.whl"], "failures": [],
            "tests": [{"nodeid": "test_a.py::test_x", "outcome": "passed", "seconds": 0.1,
            "message": ""}], "output": ".", "seconds": 0.5}], "start_seconds": 3.2}"#;
        let report: Report = serde_json::from_str(json).unwrap();
        assert_eq!(report.units[0].tests[0].nodeid, "test_a.py::test_x");
        assert!(report.units[0].passed());
        assert_eq!(report.start_seconds, 3.2);
    }
}
