//! `emwheel report`: each wheel's size, compressed and unpacked, and its largest files.

use std::path::PathBuf;

use clap::Args;

use super::py_compile::wheels;
use crate::report;
use crate::ui::Ui;

#[derive(Debug, Args)]
pub(super) struct ReportArgs {
    /// Wheels, or directories whose wheels are all reported.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Print a JSON document on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: ReportArgs, _ui: &Ui) -> miette::Result<()> {
    let sizes = wheels(&args.inputs)?
        .iter()
        .map(|wheel| report::measure(wheel))
        .collect::<Result<Vec<_>, _>>()?;
    if args.json {
        let document = serde_json::json!({ "wheels": sizes });
        println!(
            "{}",
            serde_json::to_string_pretty(&document).expect("sizes serialize")
        );
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
    Ok(())
}
