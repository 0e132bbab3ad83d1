//! Rust extensions (PyO3 with maturin or setuptools-rust): when a build needs Rust, the
//! variables its cargo runs with, and the target's std.
//!
//! rustup has no prebuilt std for `wasm32-unknown-emscripten` here, so std is built with
//! `-Zbuild-std` by the private nightly toolchain `scripts/setup` makes (`toolchain/rust`,
//! linked to rustup as `emwheel`, with Debian's rust-src). It is built once per (toolchain,
//! target, RUSTFLAGS, panic strategy), kept as a sysroot under `<home>/rust-std/<key>`, and
//! every package links against it through `--sysroot`: no package rebuilds std, and sdists
//! that vendor their crates need nothing of std's own dependencies.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::pyproject::BuildSystem;
use super::BuildError;
use crate::crossenv::TargetInfo;
use crate::process::Cmd;

/// The Rust target triple of every Pyodide.
pub const TARGET: &str = "wasm32-unknown-emscripten";

/// The rustup name of the toolchain `scripts/setup` links.
pub const TOOLCHAIN_NAME: &str = "emwheel";

/// The target RUSTFLAGS (pyodide-build's for 0.28 and later: a side module, BigInt, wasm
/// exceptions), plus the link-time exception flag Pyodide's own modules carry.
const RUSTFLAGS: &str = "-C link-arg=-sSIDE_MODULE=2 -C link-arg=-sWASM_BIGINT \
                         -Z emscripten-wasm-eh -C link-arg=-fwasm-exceptions";

/// Errors preparing a Rust build.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RustError {
    /// `scripts/setup` made no Rust toolchain (there was no nightly).
    #[error("this package builds Rust, and there is no Rust toolchain for {TARGET}: `{}` is missing", dir.display())]
    #[diagnostic(help(
        "it needs a nightly rustc (rustup cannot download this target's std, so std is built \
         with -Zbuild-std): `rustup toolchain install nightly`, then `scripts/setup`, which adds \
         Debian's rust-src and links the toolchain `emwheel`"
    ))]
    NoToolchain {
        /// Where the toolchain should be.
        dir: PathBuf,
    },
    /// The toolchain lacks std's sources.
    #[error("the Rust toolchain `{}` has no std sources (`lib/rustlib/src/rust/library/Cargo.lock`)", dir.display())]
    #[diagnostic(help(
        "run `scripts/setup`: it unpacks Debian's rust-src (sha256-pinned) into the toolchain"
    ))]
    NoRustSrc {
        /// The toolchain.
        dir: PathBuf,
    },
    /// Pyodide 0.27 and older use JavaScript exceptions.
    #[error("Rust extensions for Pyodide {version} (ABI {abi}) are not supported")]
    #[diagnostic(help(
        "this Pyodide uses JavaScript exceptions: its Rust modules need a std and crates built \
         with `-Z emscripten-wasm-eh=false` and a rustc whose LLVM still emits Emscripten's \
         JavaScript exception calls as that Pyodide's emcc 3.1.58 expects; emwheel's nightly \
         has not been verified for that. Build for Pyodide 0.29 or later"
    ))]
    JsExceptions {
        /// The target.
        version: String,
        /// Its ABI version.
        abi: String,
    },
}

/// Whether a build uses Rust: Pyodide's marker (`requirements.executable` names `rustup` or
/// `cargo`), or a maturin or setuptools-rust backend.
pub fn wanted(executables: &[String], system: &BuildSystem) -> bool {
    let rust_tool = |name: &String| name == "rustup" || name == "cargo";
    let rust_requirement = |requirement: &String| {
        let name = requirement
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .replace('_', "-");
        name == "maturin" || name == "setuptools-rust"
    };
    executables.iter().any(rust_tool)
        || system.build_backend.starts_with("maturin")
        || system.requires.iter().any(rust_requirement)
}

/// The target's RUSTFLAGS, or `None` for a target with JavaScript exceptions (ABI 2024_0 and
/// older), for which emwheel builds no Rust.
pub fn rustflags(info: &TargetInfo) -> Option<&'static str> {
    let year = info.abi_version.split('_').next()?.parse::<u32>().ok()?;
    (year >= 2025).then_some(RUSTFLAGS)
}

/// The private toolchain `scripts/setup` makes.
pub fn toolchain_dir() -> PathBuf {
    crate::home::toolchain_dir().join("rust")
}

