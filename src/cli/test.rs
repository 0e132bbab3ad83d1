//! `emwheel test`: install wheels with micropip in the target's Pyodide under Node.js and
//! run each recipe's test imports and script.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{test_project, TargetArgs};
use crate::graph::{Found, RecipeSet};
use crate::recipe;
use crate::runtime::TestSpec;
use crate::target::Target;
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
    /// Run a project's own tests instead: install its wheel from `--dist` (found by
    /// `[project] name`) and the `--test-requires`, mount DIR at `/project`, run
    /// `--test-command` there; the exit code is the command's.
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// The project's test command: `python -m <module> [args…]` or `python -c <code> [args…]`.
    #[arg(long, requires = "project", default_value = "python -m pytest tests")]
    test_command: String,
    /// Requirements the tests need, installed with micropip from `--index-url`.
    #[arg(long, requires = "project", num_args = 1..)]
    test_requires: Vec<String>,
    /// A package index (PEP 503/691, no trailing slash) for `--test-requires` [default:
    /// micropip's, PyPI].
    #[arg(long, requires = "project")]
    index_url: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: TestArgs, ui: &Ui) -> miette::Result<()> {
    let target = args.target.target_for(&super::wheel_tags(&args.inputs))?;
    if let Some(dir) = &args.project {
        return run_project(&args, dir, &target, ui);
    }
    let specs = args
        .inputs
        .iter()
        .map(|input| test_spec(input, &args.dist, &target))
        .collect::<miette::Result<Vec<_>>>()?;
    let runtime = target.pyodide();
    let mut failed = Vec::new();
    let mut results = Vec::new();
    for (input, spec) in args.inputs.iter().zip(specs) {
        let name = input.display().to_string();
        let Some(spec) = spec else {
            ui.status(&format!(
                "{name}: a library recipe; the packages that link it test it"
            ));
            continue;
        };
        ui.status(&format!("testing {name} in Pyodide {}", target.info.name));
        let work = tempfile::tempdir().map_err(|e| miette::miette!("{e}"))?;
        let outcome = runtime.run_tests(&spec, work.path())?;
        results.push(serde_json::json!({
            "input": input,
            "passed": outcome.passed,
            "seconds": outcome.seconds,
            "failures": outcome.failures,
        }));
        if outcome.passed {
            ui.status(&format!("{name}: passed in {:.1}s", outcome.seconds));
            continue;
        }
        for failure in &outcome.failures {
            eprintln!("{name}: {failure}");
        }
        failed.push(name);
    }
    if ui.json() {
        let status = if failed.is_empty() { "ok" } else { "failed" };
        ui.document(
            serde_json::json!({ "status": status, "target": target.info.name, "results": results }),
        );
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

/// `--project`: the project's wheel and test requirements installed, its test command run
/// in the mounted project directory; a non-zero exit status is emwheel's.
fn run_project(args: &TestArgs, dir: &Path, target: &Target, ui: &Ui) -> miette::Result<()> {
    let command = test_project::parse_command(&args.test_command)?;
    let name = test_project::project_name(dir)?;
    let wheel = find_wheel(&args.dist, &name, None, target)?;
    check_tags(&wheel, target)?;
    let spec = test_project::spec(
        dir,
        wheel.clone(),
        command,
        &args.test_requires,
        &args.index_url,
    );
    ui.status(&format!(
        "testing {name} in Pyodide {}: {}",
        target.info.name, args.test_command
    ));
    let work = tempfile::tempdir().map_err(|e| miette::miette!("{e}"))?;
    let outcome = target.pyodide().run_tests(&spec, work.path())?;
    eprint!("{}", outcome.log);
    if let Some(failure) = outcome.failures.first() {
        return Err(miette::miette!("{name}: {failure}"));
    }
    let code = outcome.exit_code.unwrap_or(0);
    if ui.json() {
        ui.document(serde_json::json!({
            "status": if code == 0 { "ok" } else { "failed" }, "target": target.info.name,
            "project": dir, "wheel": wheel, "exit_code": code, "seconds": outcome.seconds,
        }));
    }
    ui.status(&format!(
        "{name}: the test command exited with {code} in {:.1}s",
        outcome.seconds
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
fn test_spec(input: &Path, dist: &Path, target: &Target) -> miette::Result<Option<TestSpec>> {
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
        return Ok(Some(TestSpec {
            wheels,
            imports,
            script: recipe.test().script.clone(),
            ..TestSpec::default()
        }));
    }
    check_tags(input, target)?;
    let summary = wheel::verify(input)?;
    Ok(Some(TestSpec {
        wheels: vec![input.to_path_buf()],
        imports: summary.top_level_modules(),
        ..TestSpec::default()
    }))
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
