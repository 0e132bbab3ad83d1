//! Replacing a wheel's `.py` files with `.pyc` compiled for the target Python, so that the
//! browser skips compiling them on every page load.
//!
//! The bytecode's magic number must match the target's `X.Y`, so compilation runs in a host
//! interpreter of exactly that version (the target records one).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::process::{Cmd, CmdError};
use crate::wheel::{self, WheelError};

/// The script that compiles a tree.
const COMPILER: &str = include_str!("../templates/py_compile.py");

/// Errors compiling a wheel.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PyCompileError {
    /// The interpreter is not the target's `X.Y`.
    #[error("`{}` is Python {found}, but the target is Python {expected}", python.display())]
    #[diagnostic(help("bytecode only loads in the Python version it was made for; install Python {expected} on the host"))]
    WrongPython {
        /// The interpreter.
        python: PathBuf,
        /// Its version.
        found: String,
        /// The target's version.
        expected: String,
    },
    /// The wheel could not be read or written.
    #[error(transparent)]
    Wheel(#[from] WheelError),
    /// The compiler failed.
    #[error(transparent)]
    Command(#[from] CmdError),
    /// The compiler's report was unreadable.
    #[error("the bytecode compiler printed no report: `{0}`")]
    Report(String),
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What compiling one wheel did.
#[derive(Debug, Clone, Deserialize)]
pub struct Compiled {
    /// Files now stored as bytecode (paths inside the wheel).
    pub compiled: Vec<String>,
    /// Files kept as source because they do not compile.
    pub kept: Vec<String>,
}

/// A host interpreter of the target's `X.Y`, checked once.
pub struct BytecodeCompiler {
    python: PathBuf,
}

impl BytecodeCompiler {
    /// Checks that `python` is Python `target_xy`.
    pub fn new(python: &Path, target_xy: &str) -> Result<Self, PyCompileError> {
        let probe = "import sys; print('%d.%d' % sys.version_info[:2])";
        let finished = Cmd::new(python).args(["-I", "-c", probe]).run()?;
        let found = finished.output.trim().to_string();
        if found != target_xy {
            return Err(PyCompileError::WrongPython {
                python: python.to_path_buf(),
                found,
                expected: target_xy.to_string(),
            });
        }
        Ok(BytecodeCompiler {
            python: python.to_path_buf(),
        })
    }

    /// Compiles every `.py` in an unpacked tree in place.
    pub fn compile_tree(&self, root: &Path) -> Result<Compiled, PyCompileError> {
        let script = tempfile::Builder::new().suffix(".py").tempfile()?;
        fs_err::write(script.path(), COMPILER)?;
        let finished = Cmd::new(&self.python)
            .args(["-I", "-B"])
            .arg(script.path())
            .arg(root)
            .run()?;
        let last = finished.output.lines().last().unwrap_or_default();
        serde_json::from_str(last).map_err(|_| PyCompileError::Report(last.to_string()))
    }

    /// Writes a bytecode copy of `wheel` beside it and removes the source wheel: a pure
    /// wheel's name changes to `cpXY-none-any`, a platform wheel keeps its name (and is
    /// replaced atomically). `RECORD` is regenerated. Returns the new path.
    pub fn compile_wheel(
        &self,
        wheel_path: &Path,
        python_tag: &str,
        source_date_epoch: u64,
    ) -> Result<(PathBuf, Compiled), PyCompileError> {
        let scratch = tempfile::tempdir()?;
        let mut unpacked = wheel::unpack(wheel_path, scratch.path())?;
        let compiled = self.compile_tree(unpacked.root())?;
        unpacked.retag_for_bytecode(python_tag)?;
        let dir = wheel_path.parent().unwrap_or(Path::new("."));
        let written = unpacked.write(dir, source_date_epoch)?;
        if written != wheel_path {
            fs_err::remove_file(wheel_path)?;
        }
        Ok((written, compiled))
    }
}
