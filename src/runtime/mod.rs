//! Runs Python inside the real Pyodide runtime under Node.js: installs wheels with micropip and test-imports modules.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use fs_err as fs;
use serde::{Deserialize, Serialize};

use crate::process::{Cmd, CmdError, Ended};

pub mod browser;
pub mod pytest_wheels;
pub mod session;

/// The JavaScript runner executed by Node.js; see the file for its job/result format.
const RUNNER: &str = include_str!("../../templates/pyodide_runner.mjs");
/// How many trailing log lines an error message quotes.
const TAIL_LINES: usize = 40;
/// The variables of emwheel's environment Node.js gets, when set: where to find programs and
/// temp space, the locale and time zone, Node's own options and certificates, and proxies
/// (micropip may fetch from an index). Nothing else of the parent's environment reaches it.
const NODE_ENVIRONMENT: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "TZ",
    "NODE_OPTIONS",
    "NODE_EXTRA_CA_CERTS",
    "NODE_USE_ENV_PROXY",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
];

/// How long one runner process may live before it is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// A Pyodide distribution plus the Node.js binary and micropip wheels used to drive it.
#[derive(Debug, Clone)]
pub struct PyodideRuntime {
    /// Directory holding `pyodide.mjs`, `pyodide.asm.wasm`, `python_stdlib.zip`, ….
    pub runtime_dir: PathBuf,
    /// micropip's wheel and the wheels it depends on (Pyodide 0.27's micropip 0.9.0 needs
    /// packaging), all loaded before installing anything.
    pub micropip_wheels: Vec<PathBuf>,
    /// The Node.js executable (a bare name is looked up on `PATH`).
    pub node: PathBuf,
    /// Lifetime of one runner process; it is killed and reported as a timeout after this.
    pub timeout: Duration,
    /// Test sessions run in this headless Chromium instead of Node.js's own Pyodide.
    pub browser: Option<browser::Browser>,
}

/// What to test in one fresh Pyodide instance.
#[derive(Debug, Clone, Default)]
pub struct TestSpec {
    /// Wheels installed in order with micropip (`deps=False`), which checks their tags.
    pub wheels: Vec<PathBuf>,
    /// Modules imported one by one with `importlib.import_module` after installing.
    pub imports: Vec<String>,
    /// Python code run with `runPythonAsync` after the imports (top-level `await` allowed).
    pub script: Option<String>,
    /// Requirements installed by name with micropip after the wheels, from `index_urls`.
    pub requirements: Vec<String>,
    /// Package indexes micropip looks in (PEP 503/691 URLs, without a trailing slash).
    pub index_urls: Vec<String>,
    /// A `pyodide-lock.json` Pyodide starts with instead of its own (under Node, a path:
    /// Pyodide reads it and the packages beside it from the file system).
    pub lock_file_url: Option<String>,
    /// Packages loaded with `pyodide.loadPackage` (through the lockfile) after the wheels.
    pub load_packages: Vec<String>,
}

/// The step of a test run that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// `micropip.install` of a wheel; later steps are skipped.
    Install,
    /// `importlib.import_module` of a module.
    Import,
    /// The spec's script.
    Script,
    /// A session ([`session`]) that could not run the unit.
    Session,
}

/// One failed step and what Python said about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestFailure {
    /// Which step failed.
    pub stage: Stage,
    /// The wheel file name, module name, or `script`.
    pub target: String,
    /// The Python traceback or error message.
    pub message: String,
}

/// The result of [`PyodideRuntime::run_tests`].
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// Every wheel installed and every import and the script succeeded.
    pub passed: bool,
    /// File names of the wheels that micropip installed, in order.
    pub installed: Vec<String>,
    /// The failed steps, in the order they ran.
    pub failures: Vec<TestFailure>,
    /// Wall-clock time of the runner process (Pyodide load included).
    pub seconds: f64,
    /// Time from Pyodide being ready to the end of the tests (installs, imports, script).
    pub run_seconds: f64,
    /// The runner's combined stdout and stderr (including Python's output).
    pub log: String,
}

