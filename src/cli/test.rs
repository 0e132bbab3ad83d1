//! `emwheel test`: install wheels with micropip in the target's Pyodide under Node.js and
//! run each recipe's test imports, script and `test_*.py` files (with pytest), all inputs in
//! one Pyodide session per `-j` worker.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::{test_project, TargetArgs};
use crate::crossenv::Target;
use crate::graph::{Found, RecipeSet};
use crate::recipe;
use crate::runtime::browser::Browser;
use crate::runtime::pytest_wheels;
use crate::runtime::session::{Unit, UnitResult};
use crate::ui::Ui;
use crate::wheel::{self, WheelName};

#[derive(Debug, Args)]
pub(super) struct TestArgs {
    /// Wheels, or recipes whose wheel is in `--dist`.
    #[arg(required_unless_present = "project", conflicts_with = "project")]
    inputs: Vec<PathBuf>,
    /// Where to find recipes' wheels (and the `--project`'s).
    #[arg(long, default_value = "dist")]
    dist: PathBuf,
    /// Run a project's own tests instead: make a Pyodide venv, pip-install its wheel from
    /// `--dist` (found by `[project] name`) and the `--test-requires`, run `--test-command`
    /// in DIR; the exit code is the command's.
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// The project's test command, run by `sh -c` in the project directory with the Pyodide
    /// venv's `bin/` (python, pip, pytest, …) first on `PATH`.
    #[arg(long, requires = "project", default_value = "python -m pytest tests")]
    test_command: String,
    /// Requirements the tests need, pip-installed (micropip) into the venv from PyPI and
    /// `--index-url`.
    #[arg(long, requires = "project", num_args = 1..)]
    test_requires: Vec<String>,
    /// A package index (PEP 503/691, no trailing slash) for `--test-requires` [default:
    /// micropip's, PyPI].
    #[arg(long, requires = "project")]
    index_url: Vec<String>,
    /// Seconds a test (or an import or script) may run before it is interrupted and
    /// reported as failed; the run goes on with the next test.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    test_timeout: f64,
    /// Run the tests in headless Chromium (Debian's, through playwright-core, as
    /// `scripts/setup` installs them) instead of Node.js: a browser start per session.
    #[arg(long, conflicts_with = "project")]
    browser: bool,
    /// Pyodide sessions side by side (each a Node.js process running its share of the inputs).
    #[arg(long, short, default_value_t = 1)]
    jobs: usize,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: TestArgs, ui: &Ui) -> miette::Result<()> {
    let target = args.target.target_for(&super::wheel_tags(&args.inputs))?;
    if let Some(dir) = &args.project {
        return run_project(&args, dir, &target, ui);
    }
    // Before anything is downloaded: a missing browser fails at once.
    let browser = args.browser.then(Browser::find).transpose()?;
    let specs = args
        .inputs
        .iter()
        .map(|input| test_spec(input, &args.dist, &target))
        .collect::<miette::Result<Vec<_>>>()?;
    let mut units = Vec::new();
    for (input, spec) in args.inputs.iter().zip(specs) {
        match spec {
            Some(unit) => units.push(unit),
            None => ui.status(&format!(
                "{}: a library recipe; the packages that link it test it",
                input.display()
            )),
        }
    }
    let wheels_cache = crate::home::cache_dir().join("pytest-wheels");
    let lockfile = target.runtime_dir().join("pyodide-lock.json");
    let pytest = pytest_wheels::ensure(&lockfile, &target.info.host_python, &wheels_cache)?;
    let mut runtime = target.pyodide();
    runtime.timeout = SESSION_LIFETIME;
    runtime.browser = browser;
    ui.status(&format!(
        "testing {} input(s) in Pyodide {}{} ({} session(s))",
        units.len(),
        target.info.name,
        if args.browser {
            " in headless Chromium"
        } else {
            ""
        },
        args.jobs.clamp(1, units.len().max(1))
    ));
    let timeout = Duration::from_secs_f64(args.test_timeout.max(0.1));
    let work = tempfile::tempdir().map_err(|e| miette::miette!("{e}"))?;
    let outcome = runtime.run_session(units, &pytest, timeout, args.jobs, work.path())?;
    let starts: Vec<String> = outcome
        .start_seconds
        .iter()
        .map(|s| format!("{s:.1}s"))
        .collect();
    ui.status(&format!(
        "Pyodide and pytest loaded in {}",
        starts.join(", ")
    ));
    let failed: Vec<&str> = outcome
        .units
        .iter()
        .filter(|unit| !report_unit(unit, ui))
        .map(|unit| unit.name.as_str())
        .collect();
    if ui.json() {
        let status = if failed.is_empty() { "ok" } else { "failed" };
        let results: Vec<_> = outcome
            .units
            .iter()
            .map(|unit| {
                serde_json::json!({
                    "input": unit.name, "passed": unit.passed(), "seconds": unit.seconds,
                    "failures": unit.failures, "tests": unit.tests,
                })
            })
            .collect();
        ui.document(serde_json::json!({
            "status": status, "target": target.info.name, "results": results,
            "start_seconds": outcome.start_seconds,
        }));
        if !failed.is_empty() {
            return Err(super::Reported.into());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(miette::miette!(
            "tests failed in Pyodide: {}",
            failed.join(", ")
        ))
    }
}

/// How long one session's Node.js process may live (the per-test timeout guards each test).
const SESSION_LIFETIME: Duration = Duration::from_secs(3 * 3600);

/// Prints a unit's per-test results (and, when it failed, its failures and Python's output);
/// whether it passed.
fn report_unit(unit: &UnitResult, ui: &Ui) -> bool {
    let name = &unit.name;
    for test in &unit.tests {
        ui.status(&format!(
            "{name}: {} {}",
            test.outcome.to_uppercase(),
            test.nodeid
        ));
    }
    let count = |outcome: &str| unit.tests.iter().filter(|t| t.outcome == outcome).count();
    let summary = format!(
        "{} passed, {} failed, {} errors, {} skipped",
        count("passed") + count("xpassed"),
        count("failed"),
        count("error"),
        count("skipped") + count("xfailed")
    );
    if unit.passed() {
        ui.status(&format!(
            "{name}: passed in {:.1}s ({summary})",
            unit.seconds
        ));
        return true;
    }
    for failure in &unit.failures {
        eprintln!("{name}: {failure}");
    }
    for test in unit
        .tests
        .iter()
        .filter(|t| matches!(t.outcome.as_str(), "failed" | "error"))
    {
        eprintln!(
            "{name}: {} {}:\n{}",
            test.outcome,
            test.nodeid,
            test.message.trim_end()
        );
    }
    eprintln!("{name}: failed in {:.1}s ({summary})", unit.seconds);
    false
}

/// `--project`: the project's wheel and test requirements pip-installed into a fresh
/// `emwheel venv`, its test command run in a shell in the project directory with the venv's
/// `bin/` first on `PATH`; a non-zero exit status is emwheel's.
fn run_project(args: &TestArgs, dir: &Path, target: &Target, ui: &Ui) -> miette::Result<()> {
    let name = test_project::project_name(dir)?;
    let wheel = find_wheel(&args.dist, &name, None, target)?;
    check_tags(&wheel, target)?;
    let venv = tempfile::tempdir().map_err(|e| miette::miette!("{e}"))?;
    super::venv::create(venv.path(), target).map_err(|e| miette::miette!("{e}"))?;
    let started = std::time::Instant::now();
    let wheel = std::path::absolute(&wheel).map_err(|e| miette::miette!("{e}"))?;
    let installed =
        test_project::install(venv.path(), &wheel, &args.test_requires, &args.index_url)?;
    if installed != 0 {
        return Err(miette::miette!(
            help = "pip's error is above; check --test-requires and --index-url",
            "installing `{}` and the test requirements into the Pyodide venv failed",
            wheel.display()
        ));
    }
    ui.status(&format!(
        "testing {name} in Pyodide {}: {}",
        target.info.name, args.test_command
    ));
    let code = test_project::run(venv.path(), dir, &args.test_command)?;
    let seconds = started.elapsed().as_secs_f64();
    if ui.json() {
        ui.document(serde_json::json!({
            "status": if code == 0 { "ok" } else { "failed" }, "target": target.info.name,
            "project": dir, "wheel": wheel, "exit_code": code, "seconds": seconds,
        }));
    }
    ui.status(&format!(
        "{name}: the test command exited with {code} in {seconds:.1}s"
    ));
    match code {
        0 => Ok(()),
        _ => Err(super::CommandExit(code).into()),
    }
}

/// What to install and run for one input: a recipe's wheel (after the wheels of its run
/// requirements) and tests, or a wheel with its top-level modules as imports; `None` for a
/// library recipe, which has no wheel. Every wheel's tags are checked against the target
/// first, so a wheel for another Pyodide fails here, naming the tags, before Pyodide starts.
fn test_spec(input: &Path, dist: &Path, target: &Target) -> miette::Result<Option<Unit>> {
    if recipe::is_recipe(input) {
        let recipe = recipe::load(input)?;
        if recipe.build().kind.is_library() {
            return Ok(None);
        }
        let mut wheels = Vec::new();
        let siblings = RecipeSet::open(recipe.dir().parent().unwrap_or(Path::new(".")))?;
        add_wheels(&recipe, &siblings, dist, target, &mut wheels)?;
        // As Pyodide's recipes: with no `test.imports`, the `top-level` names are imported.
        let imports = match recipe.test().imports.is_empty() {
            true => recipe.top_level().to_vec(),
            false => recipe.test().imports.clone(),
        };
        let tests_zip = dist.join(format!("{}-tests.zip", wheel::normalize(recipe.name())));
        return Ok(Some(Unit {
            name: input.display().to_string(),
            wheels,
            tests_zips: tests_zip
                .is_file()
                .then_some(tests_zip)
                .into_iter()
                .collect(),
            imports,
            script: recipe.test().script.clone(),
            test_files: test_files(recipe.dir())?,
        }));
    }
    check_tags(input, target)?;
    let summary = wheel::verify(input)?;
    Ok(Some(Unit {
        name: input.display().to_string(),
        wheels: vec![input.to_path_buf()],
        imports: summary.top_level_modules(),
        ..Unit::default()
    }))
}

/// A recipe's own pytest files: `test_*.py` beside its recipe file, sorted.
fn test_files(dir: &Path) -> miette::Result<Vec<PathBuf>> {
    let entries = fs_err::read_dir(dir).map_err(|e| miette::miette!("{e}"))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let file = path.file_name().unwrap_or_default().to_string_lossy();
            file.starts_with("test_") && file.ends_with(".py") && path.is_file()
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Adds the wheels of `recipe`'s run requirements (their recipes are among its `siblings`,
/// found as `build-recipes` finds them), depth first, then its own; each wheel once, each
/// checked against the target.
fn add_wheels(
    recipe: &recipe::Recipe,
    siblings: &RecipeSet,
    dist: &Path,
    target: &Target,
    wheels: &mut Vec<PathBuf>,
) -> miette::Result<()> {
    for requirement in &recipe.requirements().run {
        let name = requirement
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .next()
            .unwrap_or(requirement);
        let needed = match siblings.find(name)? {
            Some(Found::Recipe(needed)) => needed,
            Some(Found::Broken(broken)) => {
                let error = broken.error();
                return Err(miette::miette!(
                    help = "fix that recipe, or test the wheels themselves",
                    "the recipe of `{name}`, a run requirement of `{}`, does not load: {}: {error}",
                    recipe.name(),
                    error.location()
                ));
            }
            None => {
                return Err(miette::miette!(
                    help = format!("add a recipe for it in `{}`", siblings.dir().display()),
                    "run requirement `{name}` of `{}` has no recipe beside it",
                    recipe.name()
                ))
            }
        };
        add_wheels(needed, siblings, dist, target, wheels)?;
    }
    let wheel = find_wheel(dist, recipe.name(), Some(recipe.version()), target)?;
    check_tags(&wheel, target)?;
    if !wheels.contains(&wheel) {
        wheels.push(wheel);
    }
    Ok(())
}

/// Refuses a wheel whose tags the target does not support, naming the ones that differ.
fn check_tags(wheel: &Path, target: &Target) -> miette::Result<()> {
    let file = wheel.file_name().unwrap_or_default().to_string_lossy();
    match incompatibility(wheel, target)? {
        None => Ok(()),
        Some(why) => Err(miette::miette!(
            help = format!(
                "build it for this target (`emwheel build … --target {0}`), or test it with the `--target` it was built for",
                target.info.name
            ),
            "`{file}` cannot install on target {}: its {why}",
            target.info.name
        )),
    }
}

/// Why the wheel at `path` cannot install on `target`, from its file name's tags.
fn incompatibility(path: &Path, target: &Target) -> miette::Result<Option<String>> {
    let file = path.file_name().unwrap_or_default().to_string_lossy();
    let name: WheelName = file.parse()?;
    Ok(name.incompatibility(&target.tags()))
}

/// The wheel of `name` (at `version`, or any) in `dist`: one the target supports if there
/// is one (a dist dir may hold wheels for several targets), else any, whose tags the caller
/// then reports.
fn find_wheel(
    dist: &Path,
    name: &str,
    version: Option<&str>,
    target: &Target,
) -> miette::Result<PathBuf> {
    let mut prefix = format!("{}-", wheel::normalize(name).replace('-', "_"));
    if let Some(version) = version {
        prefix.push_str(&format!("{version}-"));
    }
    let mut candidates: Vec<PathBuf> = fs_err::read_dir(dist)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let file = path.file_name().unwrap_or_default().to_string_lossy();
            file.starts_with(&prefix) && file.ends_with(".whl")
        })
        .collect();
    candidates.sort();
    let supported = |path: &PathBuf| matches!(incompatibility(path, target), Ok(None));
    let found = match candidates.iter().position(supported) {
        Some(index) => Some(candidates.swap_remove(index)),
        None => candidates.into_iter().next(),
    };
    found.ok_or_else(|| {
        miette::miette!(
            help = format!(
                "build it first: `emwheel build <recipe> -o {}`",
                dist.display()
            ),
            "no wheel of `{name}` {} in `{}`",
            version.unwrap_or("(any version)"),
            dist.display()
        )
    })
}
