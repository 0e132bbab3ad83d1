//! Building one package end to end: its source fetched and patched in a sandboxed build
//! directory, its PEP 517 backend run by a host venv against the target's sysconfig with the
//! compiler wrapper on PATH, and the wheel repaired for the target.

mod env;
mod package;
mod project;
mod pyproject;
mod sandbox;
mod script;
mod source;
mod url;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use package::Package;
pub use project::ProjectSettings;
pub use source::{Origin, SourceSpec};

use env::BuildEnv;
use pyproject::BuildSystem;
use sandbox::{PackageVars, Sandbox};
use script::{Flags, Shell};

use crate::process::{Cmd, CmdError};
use crate::pycompile::BytecodeCompiler;
use crate::target::Target;
use crate::toolchain::wrapper::{self, WrapperConfig};
use crate::toolchain::Toolchain;
use crate::ui::Progress;
use crate::wheel::{self, TargetTags};

/// The timestamp outputs carry when `SOURCE_DATE_EPOCH` is not set: 1980-01-01, the
/// earliest a zip entry can hold, so that builds are reproducible by default.
pub const DEFAULT_SOURCE_DATE_EPOCH: u64 = 315_532_800;

/// Errors building a package.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BuildError {
    /// A step failed; the build directory was kept for inspection.
    #[error("building `{package}` failed; build directory kept at `{}`", build_dir.display())]
    #[diagnostic(help("{help}"))]
    Failed {
        /// The package.
        package: String,
        /// The kept build directory (its `build.log` has every command's output).
        build_dir: PathBuf,
        /// A hint drawn from the log, or where to read it.
        help: String,
        /// What failed.
        #[source]
        source: Box<BuildError>,
    },
    /// A downloaded or local archive does not have the expected digest.
    #[error("`{}` has sha256 {actual}, but the recipe says {expected}", file.display())]
    #[diagnostic(help("if the new source is trusted, set `sha256 = \"{actual}\"` in the recipe"))]
    Sha256Mismatch {
        /// The file checked.
        file: PathBuf,
        /// The recipe's digest.
        expected: String,
        /// The file's digest.
        actual: String,
    },
    /// A download produced no single file.
    #[error("the download produced no single source file")]
    NothingDownloaded,
    /// A patch did not apply.
    #[error("patch `{}` does not apply", patch.display())]
    Patch {
        /// The patch file.
        patch: PathBuf,
        /// patch's complaint (it names the failed hunk).
        #[source]
        source: Box<CmdError>,
    },
    /// A URL source could be fetched neither from its URL nor through the package index.
    #[error("cannot fetch `{url}`{}", pin.as_ref().map(|pin| format!(", and pip's index gave nothing for `{pin}`")).unwrap_or_default())]
    #[diagnostic(help(
        "put the file in a source cache, as `DIR/<file name>` or `DIR/<sha256>/<file name>`, and pass `--source-cache DIR`"
    ))]
    Unreachable {
        /// The recipe's URL.
        url: String,
        /// What pip was asked for, when the file name was an sdist's.
        pin: Option<String>,
        /// Why the URL failed.
        #[source]
        source: Box<BuildError>,
    },
    /// A flag or URL names a variable the build's environment lacks.
    #[error("unknown variable `$({name})` in `{key}`")]
    #[diagnostic(help(
        "name a variable of the build environment (see the README), or export it from `build.script`"
    ))]
    UnknownVariable {
        /// The variable.
        name: String,
        /// The recipe key that names it, e.g. `build.cflags`.
        key: String,
    },
    /// A tool the build needs is missing.
    #[error("`{0}` not found on PATH")]
    Tool(&'static str),
    /// `pyproject.toml` is malformed.
    #[error("`{}` is not valid: {message}", path.display())]
    PyProject {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        message: String,
    },
    /// The backend produced a pure wheel from a source with C sources.
    #[error(
        "the build produced the pure-Python wheel `{wheel}`, but the source has C/C++/Cython files"
    )]
    #[diagnostic(help("the extension most likely failed to build and the package fell back to pure Python; read the build log. If the package is meant to be pure, set `pure = true` in `[build]`"))]
    PureFromNative {
        /// The wheel's file name.
        wheel: String,
    },
    /// The backend did not say which wheel it wrote.
    #[error("the build backend reported no wheel: `{0}`")]
    NoWheel(String),
    /// A command failed.
    #[error(transparent)]
    Command(#[from] CmdError),
    /// The wheel could not be repaired or written.
    #[error(transparent)]
    Wheel(#[from] crate::wheel::WheelError),
    /// A source archive was refused.
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    /// The wheel's bytecode could not be compiled.
    #[error(transparent)]
    PyCompile(#[from] crate::pycompile::PyCompileError),
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl BuildError {
    /// The build directory a failed build kept.
    pub fn build_dir(&self) -> Option<&Path> {
        match self {
            BuildError::Failed { build_dir, .. } => Some(build_dir),
            _ => None,
        }
    }
}

/// Everything a build needs besides the package.
pub struct BuildContext<'a> {
    /// The cross-build environment.
    pub target: &'a Target,
    /// The emcc to use.
    pub toolchain: &'a Toolchain,
    /// Where the wheel goes.
    pub out_dir: PathBuf,
    /// Timestamp for every output entry.
    pub source_date_epoch: u64,
    /// Ship bytecode for the target Python instead of `.py` sources.
    pub py_compile: bool,
    /// The environment of the compiler cache in front of emcc (empty for none).
    pub compiler_cache: Vec<(String, String)>,
    /// The source cache: sources by sha256 (`<dir>/<sha256>/<file>`, filled by every fetch)
    /// or by file name (`<dir>/<file>`, filled by the user).
    pub source_cache: PathBuf,
    /// Where to keep a copy of each package's `build.log` (and `compiler.log`), success or
    /// failure.
    pub log_dir: Option<PathBuf>,
}

impl BuildContext<'_> {
    /// Where `package`'s build log is kept (`<log_dir>/<package>.log`), if logs are kept.
    pub fn kept_log(&self, package: &str) -> Option<PathBuf> {
        let dir = self.log_dir.as_ref()?;
        Some(dir.join(format!("{package}.log")))
    }
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct BuiltWheel {
    /// The wheel in the output directory.
    pub path: PathBuf,
    /// Wall time of the whole build.
    pub seconds: f64,
    /// Compiler calls the wrapper ran, and their total time.
    pub compiler: wrapper::CallSummary,
}

/// Builds one package into a wheel in `context.out_dir`. On failure the build directory is
/// kept and the error names it, the failing command and the tail of its output.
pub fn build(
    package: &Package,
    context: &BuildContext,
    progress: &dyn Progress,
) -> Result<BuiltWheel, BuildError> {
    let start = Instant::now();
    let sandbox = Sandbox::new(&package.name)?;
    let mut log = fs_err::File::create(sandbox.log_path())?;
    let result = run_steps(package, context, &sandbox, &mut log, progress);
    let kept = keep_log(&sandbox, context.kept_log(&package.name));
    match result {
        Ok(path) => {
            kept?;
            Ok(BuiltWheel {
                path,
                seconds: start.elapsed().as_secs_f64(),
                compiler: wrapper::summarize_log(&sandbox.compiler_log_path()),
            })
        }
        Err(error) => {
            // The build's own error matters more than a log that could not be copied.
            drop(kept);
            let help = diagnose(&error)
                .unwrap_or_else(|| format!("the full log is `{}`", sandbox.log_path().display()));
            Err(BuildError::Failed {
                package: package.name.clone(),
                build_dir: sandbox.keep(),
                help,
                source: Box::new(error),
            })
        }
    }
}

/// Copies the build log to `dest` (when logs are kept), since the build directory goes
/// away, and the compiler wrapper's call log beside it as `<package>.compiler.log`.
fn keep_log(sandbox: &Sandbox, dest: Option<PathBuf>) -> std::io::Result<()> {
    let Some(dest) = dest else { return Ok(()) };
    crate::fsutil::write_atomic(&dest, &fs_err::read(sandbox.log_path())?)?;
    let calls = dest.with_extension("compiler.log");
    match fs_err::read(sandbox.compiler_log_path()) {
        Ok(bytes) => crate::fsutil::write_atomic(&calls, &bytes),
        // No compiler ran: a call log from an earlier build would mislead.
        Err(_) if calls.exists() => fs_err::remove_file(&calls),
        Err(_) => Ok(()),
    }
}

fn run_steps(
    package: &Package,
    context: &BuildContext,
    sandbox: &Sandbox,
    log: &mut fs_err::File,
    progress: &dyn Progress,
) -> Result<PathBuf, BuildError> {
    let target = context.target;
    let fetched = fetch_source(package, context, log, progress)?;
    let vars = PackageVars {
        version: package.version.clone(),
        source_date_epoch: context.source_date_epoch,
    };
    if source::is_wheel(&fetched) {
        // A prebuilt wheel (Pyodide's `url: ….whl` recipes): nothing to build, only `post`
        // and the repair for the target.
        progress.phase(&package.name, "wheel");
        let environment = sandbox.environment(target, &sandbox.path().join("bin"), &vars);
        let shell = Shell::new(environment, sandbox.path().join("script.env"));
        return finish_wheel(package, context, sandbox, &fetched, shell, log);
    }
    let source_dir = sandbox.source_dir();
    source::prepare(
        &fetched,
        &source_dir,
        &sandbox.path().join("unpack"),
        package.extract_dir.as_deref(),
    )?;
    source::apply_patches(&source_dir, &package.patches, log)?;
    source::copy_extras(&source_dir, &package.extras)?;

    progress.phase(&package.name, "build environment");
    let build_system = BuildSystem::read(&source_dir)?;
    let build_env = BuildEnv::ensure(&target.info.host_python, &build_system.requires, log)?;
    let mut environment = sandbox.environment(target, &build_env.bin_dir(), &vars);
    environment.extend(context.compiler_cache.iter().cloned());
    let mut shell = Shell::new(environment, sandbox.path().join("script.env"));
    let flags = shell.flags_before_script(package);
    sandbox.install_wrapper(&wrapper_config(package, context, sandbox, &flags))?;
    if let Some(script) = &package.script {
        progress.phase(&package.name, "script");
        shell.run(script, &source_dir, log)?;
    }
    // Flags see what the script exported, as in Pyodide.
    let flags = shell.flags(package)?;
    sandbox.write_wrapper_config(&wrapper_config(package, context, sandbox, &flags))?;
    let mut backend_shell = shell.clone();
    if let Some(script) = &package.cross_script {
        progress.phase(&package.name, "cross-script");
        backend_shell.run(script, &source_dir, log)?;
    }

    progress.phase(&package.name, "build");
    let backend = Backend {
        system: &build_system,
        sandbox,
        environment: backend_shell.environment(),
        config: &package.config_settings(),
    };
    let build_env = backend.complete_env(&target.info.host_python, build_env, log)?;
    let built = backend.build_wheel(&build_env, log)?;

    progress.phase(&package.name, "wheel");
    finish_wheel(package, context, sandbox, &built, shell, log)
}

/// Fetches the package's source (its URL's `$(NAME)` expanded), warning when a URL source
/// came from pip's index instead.
fn fetch_source(
    package: &Package,
    context: &BuildContext,
    log: &mut fs_err::File,
    progress: &dyn Progress,
) -> Result<PathBuf, BuildError> {
    let target = context.target;
    progress.phase(&package.name, "fetch");
    let spec = package
        .source
        .expanded(|name| url::variable(name, &package.version, &target.info.python_version))?;
    let fetched = source::fetch(&spec, &target.info.host_python, &context.source_cache, log)?;
    if let (SourceSpec::Url { url, .. }, Origin::Index { pin }) = (&spec, &fetched.origin) {
        progress.warn(&format!(
            "`{url}` cannot be reached; using `{pin}` from pip's index, whose sha256 is the recipe's"
        ));
    }
    Ok(fetched.path)
}

fn wrapper_config(
    package: &Package,
    context: &BuildContext,
    sandbox: &Sandbox,
    flags: &Flags,
) -> WrapperConfig {
    let info = &context.target.info;
    let with = |base: &[String], extra: &[String]| base.iter().chain(extra).cloned().collect();
    WrapperConfig {
        emscripten_bin: context.toolchain.bin_dir.clone(),
        target_include: context.target.include_dir(),
        host_include_dirs: vec![info.host_include.clone()],
        cflags: with(&info.cflags, &flags.cflags),
        cxxflags: flags.cxxflags.clone(),
        ldflags: with(&info.ldflags, &flags.ldflags),
        exports: package.exports.clone(),
        work_dir: sandbox.path().join("exports"),
        log_file: Some(sandbox.compiler_log_path()),
        llvm_nm: which::which("llvm-nm-19")
            .ok()
            .or_else(|| which::which("llvm-nm").ok()),
    }
}

/// The PEP 517 hooks, run by the template driver in the build's environment.
struct Backend<'a> {
    system: &'a BuildSystem,
    sandbox: &'a Sandbox,
    environment: &'a [(String, String)],
    config: &'a BTreeMap<String, String>,
}

/// The driver that calls a backend's hooks.
const DRIVER: &str = include_str!("../../templates/pep517_backend.py");

impl Backend<'_> {
    fn hook(
        &self,
        build_env: &BuildEnv,
        hook: &str,
        log: &mut dyn Write,
    ) -> Result<serde_json::Value, BuildError> {
        let driver = self.sandbox.path().join("pep517_backend.py");
        if !driver.is_file() {
            fs_err::write(&driver, DRIVER)?;
        }
        let finished = Cmd::new(build_env.python())
            .arg(&driver)
            .arg(hook)
            .arg(self.sandbox.source_dir())
            .arg(self.sandbox.dist_dir())
            .arg(serde_json::to_string(self.config).expect("settings serialize"))
            .envs(self.environment.iter().cloned())
            .env("EMWHEEL_BACKEND", &self.system.build_backend)
            .env(
                "EMWHEEL_BACKEND_PATH",
                serde_json::to_string(&self.system.backend_path).expect("list serializes"),
            )
            .dir(self.sandbox.source_dir())
            .run_logged(log)?;
        let last = finished
            .output
            .lines()
            .last()
            .unwrap_or_default()
            .to_string();
        serde_json::from_str(&last).map_err(|_| BuildError::NoWheel(last))
    }

    /// Adds what `get_requires_for_build_wheel` asks for: the environment for the larger
    /// requirement set is cached in its own right.
    fn complete_env(
        &self,
        host_python: &Path,
        build_env: BuildEnv,
        log: &mut dyn Write,
    ) -> Result<BuildEnv, BuildError> {
        let missing: Vec<String> =
            serde_json::from_value(self.hook(&build_env, "requires", log)?).unwrap_or_default();
        if missing.is_empty() {
            return Ok(build_env);
        }
        let all: Vec<String> = self
            .system
            .requires
            .iter()
            .chain(&missing)
            .cloned()
            .collect();
        BuildEnv::ensure(host_python, &all, log)
    }

    fn build_wheel(
        &self,
        build_env: &BuildEnv,
        log: &mut dyn Write,
    ) -> Result<PathBuf, BuildError> {
        let name = self.hook(build_env, "build", log)?;
        let name = name
            .as_str()
            .ok_or_else(|| BuildError::NoWheel(name.to_string()))?;
        Ok(self.sandbox.dist_dir().join(name))
    }
}

