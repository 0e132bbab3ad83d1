//! Building one package end to end: its source fetched and patched in a sandboxed build
//! directory, its PEP 517 backend run by a host venv against the target's sysconfig with the
//! compiler wrapper on PATH, and the wheel repaired for the target.

mod crossbuild;
mod crossfiles;
mod env;
mod isolation;
mod library;
mod package;
mod project;
mod pyproject;
mod rust;
mod sandbox;
mod script;
mod source;
mod url;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use isolation::Isolation;
pub use library::{LibraryPrefix, Manifest, RuntimeZip, MANIFEST_VERSION};
pub use package::Package;
pub use project::ProjectSettings;
pub use rust::{
    describe as describe_rust, rustflags, RustError, TOOLCHAIN_NAME as RUST_TOOLCHAIN_NAME,
};
pub use source::{Origin, SourceSpec};

use crossfiles::CrossPaths;
use env::{BuildEnv, EnvSpec};
use library::Missing;
use pyproject::BuildSystem;
use sandbox::{PackageVars, Sandbox};
use script::{Flags, Shell};

use crate::crossenv::Target;
use crate::process::{Cmd, CmdError};
use crate::pycompile::BytecodeCompiler;
use crate::toolchain::wrapper::{self, Exports, WrapperConfig};
use crate::toolchain::Toolchain;
use crate::ui::Progress;
use crate::wheel;

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
    /// `apt-get source` failed.
    #[error("could not fetch the Debian source package `{package}`")]
    #[diagnostic(help("apt needs a `deb-src` entry for the suite that has it (`scripts/setup` adds one for bookworm), then `apt-get update`; `apt-cache showsrc <name>` lists the versions it knows"))]
    DebianSource {
        /// `name=version`.
        package: String,
        /// What apt said.
        #[source]
        source: Box<CmdError>,
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
    /// A host requirement (a library or cross-build package recipe) is not yet built for the target.
    #[error("host requirement `{name}` is not built for target `{target}`")]
    #[diagnostic(help("build its recipe first: `emwheel build {} --target {target}`", recipe.display()))]
    HostRequirementMissing {
        /// The requirement.
        name: String,
        /// The target.
        target: String,
        /// The recipe to build.
        recipe: PathBuf,
    },
    /// A `cross-build-files` entry is not in the wheel the package built.
    #[error("`{file}`, listed in `cross-build-files`, is not in the wheel `{package}` built")]
    #[diagnostic(help("name the file as it lies in the wheel (`unzip -l` the wheel in the kept build directory), or drop it from the recipe"))]
    CrossBuildFileMissing {
        /// The listed path.
        file: String,
        /// The package.
        package: String,
    },
    /// A program the recipe needs is not installed.
    #[error("`{0}`, listed in `requirements.executable`, is not on PATH")]
    #[diagnostic(help("install it (`apt-get install {0}`, or `pip install {0}` for Python tools), then build again"))]
    Executable(String),
    /// A library recipe has no script to build it.
    #[error("library recipe `{0}` has no `build.script`")]
    #[diagnostic(help("write a script that builds the library with emconfigure/emmake/emcmake and installs it with `--prefix=$WASM_LIBRARY_DIR`"))]
    NoScript(String),
    /// A library script installed nothing.
    #[error("the script installed nothing into `{}`", prefix.display())]
    #[diagnostic(help("install into `$WASM_LIBRARY_DIR` (`./configure --prefix=$WASM_LIBRARY_DIR`, `cmake -DCMAKE_INSTALL_PREFIX=$WASM_LIBRARY_DIR`, or copy headers to `$WASM_LIBRARY_DIR/include` and libraries to `$WASM_LIBRARY_DIR/lib`)"))]
    NothingInstalled {
        /// The staging prefix.
        prefix: PathBuf,
    },
    /// A shared-library recipe installed no `.so`.
    #[error("the shared-library recipe installed no `lib/*.so` into `{}`", prefix.display())]
    #[diagnostic(help("link the library with `emcc -shared -fPIC` (a side module) into `$WASM_LIBRARY_DIR/lib`, or make the recipe a `static_library`"))]
    NoSharedLibrary {
        /// The staging prefix.
        prefix: PathBuf,
    },
    /// A library manifest cannot be read.
    #[error("library manifest `{}` cannot be read: {message}", path.display())]
    #[diagnostic(help("rebuild the library's recipe with this emwheel"))]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        message: String,
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
    /// `--sandbox` was asked for but this machine cannot isolate a build.
    #[error("this machine cannot sandbox builds: {reason}")]
    #[diagnostic(help(
        "build without `--sandbox`, or allow it: as root it needs `unshare`, `mount` and \
         `setpriv` (util-linux); other users also need unprivileged user namespaces \
         (`sysctl kernel.unprivileged_userns_clone=1`)"
    ))]
    SandboxUnavailable {
        /// What failed.
        reason: String,
    },
    /// The wheel's bytecode could not be compiled.
    #[error(transparent)]
    PyCompile(#[from] crate::pycompile::PyCompileError),
    /// A Rust build cannot start.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Rust(#[from] RustError),
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
    /// The source cache: sources by sha256 (`<dir>/<sha256>/<file>`, filled by every fetch)
    /// or by file name (`<dir>/<file>`, filled by the user).
    pub source_cache: PathBuf,
    /// Ship bytecode for the target Python instead of `.py` sources.
    pub py_compile: bool,
    /// Files left out of wheels and their compression level.
    pub slim: wheel::Slim,
    /// The environment of the compiler cache in front of emcc (empty for none).
    pub compiler_cache: Vec<(String, String)>,
    /// Where to keep a copy of each package's `build.log` (and `compiler.log`), success or
    /// failure.
    pub log_dir: Option<PathBuf>,
    /// Run the build steps isolated (`--sandbox`): no network, nothing writable outside the
    /// build directory.
    pub isolation: Option<Isolation>,
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
pub struct Built {
    /// The wheel in the output directory, or a library's manifest in the library prefix.
    pub path: PathBuf,
    /// The package's unvendored tests, `<name>-tests.zip` beside the wheel.
    pub tests_zip: Option<PathBuf>,
    /// A shared library's `<name>-<version>.zip` in the output directory.
    pub runtime_zip: Option<PathBuf>,
    /// Wall time of the whole build.
    pub seconds: f64,
    /// Compiler calls the wrapper ran, and their total time.
    pub compiler: wrapper::CallSummary,
}

/// What a build wrote.
struct Outputs {
    path: PathBuf,
    tests_zip: Option<PathBuf>,
    runtime_zip: Option<PathBuf>,
}

/// Builds one package into a wheel in `context.out_dir`, or a library recipe into the target's
/// library prefix. On failure the build directory is kept and the error names it, the
/// failing command and the tail of its output.
pub fn build(
    package: &Package,
    context: &BuildContext,
    progress: &dyn Progress,
) -> Result<Built, BuildError> {
    let start = Instant::now();
    let wrapper_bin = sandbox::wrapper_links(&crate::home::wrapper_links_dir())?;
    let sandbox = Sandbox::new(&package.name, context.isolation.clone(), wrapper_bin)?;
    let mut log = fs_err::File::create(sandbox.log_path())?;
    let result = run_steps(package, context, &sandbox, &mut log, progress);
    let kept = keep_log(&sandbox, context.kept_log(&package.name));
    match result {
        Ok(outputs) => {
            kept?;
            Ok(Built {
                path: outputs.path,
                tests_zip: outputs.tests_zip,
                runtime_zip: outputs.runtime_zip,
                seconds: start.elapsed().as_secs_f64(),
                compiler: wrapper::summarize_log(&sandbox.compiler_log_path()),
            })
        }
        Err(error) => {
            // The build's own error matters more than a log that could not be copied.
            drop(kept);
            let own_help = miette::Diagnostic::help(&error).map(|help| help.to_string());
            let help = own_help
                .or_else(|| diagnose(&error, package, context, &sandbox))
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

/// Whether the files a cross-build package keeps for other builds are in place for its
/// version and the context's target (always, for any other package).
pub fn cross_build_files_kept(
    package: &Package,
    context: &BuildContext,
) -> Result<bool, BuildError> {
    if package.cross_build_files.is_none() {
        return Ok(true);
    }
    let prefix = LibraryPrefix::for_target(&context.target.info.name);
    let kept = crossbuild::find(&prefix, &package.name)?;
    Ok(kept.is_some_and(|record| record.version == package.version))
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
) -> Result<Outputs, BuildError> {
    let target = context.target;
    let fetched = fetch_source(package, context, log, progress)?;
    let prefix = LibraryPrefix::for_target(&target.info.name);
    if source::is_wheel(&fetched) {
        // A prebuilt wheel (Pyodide's `url: ….whl` recipes): nothing to build, only `post`
        // and the repair for the target.
        progress.phase(&package.name, "wheel");
        let build_env = BuildEnv::ensure(&target.info.host_python, &EnvSpec::default(), log)?;
        let shell = prepare_shell(package, context, sandbox, &prefix, &build_env)?;
        return finish_wheel(package, context, sandbox, &fetched, shell, log);
    }
    prepare_source(&fetched, package, sandbox, log)?;
    library::check_host_requirements(
        &package.host_requirements,
        package.recipes_dir.as_deref(),
        &prefix,
        &target.info.name,
    )?;

    progress.phase(&package.name, "build environment");
    let build_system = match package.kind.is_library() {
        true => BuildSystem::tools_only(),
        false => BuildSystem::read(&sandbox.source_dir())?,
    };
    let env_spec = env_spec(package, &build_system.requires, &prefix, log)?;
    let build_env = BuildEnv::ensure(&target.info.host_python, &env_spec, log)?;
    let mut shell = prepare_shell(package, context, sandbox, &prefix, &build_env)?;
    if rust::wanted(&package.executables, &build_system) {
        progress.phase(&package.name, "rust");
        use_rust(context, sandbox, &mut shell, log)?;
    }
    check_executables(&package.executables, shell.environment())?;
    if let Some(script) = &package.script {
        progress.phase(&package.name, "script");
        shell.run(script, &sandbox.source_dir(), log)?;
    }
    // Flags see what the script exported, as in Pyodide.
    let flags = shell.flags(package)?;
    sandbox.write_wrapper_config(&wrapper_config(package, context, sandbox, &prefix, &flags))?;
    if package.kind.is_library() {
        progress.phase(&package.name, "install");
        return install_library(package, context, sandbox, &prefix);
    }
    let mut backend_shell = shell.clone();
    if let Some(script) = &package.cross_script {
        progress.phase(&package.name, "cross-script");
        backend_shell.run(script, &sandbox.source_dir(), log)?;
    }

    progress.phase(&package.name, "build");
    let cross_file = format!(
        "setup-args=--cross-file={}",
        sandbox.meson_cross_path().display()
    );
    let extra = match build_system.build_backend.starts_with("mesonpy") {
        true => vec![cross_file],
        false => Vec::new(),
    };
    let config = package.config_settings(&extra, backend_shell.environment())?;
    let backend = Backend {
        system: &build_system,
        env_spec: &env_spec,
        prefix: &prefix,
        sandbox,
        environment: backend_shell.environment(),
        config: &config,
    };
    let build_env = backend.complete_env(&target.info.host_python, build_env, log)?;
    let built = backend.build_wheel(&build_env, log)?;

    progress.phase(&package.name, "wheel");
    finish_wheel(package, context, sandbox, &built, shell, log)
}

/// The build environment for a package whose backend asks for `requires`: cross-build
/// packages built for the target pinned and overlaid, within the recipe's constraints.
fn env_spec(
    package: &Package,
    requires: &[String],
    prefix: &LibraryPrefix,
    log: &mut dyn Write,
) -> Result<EnvSpec, BuildError> {
    let (requirements, overlays) =
        crossbuild::pin(requires, &package.host_requirements, prefix, log)?;
    Ok(EnvSpec {
        requirements,
        constraints: package.constraints.clone(),
        overlays,
    })
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

/// Unpacks (or copies) the fetched source into the build directory and patches it.
fn prepare_source(
    fetched: &Path,
    package: &Package,
    sandbox: &Sandbox,
    log: &mut fs_err::File,
) -> Result<(), BuildError> {
    let source_dir = sandbox.source_dir();
    source::prepare(
        fetched,
        &source_dir,
        &sandbox.path().join("unpack"),
        package.extract_dir.as_deref(),
    )?;
    source::apply_patches(&source_dir, &package.patches, log)?;
    source::copy_extras(&source_dir, &package.extras)
}

/// Writes the CMake and Meson cross files, installs the wrapper, and returns the shell
/// session every build step runs in.
fn prepare_shell(
    package: &Package,
    context: &BuildContext,
    sandbox: &Sandbox,
    prefix: &LibraryPrefix,
    build_env: &BuildEnv,
) -> Result<Shell, BuildError> {
    if package.kind.is_library() && package.script.is_none() {
        return Err(BuildError::NoScript(package.name.clone()));
    }
    for dir in ["include", "lib/pkgconfig"] {
        fs_err::create_dir_all(prefix.root().join(dir))?;
    }
    let mut pkg_config_dirs = vec![prefix.pkg_config_dir()];
    let library_dir = if package.kind.is_library() {
        let staging = sandbox.staging_prefix();
        fs_err::create_dir_all(&staging)?;
        pkg_config_dirs.insert(0, staging.join("lib/pkgconfig"));
        staging
    } else {
        prefix.root().to_path_buf()
    };
    let emscripten_root = context.toolchain.emscripten_root();
    let cross = CrossPaths {
        wrapper_bin: &sandbox.bin_dir(),
        emscripten_root: emscripten_root.as_deref(),
        library_prefix: prefix.root(),
        install_prefix: &library_dir,
        python_include: &context.target.include_dir(),
    };
    fs_err::write(sandbox.cmake_toolchain_path(), cross.cmake_toolchain())?;
    let pkg_config = which::which("pkg-config").ok();
    fs_err::write(
        sandbox.meson_cross_path(),
        cross.meson_cross(pkg_config.as_deref()),
    )?;
    let joined: Vec<String> = pkg_config_dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    let vars = PackageVars {
        host_install_dir: build_env.dir.clone(),
        host_site_packages: build_env.site_packages()?,
        version: package.version.clone(),
        source_date_epoch: context.source_date_epoch,
        library_dir,
        pkg_config_path: joined.join(":"),
        toolchain_bin: context.toolchain.bin_dir.clone(),
        em_config: context.toolchain.config_file(),
    };
    let mut environment = sandbox.environment(context.target, &vars);
    environment.extend(context.compiler_cache.iter().cloned());
    let shell = Shell::new(environment, sandbox.path().join("script.env"))
        .confined(sandbox.confinement().cloned());
    let flags = shell.flags_before_script(package);
    sandbox.write_wrapper_config(&wrapper_config(package, context, sandbox, prefix, &flags))?;
    Ok(shell)
}

/// Puts the Rust toolchain and its cross variables into the build's environment, building
/// the target's std first if no build has.
fn use_rust(
    context: &BuildContext,
    sandbox: &Sandbox,
    shell: &mut Shell,
    log: &mut dyn Write,
) -> Result<(), BuildError> {
    // Under setup's emcc 3.1.69, Rust links go through setup's emcc whose binaryen drops
    // the feature options binaryen 120 rejects; any other emcc links as it is.
    let setup_emcc = rust::toolchain_dir().join("emcc/emcc");
    let setup_bin = fs_err::canonicalize(rust::toolchain_dir())
        .ok()
        .and_then(|dir| dir.parent().map(|parent| parent.join("bin")));
    let emcc = match setup_emcc.is_file()
        && setup_bin.is_some_and(|bin| {
            fs_err::canonicalize(&context.toolchain.bin_dir).is_ok_and(|ours| ours == bin)
        }) {
        true => setup_emcc,
        false => context.toolchain.bin_dir.join("emcc"),
    };
    let path = shell.get("PATH").unwrap_or_default();
    let build = rust::prepare(
        &context.target.info,
        &sandbox.source_dir(),
        &emcc,
        &path,
        log,
    )?;
    if let Some(seconds) = build.std_seconds {
        let _ = writeln!(log, "# built Rust std in {seconds:.1} s");
    }
    for (name, value) in &build.vars {
        shell.set(name, value);
    }
    Ok(())
}

/// Moves what a library recipe's script installed into the target's library prefix.
fn install_library(
    package: &Package,
    context: &BuildContext,
    sandbox: &Sandbox,
    prefix: &LibraryPrefix,
) -> Result<Outputs, BuildError> {
    let request = library::InstallRequest {
        name: &package.name,
        version: &package.version,
        kind: package.kind,
        target: &context.target.info.name,
        out_dir: &context.out_dir,
        source_date_epoch: context.source_date_epoch,
    };
    let installed = library::install(&sandbox.staging_prefix(), prefix, &request)?;
    Ok(Outputs {
        path: installed.manifest_path,
        tests_zip: None,
        runtime_zip: installed.runtime_zip,
    })
}

/// Fails on the first of the recipe's `requirements.executable` that is not on the build's PATH.
fn check_executables(names: &[String], environment: &[(String, String)]) -> Result<(), BuildError> {
    let path = environment
        .iter()
        .find(|(key, _)| key == "PATH")
        .map(|(_, value)| value.as_str());
    let cwd = std::env::current_dir()?;
    match names
        .iter()
        .find(|name| which::which_in(name.as_str(), path, &cwd).is_err())
    {
        Some(missing) => Err(BuildError::Executable(missing.clone())),
        None => Ok(()),
    }
}

fn wrapper_config(
    package: &Package,
    context: &BuildContext,
    sandbox: &Sandbox,
    prefix: &LibraryPrefix,
    flags: &Flags,
) -> WrapperConfig {
    let info = &context.target.info;
    // A library's shared objects are not extension modules: they export everything.
    let exports = match (&package.exports, package.kind.is_library()) {
        (Exports::Pyinit, true) => Exports::WholeArchive,
        (exports, _) => exports.clone(),
    };
    let with = |base: &[String], extra: &[String]| base.iter().chain(extra).cloned().collect();
    WrapperConfig {
        emscripten_bin: context.toolchain.bin_dir.clone(),
        target_include: context.target.include_dir(),
        host_include_dirs: vec![info.host_include.clone()],
        cflags: with(&info.cflags, &flags.cflags),
        cxxflags: with(&info.cxxflags, &flags.cxxflags),
        ldflags: with(&info.ldflags, &flags.ldflags),
        exports,
        work_dir: sandbox.path().join("exports"),
        log_file: Some(sandbox.compiler_log_path()),
        llvm_nm: which::which("llvm-nm-19")
            .ok()
            .or_else(|| which::which("llvm-nm").ok()),
        library_prefix: Some(prefix.root().to_path_buf()),
        native_cache: crate::toolchain::wrapper::native_compile_requested()
            .then(|| crate::home::home().join("native-compile")),
    }
}

/// The PEP 517 hooks, run by the template driver in the build's environment.
struct Backend<'a> {
    system: &'a BuildSystem,
    /// The environment the hooks first run in.
    env_spec: &'a EnvSpec,
    /// Where cross-build packages built for the target are kept.
    prefix: &'a LibraryPrefix,
    sandbox: &'a Sandbox,
    environment: &'a [(String, String)],
    config: &'a BTreeMap<String, serde_json::Value>,
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
        let command = Cmd::new(build_env.python())
            .arg(&driver)
            .arg(hook)
            .arg(self.sandbox.source_dir())
            .arg(self.sandbox.dist_dir())
            .arg(serde_json::to_string(self.config).expect("settings serialize"))
            .envs(self.environment.iter().cloned())
            .env("PATH", self.path_with(build_env))
            .env("EMWHEEL_BACKEND", &self.system.build_backend)
            .env(
                "EMWHEEL_BACKEND_PATH",
                serde_json::to_string(&self.system.backend_path).expect("list serializes"),
            )
            .dir(self.sandbox.source_dir());
        let finished = self.sandbox.isolate(command).run_logged(log)?;
        let last = finished
            .output
            .lines()
            .last()
            .unwrap_or_default()
            .to_string();
        serde_json::from_str(&last).map_err(|_| BuildError::NoWheel(last))
    }

    /// The build's PATH led by the wrapper links, then `build_env`'s scripts: after
    /// [`Backend::complete_env`] the hooks run in a larger environment than the one the
    /// build's PATH was made with, and the tools it added (meson-python's `ninja`) must be
    /// found.
    fn path_with(&self, build_env: &BuildEnv) -> String {
        let wrapper = self.sandbox.bin_dir().display().to_string();
        let venv = build_env.bin_dir().display().to_string();
        match self.environment.iter().find(|(key, _)| key == "PATH") {
            Some((_, rest)) => format!("{wrapper}:{venv}:{rest}"),
            None => format!("{wrapper}:{venv}"),
        }
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
        let (more, overlays) = crossbuild::pin(&missing, &[], self.prefix, log)?;
        let mut spec = self.env_spec.with(&more);
        for overlay in overlays {
            if !spec.overlays.contains(&overlay) {
                spec.overlays.push(overlay);
            }
        }
        BuildEnv::ensure(host_python, &spec, log)
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
/// target, vendors needed shared libraries, moves tests out into `<name>-tests.zip`, strips
/// what `context.slim` names, and writes both deterministically into the output directory.
fn finish_wheel(
    package: &Package,
    context: &BuildContext,
    sandbox: &Sandbox,
    built: &Path,
    mut shell: Shell,
    log: &mut dyn Write,
) -> Result<Outputs, BuildError> {
    let mut unpacked = wheel::unpack(built, &sandbox.path().join("wheel"))?;
    if let Some(post) = &package.post {
        shell.set("WHEELDIR", &unpacked.root().display().to_string());
        shell.run(post, unpacked.root(), log)?;
    }
    let target = context.target;
    let report = unpacked.repair(&target.tags())?;
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
    let prefix = LibraryPrefix::for_target(&target.info.name);
    if let Some(files) = &package.cross_build_files {
        let kept = crossbuild::Kept {
            name: &package.name,
            version: &package.version,
            target: &target.info.name,
            files,
        };
        let record = crossbuild::keep(unpacked.root(), &kept, &prefix)?;
        let _ = writeln!(
            log,
            "# kept {} cross-build files in {}",
            record.files.len(),
            record.dir(&prefix).display()
        );
    }
    if package.vendor_sharedlib {
        let lib_dir = prefix.root().join("lib");
        for vendored in unpacked.vendor_shared_libraries(&[lib_dir])? {
            let _ = writeln!(log, "# vendored {vendored}");
        }
    }
    let tests_zip = match package.unvendor_tests {
        true => unvendor_tests(package, context, sandbox, &unpacked)?,
        false => None,
    };
    for stripped in unpacked.slim(&context.slim)? {
        let _ = writeln!(log, "# stripped {stripped}");
    }
    if context.py_compile {
        BytecodeCompiler::new(&target.info.host_python, &target.python_xy())?
            .compile_tree(unpacked.root())?;
        unpacked.retag_for_bytecode(&target.python_tag())?;
    }
    let path = unpacked.write(&context.out_dir, context.source_date_epoch)?;
    Ok(Outputs {
        path,
        tests_zip,
        runtime_zip: None,
    })
}

/// Moves the wheel's tests into `<name>-tests.zip` in the output directory; a stale zip of an
/// earlier build is removed when the wheel now has none.
fn unvendor_tests(
    package: &Package,
    context: &BuildContext,
    sandbox: &Sandbox,
    unpacked: &wheel::UnpackedWheel,
) -> Result<Option<PathBuf>, BuildError> {
    let tree = sandbox.path().join("tests");
    let zip = context
        .out_dir
        .join(format!("{}-tests.zip", wheel::normalize(&package.name)));
    if unpacked.unvendor_tests(&tree)?.is_empty() {
        match fs_err::remove_file(&zip) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
            _ => Ok(None),
        }
    } else {
        wheel::write_zip_tree(&tree, &zip, context.source_date_epoch)?;
        Ok(Some(zip))
    }
}

/// Known causes in a failed command's output, turned into a fix.
fn diagnose(
    error: &BuildError,
    package: &Package,
    context: &BuildContext,
    sandbox: &Sandbox,
) -> Option<String> {
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
    if sandbox.confinement().is_some() {
        if let Some(help) = isolation::sandbox_help(output, sandbox.path()) {
            return Some(help);
        }
    }
    if let Some(help) = rust::missing_system_library(output) {
        return Some(help);
    }
    let missing_header = output.lines().find_map(|line| {
        line.split("fatal error: '")
            .nth(1)?
            .split("' file not found")
            .next()
    });
    let missing_library = output
        .lines()
        .find_map(|line| line.split("unable to find library -l").nth(1))
        .map(str::trim);
    let (missing, what) = match (missing_header, missing_library) {
        (Some(header), _) => (Missing::Header(header), format!("`{header}`")),
        (None, Some(library)) => (Missing::Library(library), format!("library `{library}`")),
        (None, None) => return None,
    };
    let prefix = LibraryPrefix::for_target(&context.target.info.name);
    Some(
        match library::provider_of(missing, &prefix, package.recipes_dir.as_deref()) {
            Some(recipe) => format!(
                "{what} is missing: add `{recipe}`, the library recipe that provides it, to `requirements.host`"
            ),
            None => format!(
                "{what} is missing: add the library recipe that provides it to `requirements.host`"
            ),
        },
    )
}