/// What `emwheel doctor` says of the Rust toolchain: its rustc and where it is, or why Rust
/// packages cannot build.
pub fn describe() -> Result<String, RustError> {
    let dir = toolchain_dir();
    let rustc = dir.join("bin/rustc");
    let version = Cmd::new(&rustc)
        .arg("-V")
        .run()
        .map_err(|_| RustError::NoToolchain { dir: dir.clone() })?;
    if !dir
        .join("lib/rustlib/src/rust/library/Cargo.lock")
        .is_file()
    {
        return Err(RustError::NoRustSrc { dir });
    }
    let cached = fs_err::read_dir(crate::home::home().join("rust-std"))
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().join("std.txt").is_file())
                .count()
        })
        .unwrap_or(0);
    Ok(format!(
        "rust {} in {} (rustup toolchain `{TOOLCHAIN_NAME}`, std for {TARGET} built with -Zbuild-std; {cached} std builds cached)",
        version.output.trim(),
        dir.display()
    ))
}

/// A help line when a crate's build script failed for want of a C library for the target
/// (`openssl-sys`, `libz-sys`, …): which library recipe to add. `None` for other failures.
pub fn missing_system_library(output: &str) -> Option<String> {
    let marker = "failed to run custom build command for `";
    let krate = output
        .lines()
        .find_map(|line| line.split(marker).nth(1)?.split([' ', '`']).next())?;
    let library = krate.strip_suffix("-sys")?;
    let library = match library {
        "libz" => "zlib",
        other => other.trim_start_matches("lib"),
    };
    let hint = match library {
        "openssl" => " and export `OPENSSL_DIR=$WASM_LIBRARY_DIR` in `build.script`",
        _ => "",
    };
    Some(format!(
        "the crate `{krate}` needs the C library `{library}` built for the target: add its \
         library recipe (`{library}`, as Pyodide's recipe tree names it) to `requirements.host`{hint}"
    ))
}

/// How a crate's release build panics, which decides the std it needs: a crate whose
/// release profile aborts (orjson) links `panic_abort`, every other `panic_unwind` (a panic
/// then becomes Python's `PanicException` and the interpreter lives on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panic {
    /// `panic_unwind`.
    Unwind,
    /// `panic_abort`.
    Abort,
}

impl Panic {
    /// The strategy of the crates under `source_dir`: `Abort` when a `Cargo.toml` there (or
    /// one level down, where maturin projects keep theirs) says `panic = "abort"` for release.
    pub fn of_source(source_dir: &Path) -> Self {
        let mut manifests = vec![source_dir.join("Cargo.toml")];
        if let Ok(entries) = fs_err::read_dir(source_dir) {
            manifests.extend(entries.flatten().map(|e| e.path().join("Cargo.toml")));
        }
        let aborts = |path: &PathBuf| {
            let Ok(text) = fs_err::read_to_string(path) else {
                return false;
            };
            let Ok(manifest) = text.parse::<toml::Table>() else {
                return false;
            };
            manifest
                .get("profile")
                .and_then(|p| p.get("release"))
                .and_then(|r| r.get("panic"))
                .and_then(|p| p.as_str())
                == Some("abort")
        };
        match manifests.iter().any(aborts) {
            true => Panic::Abort,
            false => Panic::Unwind,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Panic::Unwind => "unwind",
            Panic::Abort => "abort",
        }
    }
}

/// Everything a Rust build adds to the build's environment: the toolchain first on PATH,
/// cargo's target, linker and RUSTFLAGS (with the cached std as sysroot), PyO3's and
/// maturin's cross variables, and cc-rs's flags.
pub struct RustBuild {
    /// The variables, set after the sandbox's own (later ones win).
    pub vars: Vec<(String, String)>,
    /// How long std took to build, when this build built it.
    pub std_seconds: Option<f64>,
}

