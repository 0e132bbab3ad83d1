//! `emwheel doctor`: is everything a build needs in place?

use std::path::PathBuf;

use clap::Args;

use crate::crossenv;
use crate::toolchain::{Toolchain, ToolchainError};
use crate::ui::{Progress, Ui};

#[derive(Debug, Args)]
pub(super) struct DoctorArgs {
    /// An emsdk (or a directory holding emcc) to use instead of the one found.
    #[arg(long)]
    emsdk: Option<PathBuf>,
}

pub(super) fn run(args: DoctorArgs, ui: &Ui) -> miette::Result<()> {
    let found = Toolchain::discover(args.emsdk.as_deref());
    if found.is_empty() {
        return Err(ToolchainError::NotFound { searched: vec![] }.into());
    }
    let mut damaged = None;
    for result in found {
        match result {
            Ok(toolchain) => println!(
                "emcc {} in {} (found through {})",
                toolchain.version,
                toolchain.bin_dir.display(),
                toolchain.origin
            ),
            Err(error) => {
                ui.warn(&error.to_string());
                damaged.get_or_insert(error);
            }
        }
    }
    let node = which::which("node")
        .map_err(|_| miette::miette!(help = "install Node.js 18 or newer", "`node` not found"))?;
    println!("node {}", node.display());
    // Rust is needed only by Rust packages: its absence is a warning, not a failure.
    match crate::builder::describe_rust() {
        Ok(line) => println!("{line}"),
        Err(error) => ui.warn(&format!(
            "{error}; {}",
            miette::Diagnostic::help(&error)
                .map(|h| h.to_string())
                .unwrap_or_default()
        )),
    }
    let targets = crossenv::list()?;
    if targets.is_empty() {
        ui.warn("no target installed: run `emwheel target install 0.29.5`");
    }
    for installed in targets {
        let files = installed.verify()?;
        println!(
            "target {}: {} files verified, needs Emscripten {}",
            installed.info.name, files, installed.info.emscripten_version
        );
    }
    match damaged {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}