/// Unpacks the backend's wheel, runs the recipe's `post` script in it, repairs it for the
/// target and writes it deterministically into the output directory.
fn finish_wheel(
    package: &Package,
    context: &BuildContext,
    sandbox: &Sandbox,
    built: &Path,
    mut shell: Shell,
    log: &mut dyn Write,
) -> Result<PathBuf, BuildError> {
    let mut unpacked = wheel::unpack(built, &sandbox.path().join("wheel"))?;
    if let Some(post) = &package.post {
        shell.set("WHEELDIR", &unpacked.root().display().to_string());
        shell.run(post, unpacked.root(), log)?;
    }
    let target = context.target;
    let tags = TargetTags {
        python_tag: target.python_tag(),
        platform_tag: target.info.platform_tag.clone(),
        ext_suffix: target.info.ext_suffix.clone(),
    };
    let report = unpacked.repair(&tags)?;
    if !report.has_extensions()
        && !package.pure
        && source::has_native_sources(&sandbox.source_dir())
    {
        return Err(BuildError::PureFromNative {
            wheel: built
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        });
    }
    if context.py_compile {
        BytecodeCompiler::new(&target.info.host_python, &target.python_xy())?
            .compile_tree(unpacked.root())?;
        unpacked.retag_for_bytecode(&target.python_tag())?;
    }
    fs_err::create_dir_all(&context.out_dir)?;
    Ok(unpacked.write(&context.out_dir, context.source_date_epoch)?)
}

/// Known causes in a failed command's output, turned into a fix.
fn diagnose(error: &BuildError) -> Option<String> {
    let output = match error {
        BuildError::Command(CmdError::Failed { output, .. }) => output,
        BuildError::Patch { patch, .. } => {
            return Some(format!(
                "`{}` does not fit this source: the failed hunks are above, and their `.rej` files are in the kept `src/`; update the patch for this version",
                patch.file_name().unwrap_or_default().to_string_lossy()
            ))
        }
        _ => return None,
    };
    let missing_header = output.lines().find_map(|line| {
        line.split("fatal error: '")
            .nth(1)?
            .split("' file not found")
            .next()
    });
    if let Some(header) = missing_header {
        return Some(format!(
            "`{header}` is missing: add the library recipe that provides it to `requirements.host`"
        ));
    }
    if let Some(library) = output
        .lines()
        .find_map(|line| line.split("unable to find library -l").nth(1))
    {
        return Some(format!(
            "library `{}` is missing: add its recipe to `requirements.host`",
            library.trim()
        ));
    }
    None
}
