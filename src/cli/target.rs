//! `emwheel target install|list`.

use std::path::PathBuf;

use clap::Subcommand;

use crate::target::{self, InstallOptions, InstallSource};
use crate::ui::Ui;

#[derive(Debug, Subcommand)]
pub(super) enum TargetCommand {
    /// Assemble a target from a Pyodide version (npm), a distribution directory or an npm tarball.
    Install {
        /// A Pyodide version (`0.29.5`), a directory holding `pyodide-lock.json`, or a `.tgz`.
        source: String,
        /// The host Python that runs build backends (default: `pythonX.Y` of the target).
        #[arg(long)]
        host_python: Option<PathBuf>,
        /// A CPython `include/pythonX.Y` directory to take the headers from.
        #[arg(long)]
        headers: Option<PathBuf>,
        /// Replace an installed target of the same version.
        #[arg(long)]
        force: bool,
    },
    /// List the installed targets; the first is the default.
    List,
}

pub(super) fn run(command: TargetCommand, ui: &Ui) -> miette::Result<()> {
    match command {
        TargetCommand::Install {
            source,
            host_python,
            headers,
            force,
        } => {
            ui.status(&format!("installing target {source}"));
            let options = InstallOptions {
                host_python,
                headers,
                force,
            };
            let installed = target::install(&InstallSource::parse(&source), &options)?;
            let info = &installed.info;
            ui.status(&format!(
                "installed target {} (Python {}, Emscripten {}, {}) in {}",
                info.name,
                info.python_version,
                info.emscripten_version,
                info.platform_tag,
                installed.dir.display()
            ));
            println!("{}", installed.dir.display());
            Ok(())
        }
        TargetCommand::List => {
            for (index, installed) in target::list()?.iter().enumerate() {
                let info = &installed.info;
                let default = if index == 0 { " (default)" } else { "" };
                println!(
                    "{}\tPython {}\tEmscripten {}\t{}\theaders from {}{default}",
                    info.name,
                    info.python_version,
                    info.emscripten_version,
                    info.platform_tag,
                    info.headers_from.display()
                );
            }
            Ok(())
        }
    }
}
