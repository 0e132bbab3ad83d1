//! `emwheel target install|list|use|remove`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::crossenv::{self, InstallOptions, InstallSource, Target};
use crate::toolchain::Toolchain;
use crate::ui::{Progress, Ui};

#[derive(Debug, Subcommand)]
pub(super) enum TargetCommand {
    /// Assemble a target from a Pyodide version (npm), a distribution directory, an npm
    /// tarball, and/or a Pyodide cross-build environment.
    Install(InstallArgs),
    /// List the installed targets and which one is the default.
    List,
    /// Make an installed target the default for every command that takes `--target`.
    Use {
        /// The target's version.
        name: String,
    },
    /// Remove an installed target.
    Remove {
        /// The target's version.
        name: String,
    },
}

#[derive(Debug, Args)]
pub(super) struct InstallArgs {
    /// A Pyodide version (`0.29.5`), a directory holding `pyodide-lock.json`, or a `.tgz`;
    /// with `--xbuildenv` only, the runtime of the xbuildenv's version comes from npm.
    #[arg(required_unless_present = "xbuildenv")]
    source: Option<String>,
    /// The host Python that runs build backends (default: `pythonX.Y` of the target, else
    /// the nearest other CPython 3, in cross-version mode).
    #[arg(long)]
    host_python: Option<PathBuf>,
    /// A CPython `include/pythonX.Y` directory to take the headers from.
    #[arg(long)]
    headers: Option<PathBuf>,
    /// The wheel platform tag, for an ABI whose tag emwheel does not derive yet
    /// (e.g. `pyemscripten_2027_0_wasm32`).
    #[arg(long)]
    platform_tag: Option<String>,
    /// A Pyodide cross-build environment (`xbuildenv-*.tar.bz2`/`.tar.gz`, or unpacked) to
    /// take the headers, sysconfig and compiler flags from.
    #[arg(long)]
    xbuildenv: Option<PathBuf>,
    /// The sha256 the `--xbuildenv` archive must have; a mismatch installs nothing.
    #[arg(long, requires = "xbuildenv")]
    sha256: Option<String>,
    /// Replace an installed target of the same version.
    #[arg(long)]
    force: bool,
}

pub(super) fn run(command: TargetCommand, ui: &Ui) -> miette::Result<()> {
    match command {
        TargetCommand::Install(args) => install(args, ui),
        TargetCommand::List => list(),
        TargetCommand::Use { name } => {
            let chosen = crossenv::use_target(&name)?;
            ui.status(&format!("target {} is now the default", chosen.info.name));
            Ok(())
        }
        TargetCommand::Remove { name } => {
            let removed = crossenv::remove(&name)?;
            ui.status(&format!(
                "removed target {} from {}",
                removed.info.name,
                removed.dir.display()
            ));
            Ok(())
        }
    }
}

fn install(args: InstallArgs, ui: &Ui) -> miette::Result<()> {
    let source = args.source.as_deref().map(InstallSource::parse);
    let what = args
        .source
        .as_deref()
        .or(args.xbuildenv.as_deref().and_then(|path| path.to_str()))
        .unwrap_or_default();
    ui.status(&format!("installing target {what}"));
    let options = InstallOptions {
        host_python: args.host_python,
        headers: args.headers,
        platform_tag: args.platform_tag,
        xbuildenv: args.xbuildenv,
        sha256: args.sha256,
        force: args.force,
    };
    let installed = crossenv::install(source.as_ref(), &options)?;
    let info = &installed.info;
    ui.status(&format!(
        "installed target {} (Python {}, Emscripten {}, {}) in {}",
        info.name,
        info.python_version,
        info.emscripten_version,
        info.platform_tag,
        installed.dir.display()
    ));
    warn_cross_host(&installed, ui);
    println!("{}", installed.dir.display());
    Ok(())
}

/// The visible warning every command that builds for a cross-version target gives.
pub(super) fn warn_cross_host(target: &Target, ui: &Ui) {
    if let Some(host) = target.cross_host() {
        ui.warn(&format!(
            "target {} is Python {}, but build backends run on host Python {host} \
(`{}`): cross-version mode. Known to work: setuptools C and C++ extensions. Untested: Cython, \
the limited API, setup.py code that branches on `sys.version_info`",
            target.info.name,
            target.python_xy(),
            target.info.host_python.display()
        ));
    }
}

fn list() -> miette::Result<()> {
    let (targets, default) = crossenv::list_with_default()?;
    let toolchains: Vec<Toolchain> = Toolchain::discover(None)
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    super::print_data(targets.iter().enumerate().map(|(index, installed)| {
        let info = &installed.info;
        let host = match installed.cross_host() {
            Some(host) => format!("host Python {host} (cross-version)"),
            None => format!("host Python {}", installed.python_xy()),
        };
        let tag_origin = if info.platform_tag_overridden {
            " (override)"
        } else {
            ""
        };
        let marker = if default == Some(index) {
            " (default)"
        } else {
            ""
        };
        format!(
            "{}\tPython {}\tEmscripten {}\t{}{tag_origin}\t{host}\theaders from {}\t{}{marker}",
            info.name,
            info.python_version,
            info.emscripten_version,
            info.platform_tag,
            info.headers_from.display(),
            exactness(installed, &toolchains)
        )
    }))
}

/// Whether a build for `target` is exact (the emcc of its Emscripten version and a host
/// Python of its `X.Y`), or why not.
fn exactness(target: &Target, toolchains: &[Toolchain]) -> String {
    let required = target.emscripten_version();
    let emcc = toolchains
        .iter()
        .find(|toolchain| Some(toolchain.version) == required);
    let mut reasons = Vec::new();
    if emcc.is_none() {
        let found: Vec<String> = toolchains.iter().map(|t| t.version.to_string()).collect();
        let found = if found.is_empty() {
            "none".to_string()
        } else {
            found.join(", ")
        };
        reasons.push(format!(
            "no emcc {} (found: {found}; `emwheel toolchain install {}`)",
            target.info.emscripten_version, target.info.emscripten_version
        ));
    }
    if let Some(host) = target.cross_host() {
        reasons.push(format!("host Python {host}, not {}", target.python_xy()));
    }
    match (emcc, reasons.is_empty()) {
        (Some(emcc), true) => format!(
            "exact (emcc {} from {}, host Python {})",
            emcc.version,
            emcc.origin,
            target.python_xy()
        ),
        _ => format!("not exact: {}", reasons.join("; ")),
    }
}
