//! The command line: clap types and one file per subcommand, glue only.

mod doctor;
mod target;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::ui::Ui;

/// Cross-compile Python packages into wasm32-emscripten wheels for Pyodide.
#[derive(Debug, Parser)]
#[command(name = "emwheel", version, about)]
pub struct Cli {
    /// Print only warnings and errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Never show progress spinners (they only show on a terminal anyway).
    #[arg(long, global = true)]
    no_progress: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the toolchain and targets, and say how to fix what is missing.
    Doctor(doctor::DoctorArgs),
    /// Install, list and inspect cross-build targets (Pyodide versions).
    #[command(subcommand)]
    Target(target::TargetCommand),
}

/// Parses the command line, runs it, and maps the outcome to an exit code: 0 ok, 1 a user or
/// build failure, 2 a usage error (clap exits with 2 itself).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(cli.quiet, !cli.no_progress);
    let result = match cli.command {
        Command::Doctor(args) => doctor::run(args, &ui),
        Command::Target(command) => target::run(command, &ui),
    };
    ui.finish();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}
