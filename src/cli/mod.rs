//! The command line: clap types and one file per subcommand, glue only.

mod build;
mod build_recipes;
mod ci_template;
mod config;
mod convert;
mod doctor;
mod index;
mod lock;
mod new;
mod py_compile;
mod report;
mod serve;
mod target;
mod test;
mod test_project;
mod toolchain;
mod venv;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::crossenv::{InputTags, Target};
use crate::toolchain::{Toolchain, ALLOW_MISMATCH_VARIABLE};
use crate::ui::{Progress, Ui};

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
    /// Print one JSON document on stdout (results, or the error); human output stays on stderr.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the toolchain and targets, and say how to fix what is missing.
    Doctor(doctor::DoctorArgs),
    /// List the emcc toolchains found, or install the emsdk release a target needs.
    #[command(subcommand)]
    Toolchain(toolchain::ToolchainCommand),
    /// Install, list, choose and remove cross-build targets (Pyodide versions).
    #[command(subcommand)]
    Target(target::TargetCommand),
    /// Print a target's build configuration (flags, versions, paths) for scripts.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Build a recipe or a Python project into a wasm32-emscripten wheel.
    Build(build::BuildArgs),
    /// Build many recipes and their dependencies in parallel, skipping unchanged ones.
    BuildRecipes(build_recipes::BuildRecipesArgs),
    /// Install wheels in Pyodide under Node.js and run their test imports.
    Test(test::TestArgs),
    /// Replace wheels' `.py` files with bytecode compiled for the target Python.
    PyCompile(py_compile::PyCompileArgs),
    /// Report wheels' sizes, compressed and unpacked, and their largest files.
    Report(report::ReportArgs),
    /// Write a CI workflow that builds and tests this project's wasm wheel.
    CiTemplate(ci_template::CiTemplateArgs),
    /// Write a pyodide-lock.json for the wheels in a directory.
    Lock(lock::LockArgs),
    /// Write a static PEP 503/691 package index (with the wheels and a lockfile).
    Index(index::IndexArgs),
    /// Serve a site directory on loopback, to try the index and lockfile.
    Serve(serve::ServeArgs),
    /// Write the `recipe.toml` equivalent of a Pyodide `meta.yaml`.
    Convert(convert::ConvertArgs),
    /// Write a recipe skeleton for a PyPI requirement.
    New(new::NewArgs),
    /// Make a virtual environment whose `bin/python` is the target's Pyodide under Node.js.
    Venv(venv::VenvArgs),
}

/// A failure the command has already reported in full (its JSON document says which parts
/// failed): the exit code is 1 and nothing more is printed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("failed; see above")]
struct Reported;

/// A command run on the user's behalf (`test --project`) exited non-zero: emwheel exits
/// with its status (1 when it does not fit an exit code), printing nothing more.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("the command exited with {0}")]
struct CommandExit(i32);

/// The `--json` document of a failed command: the message, its causes and the fix.
fn error_document(report: &miette::Report) -> serde_json::Value {
    let causes: Vec<String> = report.chain().skip(1).map(ToString::to_string).collect();
    serde_json::json!({
        "status": "error",
        "message": report.to_string(),
        "causes": causes,
        "help": report.help().map(|help| help.to_string()),
    })
}

/// Which target to build for, and with which emcc.
#[derive(Debug, Args)]
struct TargetArgs {
    /// The target (a Pyodide version) to build for; default: the one `emwheel target use`
    /// chose, else the newest installed.
    #[arg(long)]
    target: Option<String>,
    /// An emsdk directory (or a directory holding emcc) to use instead of the one found.
    #[arg(long)]
    emsdk: Option<std::path::PathBuf>,
    /// Build even though emcc is not the target's Emscripten version (the wheels may not load).
    #[arg(long, env = ALLOW_MISMATCH_VARIABLE, value_parser = clap::builder::FalseyValueParser::new())]
    allow_emcc_mismatch: bool,
}

impl TargetArgs {
    /// The chosen target.
    fn target(&self) -> miette::Result<Target> {
        Ok(crate::crossenv::resolve(self.target.as_deref())?)
    }

