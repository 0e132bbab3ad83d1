//! `emwheel report`: each wheel's size, compressed and unpacked, and its largest files; with
//! `--measure-load`, how long Pyodide takes to install and import it with sources and with
//! bytecode.

use std::path::{Path, PathBuf};

use clap::Args;

use super::py_compile::wheels;
use super::TargetArgs;
use crate::pycompile::BytecodeCompiler;
use crate::recipe;
use crate::report::{self, LoadBench, LoadTimes};
use crate::ui::Ui;

#[derive(Debug, Args)]
pub(super) struct ReportArgs {
    /// Wheels, or directories whose wheels are all reported.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Also time installing and importing each wheel in Pyodide under Node.js (after Pyodide
    /// is ready), as it is and as a bytecode copy; prints both medians and their ratio.
    #[arg(long)]
    measure_load: bool,
    /// Runs per configuration for `--measure-load`; the median is reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// A wheel installed before each measured one, e.g. a dependency (repeatable).
    #[arg(long = "with", value_name = "WHEEL")]
    dependencies: Vec<PathBuf>,
    /// Recipes whose `test.imports` are imported instead of a wheel's top-level modules
    /// (`<dir>/<name>` for a wheel of distribution `name`).
    #[arg(long, value_name = "DIR")]
    recipe_dir: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: ReportArgs, ui: &Ui) -> miette::Result<()> {
    let wheels = wheels(&args.inputs)?;
    let sizes = wheels
        .iter()
        .map(|wheel| report::measure(wheel))
        .collect::<Result<Vec<_>, _>>()?;
    let loads = match args.measure_load {
        true => measure_loads(&args, &wheels, ui)?,
        false => Vec::new(),
    };
    if ui.json() {
        let mut document = serde_json::json!({ "status": "ok", "wheels": sizes });
        if args.measure_load {
            document["loads"] = serde_json::json!(loads);
        }
        ui.document(document);
        return Ok(());
    }
    for size in &sizes {
        println!(
            "{}\t{} bytes compressed\t{} bytes unpacked\t{} files",
            size.wheel.display(),
            size.compressed,
            size.unpacked,
            size.files
        );
        for (file, bytes) in &size.largest {
            println!("  {bytes:>10}  {file}");
        }
    }
    for load in &loads {
        println!(
            "{}\tload {:.3}s with sources\t{:.3}s with bytecode\tratio {:.2}\t(median of {})",
            load.wheel.display(),
            load.source_seconds,
            load.bytecode_seconds,
            load.ratio,
            load.runs
        );
    }
    Ok(())
}

/// Times every wheel with the target's Pyodide and host Python.
fn measure_loads(args: &ReportArgs, wheels: &[PathBuf], ui: &Ui) -> miette::Result<Vec<LoadTimes>> {
    let target = args.target.target_for(&super::wheel_tags(wheels))?;
    let runtime = target.pyodide();
    let compiler = BytecodeCompiler::new(&target.info.host_python, &target.python_xy())?;
    let bench = LoadBench {
        runtime: &runtime,
        compiler: &compiler,
        python_tag: target.python_tag(),
        dependencies: args.dependencies.clone(),
        runs: args.runs as usize,
    };
    let mut loads = Vec::new();
    for wheel in wheels {
        let imports = imports_of(wheel, args.recipe_dir.as_deref())?;
        ui.status(&format!(
            "timing {} ({} runs each, importing {})",
            wheel.display(),
            bench.runs,
            imports.join(", ")
        ));
        loads.push(bench.measure(wheel, &imports)?);
    }
    Ok(loads)
}

/// The recipe's `test.imports` when `recipe_dir` has the wheel's recipe, else the wheel's
/// top-level modules.
fn imports_of(wheel: &Path, recipe_dir: Option<&Path>) -> miette::Result<Vec<String>> {
    let summary = crate::wheel::verify(wheel)?;
    let name = crate::wheel::normalize(&summary.name.distribution);
    let recipe_path = recipe_dir.map(|dir| dir.join(&name));
    match recipe_path {
        Some(path) if recipe::is_recipe(&path) => Ok(recipe::load(&path)?.test().imports.clone()),
        _ => Ok(summary.top_level_modules()),
    }
}