/// Prepares a Rust build for `target`: checks the toolchain and builds std if no build has.
pub fn prepare(
    info: &TargetInfo,
    source_dir: &Path,
    emcc: &Path,
    base_path: &str,
    log: &mut dyn Write,
) -> Result<RustBuild, BuildError> {
    let flags = rustflags(info).ok_or_else(|| RustError::JsExceptions {
        version: info.name.clone(),
        abi: info.abi_version.clone(),
    })?;
    let toolchain = toolchain_dir();
    if !toolchain.join("bin/cargo").is_file() {
        return Err(RustError::NoToolchain { dir: toolchain }.into());
    }
    if !toolchain
        .join("lib/rustlib/src/rust/library/Cargo.lock")
        .is_file()
    {
        return Err(RustError::NoRustSrc { dir: toolchain }.into());
    }
    let panic = Panic::of_source(source_dir);
    let (sysroot, std_seconds) = ensure_std(&toolchain, flags, panic, emcc, log)?;
    let path = |p: &Path| p.display().to_string();
    // `requirements.executable: [rustup]` is checked on PATH: rustup's directory goes last,
    // and RUSTUP_TOOLCHAIN makes its proxies run this toolchain.
    let rustup_dir = which::which("rustup")
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let mut search = format!("{}:{base_path}", path(&toolchain.join("bin")));
    if let Some(dir) = rustup_dir {
        search = format!("{search}:{}", path(&dir));
    }
    let target_flags = format!("{flags} --sysroot={}", path(&sysroot));
    let mut c_flags = info.cflags.join(" ");
    if !info.cflags.iter().any(|f| f == "-fPIC") {
        c_flags.push_str(" -fPIC");
    }
    // The build's `cc` is the wrapper that compiles for the target: build scripts and proc
    // macros, built for this machine, link and compile with the machine's own compiler.
    let host = |tool: &str| {
        which::which(tool)
            .map(|p| path(&p))
            .unwrap_or_else(|_| format!("/usr/bin/{tool}"))
    };
    let vars = [
        ("PATH", search),
        ("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER", host("cc")),
        ("CC_x86_64_unknown_linux_gnu", host("cc")),
        ("CXX_x86_64_unknown_linux_gnu", host("c++")),
        ("AR_x86_64_unknown_linux_gnu", host("ar")),
        ("RUSTUP_TOOLCHAIN", TOOLCHAIN_NAME.into()),
        ("RUSTC", path(&toolchain.join("bin/rustc"))),
        ("CARGO", path(&toolchain.join("bin/cargo"))),
        // One registry cache for every build, so crates download once.
        ("CARGO_HOME", path(&crate::home::home().join("cargo"))),
        ("CARGO_BUILD_TARGET", TARGET.into()),
        ("CARGO_TARGET_WASM32_UNKNOWN_EMSCRIPTEN_LINKER", path(emcc)),
        (
            "CARGO_TARGET_WASM32_UNKNOWN_EMSCRIPTEN_RUSTFLAGS",
            target_flags,
        ),
        ("CARGO_TERM_COLOR", "never".into()),
        ("PYO3_BUILD_EXTENSION_MODULE", "1".into()),
        (
            "MATURIN_PYEMSCRIPTEN_PLATFORM_VERSION",
            info.abi_version.clone(),
        ),
        // cc-rs compiles a crate's C without -fPIC unless told.
        ("CFLAGS_wasm32_unknown_emscripten", c_flags.clone()),
        ("CXXFLAGS_wasm32_unknown_emscripten", c_flags),
    ];
    Ok(RustBuild {
        vars: vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        std_seconds,
    })
}

/// The sysroot holding std built for `flags` and `panic`, built now when no build has, and
/// the seconds that took. Builders of one std take turns under a lock; a new one is staged
/// beside its place and renamed in when complete.
fn ensure_std(
    toolchain: &Path,
    flags: &str,
    panic: Panic,
    emcc: &Path,
    log: &mut dyn Write,
) -> Result<(PathBuf, Option<f64>), BuildError> {
    let rustc = Cmd::new(toolchain.join("bin/rustc"))
        .arg("-vV")
        .run()?
        .output;
    let sources = fs_err::read(toolchain.join("lib/rustlib/src/rust/library/Cargo.lock"))?;
    let identity = format!(
        "format 2\n{rustc}\nrust-src {}\ntarget {TARGET}\nrustflags {flags}\npanic {}\n",
        crate::hash::sha256_bytes(&sources),
        panic.name()
    );
    let root = crate::home::home().join("rust-std");
    let dir = root.join(&crate::hash::sha256_bytes(identity.as_bytes())[..16]);
    let libs = |sysroot: &Path| sysroot.join("lib/rustlib").join(TARGET).join("lib");
    if libs(&dir).is_dir() {
        return Ok((dir, None));
    }
    fs_err::create_dir_all(&root)?;
    let _lock = crate::fsutil::FileLock::acquire(&dir.with_extension("lock"))?;
    crate::fsutil::sweep(&root, crate::fsutil::PARTIAL_PREFIX)?;
    if libs(&dir).is_dir() {
        return Ok((dir, None));
    }
    let start = Instant::now();
    let staging = tempfile::Builder::new()
        .prefix(crate::fsutil::PARTIAL_PREFIX)
        .tempdir_in(&root)?;
    let work = staging.path().join("build");
    fs_err::create_dir_all(&work)?;
    fs_err::write(
        work.join("Cargo.toml"),
        format!(
            "[package]\nname = \"emwheel-std\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [lib]\npath = \"lib.rs\"\n\n[profile.release]\npanic = \"{}\"\n",
            panic.name()
        ),
    )?;
    fs_err::write(work.join("lib.rs"), "")?;
    // std's own dependencies come from rust-src's vendor directory: no network.
    fs_err::create_dir_all(work.join(".cargo"))?;
    let vendor = toolchain.join("lib/rustlib/src/rust/library/vendor");
    fs_err::write(
        work.join(".cargo/config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"rust-src\"\n\n[source.rust-src]\ndirectory = \"{}\"\n",
            vendor.display()
        ),
    )?;
    let _ = writeln!(log, "# building Rust std for {TARGET} ({identity})");
    Cmd::new(toolchain.join("bin/cargo"))
        .args(["build", "--release", "--offline", "--target", TARGET])
        .arg(format!("-Zbuild-std=std,panic_{}", panic.name()))
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", toolchain.join("bin").display()),
        )
        .env("HOME", staging.path())
        .env("CARGO_HOME", staging.path().join("cargo-home"))
        .env("RUSTC", toolchain.join("bin/rustc"))
        .env("CARGO_TARGET_DIR", staging.path().join("target"))
        .env("CARGO_TARGET_WASM32_UNKNOWN_EMSCRIPTEN_LINKER", emcc)
        // Bitcode beside the machine code, as in rustup's std: crates with `lto = true`
        // (orjson) link it into their LTO.
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_EMSCRIPTEN_RUSTFLAGS",
            format!("{flags} -C embed-bitcode=yes"),
        )
        .env("CARGO_BUILD_JOBS", jobs())
        .dir(&work)
        .run_logged(log)?;
    let deps = staging
        .path()
        .join("target")
        .join(TARGET)
        .join("release/deps");
    let dest = libs(staging.path());
    fs_err::create_dir_all(&dest)?;
    for entry in fs_err::read_dir(&deps)? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with(".rlib") && !name.starts_with("libemwheel_std") {
            fs_err::copy(&path, dest.join(&*name))?;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    fs_err::write(
        staging.path().join("std.txt"),
        format!("{identity}built in {seconds:.1} s\n"),
    )?;
    for scratch in ["build", "target", "cargo-home"] {
        let _ = fs_err::remove_dir_all(staging.path().join(scratch));
    }
    crate::fsutil::place_dir(staging, &dir)?;
    Ok((dir, Some(seconds)))
}

