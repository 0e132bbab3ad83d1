//! Running a rewritten call, and the call log a build reads back.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::Path;
use std::process::ExitStatus;
use std::time::Instant;

use serde::Serialize;

use super::*;
use crate::process::{Cmd, CmdError};

impl Rewrite {
    /// Carries the rewrite out; returns the exit code.
    pub fn execute(&self) -> Result<i32, WrapperError> {
        match self {
            Rewrite::Run(invocation) => invocation.run(),
            Rewrite::Print(line) => {
                println!("{line}");
                Ok(0)
            }
            Rewrite::Skip => Ok(0),
        }
    }

    /// The command this stands for, for the log.
    pub(super) fn command_line(&self) -> Vec<String> {
        match self {
            Rewrite::Run(invocation) => {
                let program = invocation.program.display().to_string();
                [program]
                    .into_iter()
                    .chain(invocation.args.iter().cloned())
                    .collect()
            }
            Rewrite::Print(line) => vec!["echo".to_owned(), line.clone()],
            Rewrite::Skip => Vec::new(),
        }
    }
}

impl Invocation {
    /// Writes the export list, if any, then runs the program with inherited stdio; returns its
    /// exit code.
    pub fn run(&self) -> Result<i32, WrapperError> {
        if let Some(list) = &self.export_list {
            list.write()?;
        }
        let status = passthrough(&self.program)
            .args(&self.args)
            .passthrough()
            .map_err(|error| spawn_error(&self.program, error))?;
        Ok(exit_code(status))
    }
}

/// `program` as the wrapper runs it: in the wrapper's own environment, which is the one the
/// build gave the compiler (explicit, from the sandbox), with stdio passed through (`passthrough`).
pub(super) fn passthrough(program: &Path) -> Cmd {
    Cmd::new(program).inherit_env()
}

/// The error of a program the wrapper could not run.
pub(super) fn spawn_error(program: &Path, error: CmdError) -> WrapperError {
    WrapperError::Spawn {
        program: program.to_path_buf(),
        source: error.into_io_error(),
    }
}

impl ExportList {
    /// Writes the list as a JSON array.
    pub fn write(&self) -> Result<(), WrapperError> {
        let json = serde_json::to_vec(&self.symbols).map_err(io::Error::other)?;
        Ok(fs_err::write(&self.path, json)?)
    }
}

/// The exit code to pass on: the program's, or 128 + the signal that killed it.
pub(super) fn exit_code(status: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}

/// Entry point when argv[0] is a wrapped tool: reads the config from `$EMWHEEL_WRAPPER_CONFIG`,
/// rewrites, runs (inheriting stdio), logs, and returns the exit code. Errors go to stderr
/// prefixed `emwheel wrapper: `.
pub fn run_as_wrapper(tool: &str, args: Vec<String>) -> i32 {
    match WrapperConfig::from_env() {
        Ok(config) => run_with_config(tool, &args, &config),
        Err(error) => {
            report(&error);
            1
        }
    }
}

/// One line of the call log.
#[derive(Serialize)]
pub(super) struct LogEntry<'a> {
    tool: &'a str,
    args: &'a [String],
    rewritten: Vec<String>,
    seconds: f64,
    exit_code: i32,
    /// Whether the native compile path ran clang itself.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    native: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub(super) fn run_with_config(tool: &str, args: &[String], config: &WrapperConfig) -> i32 {
    let start = Instant::now();
    let mut native = false;
    let (rewritten, result) = match rewrite(tool, args, config) {
        Ok(rewrite) => {
            let fast = match (&rewrite, &config.native_cache) {
                (Rewrite::Run(invocation), Some(cache)) => native::try_run(invocation, cache),
                _ => None,
            };
            native = matches!(fast, Some((true, _)));
            (
                rewrite.command_line(),
                fast.map_or_else(|| rewrite.execute(), |(_, result)| result),
            )
        }
        Err(error) => (Vec::new(), Err(error)),
    };
    let exit_code = *result.as_ref().unwrap_or(&1);
    if let Err(error) = &result {
        report(error);
    }
    if let Some(log_file) = &config.log_file {
        let entry = LogEntry {
            tool,
            args,
            rewritten,
            seconds: start.elapsed().as_secs_f64(),
            exit_code,
            native,
            error: result.err().map(|e| error_chain(&e)),
        };
        if let Err(error) = append_log(log_file, &entry) {
            report(&error);
        }
    }
    exit_code
}

/// How many compiler calls a build made and how long they took in all.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallSummary {
    /// Calls the wrapper ran.
    pub calls: usize,
    /// Their total wall time.
    pub seconds: f64,
}

/// Adds up a call log; a missing log means no calls (a pure-Python build).
pub fn summarize_log(path: &Path) -> CallSummary {
    let text = fs_err::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .fold(CallSummary::default(), |summary, entry| CallSummary {
            calls: summary.calls + 1,
            seconds: summary.seconds + entry["seconds"].as_f64().unwrap_or(0.0),
        })
}

pub(super) fn append_log(path: &Path, entry: &LogEntry) -> Result<(), WrapperError> {
    let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
    line.push(b'\n');
    let mut file = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    // One write of the whole line, so parallel calls do not interleave.
    Ok(file.write_all(&line)?)
}

/// The error and its sources, joined by `: `.
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    message
}

pub(super) fn report(error: &dyn std::error::Error) {
    eprintln!("emwheel wrapper: {}", error_chain(error));
}
