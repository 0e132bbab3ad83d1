//! `emwheel build-recipes`: a selection of recipes and their dependencies, built in
//! parallel, each only when its inputs changed; a summary table at the end, with the
//! recipes that were read but do not load and that nothing selected needs.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::Args;

use super::build::{source_date_epoch, OutputArgs};
use super::TargetArgs;
use crate::builder::BuildContext;
use crate::crossenv::Target;
use crate::graph::{self, BrokenRecipe, Options, PackageReport, Plan, RecipeSet, Report, Status};
use crate::ui::{render_error, Progress, Ui};

#[derive(Debug, Args)]
pub(super) struct BuildRecipesArgs {
    /// What to build: recipe names, `*` (every recipe), `tag:<tag>`, and `!<name>` to leave
    /// one out (quote `*` and `!` for the shell); commas separate words too. Dependencies
    /// of what is selected are always built.
    #[arg(required = true, value_name = "SELECTION")]
    selection: Vec<String>,
    /// The directory holding one `<name>/recipe.toml` per recipe.
    #[arg(long, default_value = "recipes")]
    recipe_dir: PathBuf,
    /// Where to write the wheels; the cache and build logs go to its `.emwheel/`.
    #[arg(long, short, default_value = "dist")]
    out_dir: PathBuf,
    /// How many packages build at once [default: the number of CPUs].
    #[arg(long, short)]
    jobs: Option<NonZeroUsize>,
    /// After a failure, go on building everything whose dependencies succeeded.
    #[arg(long)]
    keep_going: bool,
    /// Rebuild even the packages whose inputs did not change.
    #[arg(long)]
    force: bool,
    /// Also write `pyodide-lock.json` for every wheel in the output directory (over the
    /// target's own lockfile), when every package built.
    #[arg(long)]
    install: bool,
    /// Build only shard `i` of `n` (1-based, e.g. `2/3`), for CI jobs: balanced parts,
    /// each package with its host dependencies; merge the jobs' lockfiles with
    /// `emwheel lock merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<graph::Shard>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: BuildRecipesArgs, ui: &Ui) -> miette::Result<()> {
    let set = RecipeSet::open(&args.recipe_dir)?;
    let (plan, unneeded) = plan(&args, &set, ui)?;
    let (target, toolchain) = args.target.resolve(ui)?;
    let context = BuildContext {
        target: &target,
        toolchain: &toolchain,
        out_dir: args.out_dir.clone(),
        source_date_epoch: source_date_epoch(),
        py_compile: args.output.py_compile,
        slim: args.output.slim(),
        compiler_cache: args.output.compiler_cache.environment()?,
        source_cache: args.output.source_cache(),
        log_dir: Some(graph::logs_dir(&args.out_dir)),
        isolation: args.output.isolation()?,
    };
    let jobs = args
        .jobs
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let options = Options {
        jobs,
        keep_going: args.keep_going,
        force: args.force,
    };
    ui.begin(plan.nodes().len());
    let report = graph::build_all(&set, &plan, &context, &options, ui);
    ui.finish();
    conclude(&args, report?, &unneeded, &target, ui)
}

/// The build set of the selection, or of its `--shard`, and the recipes read that do not
/// load and that the whole build set (all shards) does not need.
fn plan<'s>(
    args: &BuildRecipesArgs,
    set: &'s RecipeSet,
    ui: &Ui,
) -> miette::Result<(Plan, Vec<&'s BrokenRecipe>)> {
    let selectors = graph::parse_selection(&args.selection)?;
    let plan = Plan::new(set, &graph::select(set, &selectors)?)?;
    let unneeded = plan.unneeded_broken(set);
    let Some(shard) = args.shard else {
        return Ok((plan, unneeded));
    };
    let plan = plan.restrict(&graph::shard_nodes(&plan, shard));
    match plan.nodes().len() {
        0 => ui.warn(&format!(
            "shard {shard} has no packages: the build set splits into fewer groups than {}",
            shard.count
        )),
        count => ui.status(&format!("shard {shard}: {count} packages")),
    }
    Ok((plan, unneeded))
}

/// Reports the run (the summary, the wheels or the `--json` document), writes the
/// lockfile with `--install` when every package built, and fails when one failed. The
/// `unneeded` recipes that do not load are warnings.
fn conclude(
    args: &BuildRecipesArgs,
    report: Report,
    unneeded: &[&BrokenRecipe],
    target: &Target,
    ui: &Ui,
) -> miette::Result<()> {
    let packages: Vec<_> = match ui.json() {
        true => report.packages.iter().map(package_document).collect(),
        false => Vec::new(),
    };
    let (seconds, empty) = (report.seconds, report.packages.is_empty());
    let failures = show(report, unneeded, ui);
    let mut lockfile = None;
    if args.install && failures == 0 {
        let lock = args.out_dir.join("pyodide-lock.json");
        let written = match empty {
            true => super::lock::write_target_lock(target, &lock)?,
            false => super::lock::write_lock(target, &args.out_dir, None, &lock, ui)?,
        };
        ui.status(&format!(
            "wrote {} ({} wheels)",
            lock.display(),
            written.wheels
        ));
        lockfile = Some(written.document(&lock));
    }
    if ui.json() {
        let status = if failures == 0 { "ok" } else { "failed" };
        let skipped: Vec<_> = unneeded
            .iter()
            .map(|broken| skipped_document(broken))
            .collect();
        ui.document(serde_json::json!({
            "status": status, "target": target.info.name, "seconds": seconds,
            "packages": packages, "lockfile": lockfile, "skipped_recipes": skipped,
        }));
    }
    match failures {
        0 => Ok(()),
        _ if ui.json() => Err(super::Reported.into()),
        _ => Err(miette::miette!(
            help = "the summary above names each failure's build directory and log",
            "{failures} of the selected packages failed to build"
        )),
    }
}