/// Why a test run could not be carried out (as opposed to a test that failed).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RuntimeError {
    /// The Node.js binary could not be found.
    #[error("node.js not found at `{node}`; install Node.js >= 18 or point emwheel at its binary")]
    NodeNotFound {
        /// The binary that was tried.
        node: PathBuf,
    },
    /// The runtime directory has no `pyodide.mjs`.
    #[error("no pyodide runtime in `{dir}`: `pyodide.mjs` is missing; unpack the pyodide npm package or distribution there")]
    RuntimeMissing {
        /// The runtime directory.
        dir: PathBuf,
    },
    /// A wheel to install (micropip's or one under test) does not exist.
    #[error("wheel `{path}` not found; build or download it first, or fix the path")]
    WheelMissing {
        /// The missing wheel.
        path: PathBuf,
    },
    /// Node.js could not be started for another reason.
    #[error(
        "could not start `{command}`: {source}; check that node is an executable Node.js >= 18"
    )]
    Spawn {
        /// The command line.
        command: String,
        /// The underlying error.
        source: io::Error,
    },
    /// `--browser` needs Chromium and playwright-core.
    #[error("cannot test in a browser: {what}")]
    #[diagnostic(help("run scripts/setup, which installs Debian's Chromium and playwright-core"))]
    BrowserMissing {
        /// What is missing.
        what: String,
    },
    /// The runner exited non-zero: Pyodide or micropip could not be loaded.
    #[error("`{command}` {status} while loading pyodide from `{dir}`; check that node is >= 18 and the directory holds a complete pyodide distribution\n{tail}")]
    RunnerFailed {
        /// The command line.
        command: String,
        /// How the process ended.
        status: String,
        /// The runtime directory.
        dir: PathBuf,
        /// The last lines of the runner's output.
        tail: String,
    },
    /// The runner outlived its timeout and was killed.
    #[error("`{command}` timed out after {timeout:?} and was killed; raise the timeout or look for a hanging import or script\n{tail}")]
    Timeout {
        /// The command line.
        command: String,
        /// The timeout that was exceeded.
        timeout: Duration,
        /// The last lines of the runner's output.
        tail: String,
    },
    /// The runner exited 0 but left no readable result.
    #[error("`{command}` left no readable result in `{path}`: {reason}; this is a bug in emwheel's pyodide runner\n{tail}")]
    BadOutput {
        /// The command line.
        command: String,
        /// The expected result file.
        path: PathBuf,
        /// Why it could not be used.
        reason: String,
        /// The last lines of the runner's output.
        tail: String,
    },
    /// Writing or reading the run's files failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The job file handed to the runner; field names match `job.*` in the runner.
#[derive(Debug, Serialize)]
struct Job<'a> {
    runtime_dir: PathBuf,
    micropip_wheels: Vec<PathBuf>,
    wheels: Vec<PathBuf>,
    imports: &'a [String],
    script: Option<&'a str>,
    requirements: &'a [String],
    index_urls: &'a [String],
    lock_file_url: Option<&'a str>,
    load_packages: &'a [String],
    result_path: PathBuf,
}

/// The result file written by the runner.
#[derive(Debug, Deserialize)]
struct Report {
    installed: Vec<String>,
    failures: Vec<TestFailure>,
    #[serde(default)]
    run_seconds: f64,
}

/// The files of one run inside the work directory.
struct RunFiles {
    runner: PathBuf,
    job: PathBuf,
    result: PathBuf,
    log: PathBuf,
}

/// How a finished runner process went, before its result is read.
enum Finish {
    Exited(ExitStatus),
    TimedOut,
}

impl PyodideRuntime {
    /// A runtime using `node` from `PATH` and [`DEFAULT_TIMEOUT`].
    pub fn new(runtime_dir: impl Into<PathBuf>, micropip_wheels: Vec<PathBuf>) -> Self {
        Self {
            runtime_dir: runtime_dir.into(),
            micropip_wheels,
            node: PathBuf::from("node"),
            timeout: DEFAULT_TIMEOUT,
            browser: None,
        }
    }

    /// Runs `spec` in a fresh Pyodide instance, keeping the job, result and log in `work_dir`.
    ///
    /// Failed installs, imports or scripts are reported in the [`TestOutcome`]; an error
    /// means the test could not run at all.
    pub fn run_tests(&self, spec: &TestSpec, work_dir: &Path) -> Result<TestOutcome, RuntimeError> {
        self.check_inputs(spec)?;
        let files = self.prepare(spec, work_dir)?;
        let command = self.command_line(&files);
        let started = Instant::now();
        let finish = self.run_runner(&files, &command)?;
        let seconds = started.elapsed().as_secs_f64();
        let log = String::from_utf8_lossy(&fs::read(&files.log)?).into_owned();
        self.check_finish(finish, &command, &log)?;
        let report = read_report(&files.result).map_err(|reason| RuntimeError::BadOutput {
            command,
            path: files.result.clone(),
            reason,
            tail: tail(&log),
        })?;
        Ok(TestOutcome::new(report, spec, seconds, log))
    }

    /// Turns a timeout or a non-zero exit of the runner into the matching error.
    fn check_finish(&self, finish: Finish, command: &str, log: &str) -> Result<(), RuntimeError> {
        let (command, tail) = (command.to_owned(), tail(log));
        match finish {
            Finish::Exited(status) if status.success() => Ok(()),
            Finish::Exited(status) => Err(RuntimeError::RunnerFailed {
                command,
                status: describe_status(status),
                dir: self.runtime_dir.clone(),
                tail,
            }),
            Finish::TimedOut => {
                let timeout = self.timeout;
                Err(RuntimeError::Timeout {
                    command,
                    timeout,
                    tail,
                })
            }
        }
    }