    /// The target the inputs name (see [`crate::crossenv::resolve_for`]): `--target` must fit
    /// them, and is needed only when several installed targets do.
    fn target_for(&self, inputs: &[InputTags]) -> miette::Result<Target> {
        Ok(crate::crossenv::resolve_for(
            self.target.as_deref(),
            inputs,
        )?)
    }

    /// The chosen target and the toolchain of its Emscripten version (or, when none is and
    /// the mismatch is allowed, another one with a visible warning).
    fn resolve(&self, ui: &Ui) -> miette::Result<(Target, Toolchain)> {
        let target = self.target()?;
        let required = target.emscripten_version().ok_or_else(|| {
            miette::miette!(
                "target `{}` records no Emscripten version",
                target.info.name
            )
        })?;
        let (toolchain, mismatch) =
            Toolchain::for_target(self.emsdk.as_deref(), required, self.allow_emcc_mismatch)?;
        if let Some(mismatch) = mismatch {
            ui.warn(&format!(
                "{mismatch}; building anyway because the mismatch was allowed"
            ));
        }
        target::warn_cross_host(&target, ui);
        Ok((target, toolchain))
    }
}

/// The tags of the wheel files among `paths` (recipes, directories and pure wheels say
/// nothing of their target), for [`TargetArgs::target_for`].
fn wheel_tags(paths: &[std::path::PathBuf]) -> Vec<InputTags> {
    paths
        .iter()
        .filter_map(|path| {
            path.file_name()?
                .to_str()?
                .parse::<crate::wheel::WheelName>()
                .ok()
        })
        .filter_map(|name| InputTags::of_wheel(&name))
        .collect()
}

/// Writes data lines to stdout; a reader that stops early (`| head`) ends the output quietly
/// instead of a panic.
fn print_data(lines: impl IntoIterator<Item = String>) -> miette::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for line in lines {
        match writeln!(out, "{line}") {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            result => result.map_err(|error| miette::miette!("writing to stdout: {error}"))?,
        }
    }
    Ok(())
}

/// Parses the command line, runs it, and maps the outcome to an exit code: 0 ok, 1 a user or
/// build failure, 2 a usage error (clap exits with 2 itself).
pub fn main() -> ExitCode {
    let _ = miette::set_hook(Box::new(|_| Box::new(crate::ui::report_handler())));
    let cli = Cli::parse();
    let ui = Ui::new(cli.quiet, !cli.no_progress, cli.json);
    let result = match cli.command {
        Command::Doctor(args) => doctor::run(args, &ui),
        Command::Toolchain(command) => toolchain::run(command, &ui),
        Command::Target(command) => target::run(command, &ui),
        Command::Config(command) => config::run(command),
        Command::Build(args) => build::run(args, &ui),
        Command::BuildRecipes(args) => build_recipes::run(args, &ui),
        Command::Test(args) => test::run(args, &ui),
        Command::PyCompile(args) => py_compile::run(args, &ui),
        Command::Report(args) => report::run(args, &ui),
        Command::CiTemplate(args) => ci_template::run(args, &ui),
        Command::Lock(args) => lock::run(args, &ui),
        Command::Index(args) => index::run(args, &ui),
        Command::Serve(args) => serve::run(args, &ui),
        Command::Convert(args) => convert::run(args, &ui),
        Command::New(args) => new::run(args, &ui),
        Command::Venv(args) => venv::run(args, &ui),
    };
    ui.finish();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) if report.downcast_ref::<Reported>().is_some() => ExitCode::from(1),
        Err(report) if report.downcast_ref::<CommandExit>().is_some() => {
            let CommandExit(code) = report.downcast_ref().expect("checked above");
            ExitCode::from(u8::try_from(*code).ok().filter(|c| *c != 0).unwrap_or(1))
        }
        Err(report) => {
            eprintln!("{report:?}");
            if ui.json() {
                ui.document(error_document(&report));
            }
            ExitCode::from(1)
        }
    }
}
