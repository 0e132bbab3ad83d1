//! Sizes of built wheels and the time Pyodide takes to install and import them, with
//! sources and with bytecode: what every page load that installs them pays for.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::pycompile::{BytecodeCompiler, PyCompileError};
use crate::runtime::{PyodideRuntime, RuntimeError, TestFailure, TestSpec};
use crate::wheel::WheelError;

/// How many of a wheel's largest files a report lists.
pub const LARGEST_FILES: usize = 5;

/// One wheel's sizes.
#[derive(Debug, Clone, Serialize)]
pub struct WheelSize {
    /// The wheel.
    pub wheel: PathBuf,
    /// Bytes on disk (what is downloaded).
    pub compressed: u64,
    /// Bytes once unpacked (what is written into the browser's memory file system).
    pub unpacked: u64,
    /// Number of files.
    pub files: usize,
    /// The largest files, `(path inside the wheel, unpacked bytes)`, largest first.
    pub largest: Vec<(String, u64)>,
}

/// Measures one wheel.
pub fn measure(wheel: &Path) -> Result<WheelSize, WheelError> {
    let file = fs_err::File::open(wheel)?;
    let compressed = file.metadata()?.len();
    let zip_error = |source| WheelError::Zip {
        wheel: wheel.to_path_buf(),
        source,
    };
    let mut zip = zip::ZipArchive::new(file).map_err(zip_error)?;
    let mut sizes: Vec<(String, u64)> = Vec::new();
    for index in 0..zip.len() {
        let entry = zip.by_index(index).map_err(zip_error)?;
        if entry.is_file() {
            sizes.push((entry.name().to_string(), entry.size()));
        }
    }
    sizes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(WheelSize {
        wheel: wheel.to_path_buf(),
        compressed,
        unpacked: sizes.iter().map(|(_, size)| size).sum(),
        files: sizes.len(),
        largest: sizes.into_iter().take(LARGEST_FILES).collect(),
    })
}

/// Errors measuring how long a wheel takes to load.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    /// Pyodide could not run.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The bytecode copy could not be made.
    #[error(transparent)]
    PyCompile(#[from] PyCompileError),
    /// A temp copy could not be written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The wheel did not install or import.
    #[error("`{}` failed to load in Pyodide: {}", wheel.display(), failures.first().map(ToString::to_string).unwrap_or_default())]
    #[diagnostic(help(
        "run `emwheel test` on it to see every failure; pass its dependencies with `--with`"
    ))]
    Failed {
        /// The wheel.
        wheel: PathBuf,
        /// What failed.
        failures: Vec<TestFailure>,
    },
}

/// What a load measurement runs: the Pyodide, the wheels installed first, the runs.
pub struct LoadBench<'a> {
    /// The target's Pyodide.
    pub runtime: &'a PyodideRuntime,
    /// Makes the bytecode copy.
    pub compiler: &'a BytecodeCompiler,
    /// The target's `cpXY` tag.
    pub python_tag: String,
    /// Wheels installed before the measured one, unchanged in both configurations.
    pub dependencies: Vec<PathBuf>,
    /// Runs per configuration.
    pub runs: usize,
}

/// One wheel's load times: install and imports after Pyodide is ready, medians of the runs.
#[derive(Debug, Clone, Serialize)]
pub struct LoadTimes {
    /// The wheel.
    pub wheel: PathBuf,
    /// The modules imported.
    pub imports: Vec<String>,
    /// Runs per configuration.
    pub runs: usize,
    /// Median seconds with `.py` sources.
    pub source_seconds: f64,
    /// Median seconds with bytecode.
    pub bytecode_seconds: f64,
    /// `bytecode_seconds / source_seconds`: below 1 means bytecode loads faster.
    pub ratio: f64,
}

impl LoadBench<'_> {
    /// Measures `wheel` as it is and as a bytecode copy made in a temp dir, alternating runs
    /// so that drift in the machine's load falls on both alike.
    pub fn measure(&self, wheel: &Path, imports: &[String]) -> Result<LoadTimes, LoadError> {
        let scratch = tempfile::tempdir()?;
        let copy = scratch.path().join(wheel.file_name().unwrap_or_default());
        fs_err::copy(wheel, &copy)?;
        let (bytecode, _) = self.compiler.compile_wheel(&copy, &self.python_tag, 0)?;
        let (mut source_times, mut bytecode_times) = (Vec::new(), Vec::new());
        for _ in 0..self.runs.max(1) {
            source_times.push(self.run_once(wheel, imports)?);
            bytecode_times.push(self.run_once(&bytecode, imports)?);
        }
        let (source_seconds, bytecode_seconds) = (median(source_times), median(bytecode_times));
        Ok(LoadTimes {
            wheel: wheel.to_path_buf(),
            imports: imports.to_vec(),
            runs: self.runs.max(1),
            source_seconds,
            bytecode_seconds,
            ratio: bytecode_seconds / source_seconds,
        })
    }

    /// Seconds to install the dependencies and `wheel` and import `imports` in a fresh Pyodide.
    fn run_once(&self, wheel: &Path, imports: &[String]) -> Result<f64, LoadError> {
        let mut wheels = self.dependencies.clone();
        wheels.push(wheel.to_path_buf());
        let spec = TestSpec {
            wheels,
            imports: imports.to_vec(),
            ..TestSpec::default()
        };
        let work = tempfile::tempdir()?;
        let outcome = self.runtime.run_tests(&spec, work.path())?;
        if !outcome.passed {
            return Err(LoadError::Failed {
                wheel: wheel.to_path_buf(),
                failures: outcome.failures,
            });
        }
        Ok(outcome.run_seconds)
    }
}

/// The median of `values` (the mean of the middle two for an even count; 0 for none).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => 0.0,
        n if n % 2 == 0 => (values[middle - 1] + values[middle]) / 2.0,
        _ => values[middle],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn measures_sizes_and_largest_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x-1-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(fs_err::File::create(&path).unwrap());
        for (name, size) in [("a.py", 10), ("b.so", 1000), ("c.txt", 100)] {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(&vec![b'x'; size]).unwrap();
        }
        zip.finish().unwrap();
        let size = measure(&path).unwrap();
        assert_eq!(size.unpacked, 1110);
        assert_eq!(size.files, 3);
        assert_eq!(size.largest[0], ("b.so".to_string(), 1000));
        assert!(size.compressed < 1110);
    }

    #[test]
    fn median_of_odd_even_and_no_values() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
    }
}