    /// Fails early, with a precise message, on inputs the runner would trip over.
    fn check_inputs(&self, spec: &TestSpec) -> Result<(), RuntimeError> {
        if !self.runtime_dir.join("pyodide.mjs").is_file() {
            return Err(RuntimeError::RuntimeMissing {
                dir: self.runtime_dir.clone(),
            });
        }
        let wheels = self.micropip_wheels.iter().chain(&spec.wheels);
        match wheels.into_iter().find(|wheel| !wheel.is_file()) {
            Some(path) => Err(RuntimeError::WheelMissing { path: path.clone() }),
            None => Ok(()),
        }
    }

    /// Writes the runner and its job into `work_dir` and clears any stale result.
    fn prepare(&self, spec: &TestSpec, work_dir: &Path) -> Result<RunFiles, RuntimeError> {
        fs::create_dir_all(work_dir)?;
        let work_dir = std::path::absolute(work_dir)?;
        let files = RunFiles {
            runner: work_dir.join("pyodide_runner.mjs"),
            job: work_dir.join("job.json"),
            result: work_dir.join("result.json"),
            log: work_dir.join("runner.log"),
        };
        let job = Job {
            runtime_dir: std::path::absolute(&self.runtime_dir)?,
            micropip_wheels: absolute_all(&self.micropip_wheels)?,
            wheels: absolute_all(&spec.wheels)?,
            imports: &spec.imports,
            script: spec.script.as_deref(),
            requirements: &spec.requirements,
            index_urls: &spec.index_urls,
            lock_file_url: spec.lock_file_url.as_deref(),
            load_packages: &spec.load_packages,
            result_path: files.result.clone(),
        };
        fs::write(&files.runner, RUNNER)?;
        fs::write(
            &files.job,
            serde_json::to_vec_pretty(&job).map_err(io::Error::from)?,
        )?;
        remove_if_present(&files.result)?;
        Ok(files)
    }

    /// Starts Node.js on the runner with output going to the log, and waits at most `timeout`.
    fn run_runner(&self, files: &RunFiles, command: &str) -> Result<Finish, RuntimeError> {
        self.run_node(files, command, Vec::new())
    }

    /// [`PyodideRuntime::run_runner`] with more environment variables for the runner.
    fn run_node(
        &self,
        files: &RunFiles,
        command: &str,
        environment: Vec<(String, std::ffi::OsString)>,
    ) -> Result<Finish, RuntimeError> {
        let node = which::which(&self.node).map_err(|_| RuntimeError::NodeNotFound {
            node: self.node.clone(),
        })?;
        let runner = Cmd::new(node)
            .args([&files.runner, &files.job])
            .envs(node_environment())
            .envs(environment);
        match runner.run_with_timeout(&files.log, self.timeout) {
            Ok(Ended::Exited(status)) => Ok(Finish::Exited(status)),
            Ok(Ended::TimedOut) => Ok(Finish::TimedOut),
            Err(CmdError::Spawn { source, .. }) => Err(self.spawn_error(command, source)),
            Err(error) => Err(RuntimeError::Io(error.into_io_error())),
        }
    }

    fn spawn_error(&self, command: &str, source: io::Error) -> RuntimeError {
        if source.kind() == io::ErrorKind::NotFound {
            return RuntimeError::NodeNotFound {
                node: self.node.clone(),
            };
        }
        RuntimeError::Spawn {
            command: command.to_owned(),
            source,
        }
    }

    fn command_line(&self, files: &RunFiles) -> String {
        let parts = [&self.node, &files.runner, &files.job];
        parts.map(|part| part.display().to_string()).join(" ")
    }
}

impl TestOutcome {
    fn new(report: Report, spec: &TestSpec, seconds: f64, log: String) -> Self {
        let expected = spec.wheels.len() + spec.requirements.len();
        let passed = report.failures.is_empty() && report.installed.len() == expected;
        Self {
            passed,
            installed: report.installed,
            failures: report.failures,
            seconds,
            run_seconds: report.run_seconds,
            log,
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Install => "install",
            Stage::Import => "import",
            Stage::Script => "script",
            Stage::Session => "session",
        })
    }
}

impl std::fmt::Display for TestFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of `{}` failed:\n{}",
            self.stage,
            self.target,
            self.message.trim_end()
        )
    }
}

/// The [`NODE_ENVIRONMENT`] variables emwheel has, with their values.
pub(crate) fn node_environment() -> Vec<(String, std::ffi::OsString)> {
    NODE_ENVIRONMENT
        .iter()
        .filter_map(|name| Some((name.to_string(), std::env::var_os(name)?)))
        .collect()
}

fn absolute_all(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    paths.iter().map(std::path::absolute).collect()
}

fn read_report(path: &Path) -> Result<Report, String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("invalid result json: {e}"))
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn describe_status(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "was killed by a signal".to_owned(),
    }
}

/// The last [`TAIL_LINES`] lines of `log`.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

#[cfg(test)]
mod tests;
