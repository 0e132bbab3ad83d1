//! The one door through which every external program (emcc, python, pip, node, patch, sh) runs.

use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Output};
use std::time::{Duration, Instant};

/// How many lines of a failed command's output an error shows.
const TAIL_LINES: usize = 40;
/// How often a command run with a time limit is polled for its exit.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A command with an explicit environment: nothing leaks from the parent but what it names.
#[derive(Debug, Clone)]
pub struct Cmd {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    inherit_env: bool,
    stdout_to_stderr: bool,
    dir: Option<PathBuf>,
}

/// What a finished command printed, and how long it took.
#[derive(Debug)]
pub struct Finished {
    /// stdout and stderr interleaved, as they arrived.
    pub output: String,
    /// Wall-clock time the command ran.
    pub elapsed: Duration,
}

/// How a command run with a time limit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited (or was killed by a signal not ours) within the limit.
    Exited(ExitStatus),
    /// It outlived the limit and was killed.
    TimedOut,
}

/// A command that could not start, or exited non-zero.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    /// The program could not be started at all.
    #[error("could not run `{command}`")]
    Spawn {
        /// The quoted command line.
        command: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// Waiting for or killing the running program failed.
    #[error("could not wait for `{command}`")]
    Wait {
        /// The quoted command line.
        command: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The program ran and failed.
    #[error("`{command}` failed ({status})\n{tail}")]
    Failed {
        /// The quoted command line.
        command: String,
        /// The exit status, rendered.
        status: String,
        /// The last lines of its output.
        tail: String,
        /// The whole output.
        output: String,
    },
}

impl CmdError {
    /// The underlying I/O error (for a failed run, one carrying its message), for callers
    /// whose own errors hold an [`std::io::Error`].
    pub fn into_io_error(self) -> std::io::Error {
        match self {
            CmdError::Spawn { source, .. } | CmdError::Wait { source, .. } => source,
            failed @ CmdError::Failed { .. } => std::io::Error::other(failed.to_string()),
        }
    }
}

impl Cmd {
    /// A command that starts with an empty environment.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            inherit_env: false,
            stdout_to_stderr: false,
            dir: None,
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets one environment variable.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets several environment variables.
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Keeps the parent's environment: for user-facing tools such as pip and npm, whose
    /// configuration (index URLs, proxies, certificates) lives in the environment, a user's
    /// own test command, and the compiler wrapper's children, whose environment is the one
    /// the build named.
    pub fn inherit_env(mut self) -> Self {
        self.inherit_env = true;
        self
    }

    /// This command run through `program args…`, which ends by running it (a launcher
    /// such as `unshare`); the environment and directory stay as they are.
    pub fn wrapped_in<I, S>(self, program: impl Into<PathBuf>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let mut all: Vec<OsString> = args.into_iter().map(Into::into).collect();
        all.push(self.program.into_os_string());
        all.extend(self.args);
        Cmd {
            program: program.into(),
            args: all,
            ..self
        }
    }

    /// Sends stdout to stderr in [`Cmd::passthrough`] (emwheel's stdout carries `--json`).
    pub fn stdout_to_stderr(mut self) -> Self {
        self.stdout_to_stderr = true;
        self
    }

    /// Runs in this directory.
    pub fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The command with its environment, directory and death signal, stdio still to be set.
    fn base(&self) -> duct::Expression {
        // As an `OsStr`, a bare name is looked up on `PATH`, as `std::process::Command` does
        // (duct would take a one-word `Path` as relative to the directory).
        #[allow(clippy::disallowed_methods)] // the door itself
        let mut expression = duct::cmd(self.program.as_os_str(), &self.args).unchecked();
        if !self.inherit_env {
            expression = expression.full_env(self.env.iter().cloned());
        } else {
            for (key, value) in &self.env {
                expression = expression.env(key, value);
            }
        }
        if let Some(dir) = &self.dir {
            expression = expression.dir(dir);
        }
        expression.before_spawn(|command| {
            die_with_parent(command);
            Ok(())
        })
    }

    /// The command with null stdin and stdout and stderr captured together.
    fn expression(&self) -> duct::Expression {
        self.base().stdin_null().stderr_to_stdout().stdout_capture()
    }

    fn spawn_error(&self, source: std::io::Error) -> CmdError {
        CmdError::Spawn {
            command: self.to_string(),
            source,
        }
    }

    /// Runs to completion, capturing stdout and stderr together; a non-zero exit is an error.
    pub fn run(&self) -> Result<Finished, CmdError> {
        let start = Instant::now();
        let result = self.expression().run().map_err(|e| self.spawn_error(e))?;
        let output = String::from_utf8_lossy(&result.stdout).into_owned();
        if !result.status.success() {
            return Err(CmdError::Failed {
                command: self.to_string(),
                status: result.status.to_string(),
                tail: tail(&output, TAIL_LINES),
                output,
            });
        }
        Ok(Finished {
            output,
            elapsed: start.elapsed(),
        })
    }

    /// Runs like [`Cmd::run`] and appends the command line and its output to a log.
    pub fn run_logged(&self, log: &mut dyn Write) -> Result<Finished, CmdError> {
        let result = self.run();
        let (output, elapsed) = match &result {
            Ok(finished) => (finished.output.as_str(), Some(finished.elapsed)),
            Err(CmdError::Failed { output, .. }) => (output.as_str(), None),
            Err(CmdError::Spawn { .. } | CmdError::Wait { .. }) => ("", None),
        };
        // A log write failure must not hide the command's own result.
        let _ = writeln!(log, "$ {self}\n{output}");
        if let Some(elapsed) = elapsed {
            let _ = writeln!(log, "# took {:.2}s", elapsed.as_secs_f64());
        }
        result
    }
    /// Runs with the parent's stdin, stdout and stderr (its terminal), for programs whose
    /// output is the user's: a project's test command, pip in a Pyodide venv, the compiler
    /// the wrapper stands in for. How it ended is returned, a non-zero exit included.
    pub fn passthrough(&self) -> Result<ExitStatus, CmdError> {
        let mut expression = self.base();
        if self.stdout_to_stderr {
            expression = expression.stdout_to_stderr();
        }
        let output = expression.run().map_err(|e| self.spawn_error(e))?;
        Ok(output.status)
    }

    /// Like [`Cmd::passthrough`], but stderr is captured and returned beside the status
    /// (the wrapper reads the line emcc prints there and passes the rest on itself).
    pub fn passthrough_capturing_stderr(&self) -> Result<Output, CmdError> {
        let expression = self.base().stderr_capture();
        expression.run().map_err(|e| self.spawn_error(e))
    }

    /// Runs with null stdin, capturing stdout and stderr apart, for a tool whose stdout is
    /// data (nm's symbol list). A non-zero exit is not an error here: the caller reads it.
    pub fn output(&self) -> Result<Output, CmdError> {
        let expression = self.base().stdin_null().stdout_capture().stderr_capture();
        expression.run().map_err(|e| self.spawn_error(e))
    }

    /// Runs with null stdin and stdout and stderr written together to `log`, and waits at
    /// most `timeout`; past it the child is killed ([`Ended::TimedOut`]).
    pub fn run_with_timeout(&self, log: &Path, timeout: Duration) -> Result<Ended, CmdError> {
        let handle = self
            .base()
            .stdin_null()
            .stderr_to_stdout()
            .stdout_path(log)
            .start()
            .map_err(|e| self.spawn_error(e))?;
        let wait_error = |source| CmdError::Wait {
            command: self.to_string(),
            source,
        };
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(output) = handle.try_wait().map_err(wait_error)? {
                return Ok(Ended::Exited(output.status));
            }
            if Instant::now() >= deadline {
                handle.kill().map_err(wait_error)?;
                return Ok(Ended::TimedOut);
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}

/// Makes the child receive SIGKILL when emwheel dies, so that a killed build leaves no
/// backend or pip running on in the build directory or a half-made cache entry.
#[allow(clippy::disallowed_types)] // the door itself: duct hands over the command it spawns
fn die_with_parent(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid cannot fail; the hook runs between fork and exec and calls only
    // async-signal-safe functions (prctl, getppid).
    let parent = unsafe { libc::getpid() };
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before the signal was armed.
            if libc::getppid() != parent {
                return Err(std::io::Error::other(
                    "emwheel exited while starting a command",
                ));
            }
            Ok(())
        });
    }
}