/// One package as `--json` describes it: the summary row's status and note, its time, its
/// wheel (path and sha256), its log, and a failure's error.
fn package_document(package: &PackageReport) -> serde_json::Value {
    let [name, status, _, note] = row(package);
    let sha256 = (package.wheel.as_deref()).and_then(|wheel| crate::hash::sha256_file(wheel).ok());
    let error = match &package.status {
        Status::Failed(error) => Some(error.to_string()),
        Status::BadRecipe(error) => Some(format!("{}: {error}", error.location())),
        _ => None,
    };
    serde_json::json!({
        "name": name, "status": status, "seconds": package.seconds, "note": note,
        "wheel": package.wheel, "sha256": sha256, "log": package.log, "error": error,
    })
}

/// A recipe that does not load and that nothing selected needs, as `--json` describes it:
/// its directory's name, the directory, and the error with its `file:line:column`.
fn skipped_document(broken: &BrokenRecipe) -> serde_json::Value {
    let error = broken.error();
    serde_json::json!({
        "recipe": broken.name(), "dir": broken.dir(),
        "error": format!("{}: {error}", error.location()),
    })
}

/// Shows each failure and the summary on stderr, prints the wheels on stdout (not with
/// `--json`), and returns how many packages failed.
fn show(report: Report, unneeded: &[&BrokenRecipe], ui: &Ui) -> usize {
    let summary = summary(&report, unneeded);
    let failures = report.failures();
    let mut wheels = Vec::new();
    for package in report.packages {
        match package.status {
            Status::Failed(error) => ui.error(&render_error(&*error)),
            Status::BadRecipe(error) => ui.error(&render_error(&*error)),
            _ => wheels.extend(package.wheel),
        }
    }
    ui.status(&summary);
    if !ui.json() {
        for wheel in wheels {
            println!("{}", wheel.display());
        }
    }
    failures
}

/// The summary table: package, status, time, and a note (why it was built, or where a
/// failure's build directory and log are), then the counts, then a warning for each
/// `unneeded` recipe that does not load.
fn summary(report: &Report, unneeded: &[&BrokenRecipe]) -> String {
    let rows: Vec<[String; 4]> = report.packages.iter().map(row).collect();
    let width = |column: usize| {
        let cells = rows.iter().map(|row| row[column].chars().count());
        cells.max().unwrap_or(0)
    };
    let (name_width, status_width, time_width) = (width(0), width(1), width(2));
    let mut text = String::new();
    for [name, status, time, note] in &rows {
        let line =
            format!("{name:name_width$}  {status:status_width$}  {time:>time_width$}  {note}");
        text.push_str(line.trim_end());
        text.push('\n');
    }
    let count = |word: &str| rows.iter().filter(|row| row[1] == word).count();
    let counts = ["built", "cached", "failed", "skipped"]
        .map(|word| format!("{} {word}", count(word)))
        .join(", ");
    text.push_str(&format!(
        "{} packages: {counts} in {:.1}s",
        rows.len(),
        report.seconds
    ));
    let count = match unneeded.len() {
        0 => None,
        1 => Some("1 recipe does not load and was".to_string()),
        count => Some(format!("{count} recipes do not load and were")),
    };
    if let Some(count) = count {
        text.push_str(&format!(
            "\nwarning: {count} skipped (nothing selected needs them):"
        ));
    }
    for broken in unneeded {
        let error = broken.error();
        let line = format!("\n  {}: {}: {error}", broken.name(), error.location());
        text.push_str(&line);
    }
    text
}

fn row(package: &PackageReport) -> [String; 4] {
    let time = format!("{:.1}s", package.seconds);
    let log = || match &package.log {
        Some(log) => format!("log `{}`", log.display()),
        None => "no log".to_string(),
    };
    let (status, time, note) = match &package.status {
        Status::Built { reason } => ("built", time, reason.clone()),
        Status::Cached => ("cached", time, String::new()),
        Status::Failed(error) => {
            let dir = error.build_dir().map_or_else(String::new, |dir| {
                format!("build dir `{}`, ", dir.display())
            });
            ("failed", time, format!("{dir}{}", log()))
        }
        Status::BadRecipe(_) => ("failed", "-".into(), "its recipe does not load".into()),
        Status::Skipped { dependency } => (
            "skipped",
            "-".into(),
            format!("dependency `{dependency}` failed"),
        ),
        Status::NotStarted => ("skipped", "-".into(), "stopped after a failure".into()),
    };
    [package.name.clone(), status.to_string(), time, note]
}
