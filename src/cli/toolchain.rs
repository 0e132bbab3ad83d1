//! `emwheel toolchain list|install`.

use std::path::PathBuf;

use clap::Subcommand;

use crate::toolchain::{install, EmccVersion, Toolchain};
use crate::ui::Ui;

#[derive(Debug, Subcommand)]
pub(super) enum ToolchainCommand {
    /// List every emcc found, in the order builds consider them: version, clang, binaryen,
    /// where it was found, and its directory. A build uses the first whose version is the
    /// target's Emscripten version.
    List {
        /// An emsdk (or a directory holding emcc) to consider first, as builds would.
        #[arg(long)]
        emsdk: Option<PathBuf>,
    },
    /// Install an Emscripten release as pyodide-build does (git clone of emsdk, `emsdk
    /// install`, `emsdk activate`) into emwheel's home, where builds find it.
    Install {
        /// The Emscripten version, e.g. `5.0.3` (`emwheel target list` shows each target's).
        version: String,
        /// Install again even if it is installed.
        #[arg(long)]
        force: bool,
    },
}

pub(super) fn run(command: ToolchainCommand, ui: &Ui) -> miette::Result<()> {
    match command {
        ToolchainCommand::List { emsdk } => list(emsdk),
        ToolchainCommand::Install { version, force } => {
            let parsed = EmccVersion::parse(&version).ok_or_else(|| {
                miette::miette!(
                    help = "give `major.minor.patch`, e.g. `5.0.3`",
                    "`{version}` is not an Emscripten version"
                )
            })?;
            ui.status(&format!("installing emsdk {parsed}"));
            let installed = install::install(parsed, force)?;
            let what = if installed.already {
                "is already installed"
            } else {
                "installed"
            };
            ui.status(&format!("emcc {parsed} {what}"));
            println!("{}", installed.toolchain.bin_dir.display());
            Ok(())
        }
    }
}

fn list(emsdk: Option<PathBuf>) -> miette::Result<()> {
    let found = Toolchain::discover(emsdk.as_deref());
    if found.is_empty() {
        return Err(crate::toolchain::ToolchainError::NotFound { searched: vec![] }.into());
    }
    super::print_data(found.into_iter().map(|result| match result {
        Ok(toolchain) => format!(
            "{}\tclang {}\tbinaryen {}\tfrom {}\t{}",
            toolchain.version,
            toolchain.clang_version(),
            toolchain.binaryen_version(),
            toolchain.origin,
            toolchain.bin_dir.display()
        ),
        Err(error) => format!("damaged\t{error}"),
    }))
}