impl fmt::Display for Cmd {
    /// The command line, shell-quoted so it can be pasted into a terminal, with the
    /// credentials of URLs hidden (logs and errors show it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|word| shell_quote(&redact_credentials(&word.to_string_lossy())));
        write!(f, "{}", words.collect::<Vec<_>>().join(" "))
    }
}

/// `text` with the user and password of a URL in it (`https://user:secret@host/…`, as a
/// private index's URL carries them) replaced by `***`, as pip shows them.
pub fn redact_credentials(text: &str) -> String {
    let Some(scheme_end) = text.find("://").map(|i| i + 3) else {
        return text.to_string();
    };
    let authority_end = text[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| scheme_end + i);
    match text[scheme_end..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &text[..scheme_end], &text[scheme_end + at..]),
        None => text.to_string(),
    }
}

/// Quotes one word for a POSIX shell, leaving plain words as they are.
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_words_with_spaces() {
        let cmd = Cmd::new("emcc").args(["-c", "my file.c", "-DX=1"]);
        assert_eq!(cmd.to_string(), "emcc -c 'my file.c' -DX=1");
    }

    #[test]
    fn a_wrapped_command_keeps_its_environment() {
        let cmd = Cmd::new("/usr/bin/env")
            .env("ONLY", "this")
            .wrapped_in("/usr/bin/nice", ["-n", "1"]);
        assert_eq!(cmd.to_string(), "/usr/bin/nice -n 1 /usr/bin/env");
        assert_eq!(cmd.run().unwrap().output.trim(), "ONLY=this");
    }

    #[test]
    fn environment_is_not_inherited() {
        std::env::set_var("EMWHEEL_TEST_LEAK", "1");
        let finished = Cmd::new("/usr/bin/env").run().unwrap();
        assert!(!finished.output.contains("EMWHEEL_TEST_LEAK"));
        let finished = Cmd::new("/usr/bin/env").env("ONLY", "this").run().unwrap();
        assert_eq!(finished.output.trim(), "ONLY=this");
    }

    #[test]
    fn failure_carries_status_and_tail() {
        let script = "for i in $(seq 1 100); do echo line$i; done; exit 3";
        let error = Cmd::new("/bin/sh").args(["-c", script]).run().unwrap_err();
        let message = error.to_string();
        assert!(message.contains("exit status: 3"), "{message}");
        assert!(message.contains("line100"));
        assert!(!message.contains("line60\n"));
    }

    #[test]
    fn children_are_armed_to_die_with_emwheel() {
        // The child asks for its own death signal (`prctl(PR_GET_PDEATHSIG = 2)`).
        let probe = "import ctypes,ctypes.util\nlibc=ctypes.CDLL(None)\nv=ctypes.c_int()\nlibc.prctl(2,ctypes.byref(v))\nprint(v.value)";
        let finished = Cmd::new("/usr/bin/python3")
            .args(["-c", probe])
            .run()
            .unwrap();
        assert_eq!(finished.output.trim(), libc::SIGKILL.to_string());
    }

    #[test]
    fn passthrough_returns_the_status_of_a_failing_command() {
        let status = Cmd::new("/bin/sh").args(["-c", "exit 5"]).passthrough();
        assert_eq!(status.unwrap().code(), Some(5));
    }

    #[test]
    fn output_keeps_stdout_and_stderr_apart() {
        let script = "echo data; echo noise >&2; exit 2";
        let output = Cmd::new("/bin/sh").args(["-c", script]).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(String::from_utf8_lossy(&output.stdout), "data\n");
        assert_eq!(String::from_utf8_lossy(&output.stderr), "noise\n");
        let captured = Cmd::new("/bin/sh")
            .args(["-c", "echo line >&2"])
            .passthrough_capturing_stderr()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&captured.stderr), "line\n");
    }

    #[test]
    fn a_command_past_its_time_limit_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let slow = Cmd::new("/bin/sh").args(["-c", "echo started; exec sleep 30"]);
        let started = Instant::now();
        let ended = slow.run_with_timeout(&log, Duration::from_millis(300));
        assert_eq!(ended.unwrap(), Ended::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(fs_err::read_to_string(&log).unwrap(), "started\n");
        let quick = Cmd::new("/bin/sh").args(["-c", "echo out; echo err >&2; exit 4"]);
        let ended = quick
            .run_with_timeout(&log, Duration::from_secs(30))
            .unwrap();
        assert!(matches!(ended, Ended::Exited(status) if status.code() == Some(4)));
        assert_eq!(fs_err::read_to_string(&log).unwrap(), "out\nerr\n");
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let error = Cmd::new("/nonexistent/emcc").run().unwrap_err();
        assert!(matches!(error, CmdError::Spawn { .. }));
    }

    #[test]
    fn credentials_in_urls_are_hidden() {
        let cmd = Cmd::new("curl").arg("https://user:secret@index.example/simple/x/");
        assert_eq!(
            cmd.to_string(),
            "curl 'https://***@index.example/simple/x/'"
        );
        let plain = "https://index.example/a@b";
        assert_eq!(redact_credentials(plain), plain);
        assert_eq!(redact_credentials("no url"), "no url");
        assert_eq!(redact_credentials("http://tok@h"), "http://***@h");
    }
}