/// Cargo's job count for std: `CARGO_BUILD_JOBS` when set (CI machines share cores).
fn jobs() -> String {
    std::env::var("CARGO_BUILD_JOBS").unwrap_or_else(|_| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(backend: &str, requires: &[&str]) -> BuildSystem {
        BuildSystem {
            requires: requires.iter().map(|r| r.to_string()).collect(),
            build_backend: backend.into(),
            backend_path: Vec::new(),
        }
    }

    #[test]
    fn rust_is_wanted_by_marker_or_backend() {
        let setuptools = system("setuptools.build_meta", &["setuptools"]);
        assert!(!wanted(&[], &setuptools));
        assert!(!wanted(&["cmake".into()], &setuptools));
        assert!(wanted(&["rustup".into()], &setuptools));
        assert!(wanted(&[], &system("maturin", &["maturin>=1,<2"])));
        let rust = system(
            "setuptools.build_meta",
            &["setuptools", "setuptools_rust>=1"],
        );
        assert!(wanted(&[], &rust));
        assert!(!wanted(&[], &system("x", &["maturinx"])));
    }

    #[test]
    fn panic_strategy_follows_the_release_profile() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Panic::of_source(dir.path()), Panic::Unwind);
        let manifest = "[package]\nname='x'\n[profile.release]\npanic = \"abort\"\n";
        fs_err::create_dir(dir.path().join("rust")).unwrap();
        fs_err::write(dir.path().join("rust/Cargo.toml"), manifest).unwrap();
        assert_eq!(Panic::of_source(dir.path()), Panic::Abort);
        fs_err::write(
            dir.path().join("rust/Cargo.toml"),
            "[profile.dev]\npanic='abort'\n",
        )
        .unwrap();
        assert_eq!(Panic::of_source(dir.path()), Panic::Unwind);
    }

    #[test]
    fn a_sys_crate_failure_names_the_library_recipe() {
        let output = "error: failed to run custom build command for `openssl-sys v0.9.109`\n\
                      Could not find directory of OpenSSL installation";
        let help = missing_system_library(output).unwrap();
        assert!(
            help.contains("`openssl-sys` needs the C library `openssl`"),
            "{help}"
        );
        assert!(help.contains("OPENSSL_DIR=$WASM_LIBRARY_DIR"), "{help}");
        let zlib = "failed to run custom build command for `libz-sys v1.1.20`";
        assert!(missing_system_library(zlib).unwrap().contains("`zlib`"));
        let other = "failed to run custom build command for `pyo3-build-config v0.25.1`";
        assert_eq!(missing_system_library(other), None);
    }

    #[test]
    fn javascript_exception_targets_get_no_rustflags() {
        let mut info = crate::crossenv::test_target().info;
        assert_eq!(rustflags(&info), Some(RUSTFLAGS));
        info.abi_version = "2024_0".into();
        assert_eq!(rustflags(&info), None);
    }
}
