//! Building a plan: for each package its cache key, a cache lookup, and a build when the
//! cache has nothing up to date, on the scheduler's threads.
//!
//! A package whose recipe does not load fails before anything starts, and what needs it
//! through host dependencies is skipped; the rest of the plan builds as if they were not
//! in it (they are known before the run, so they do not stop it as a build failure does
//! without `keep_going`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::cache::{Cache, CachedWheel, Lookup};
use super::schedule::{self, Outcome, Schedule};
use super::{CacheKey, Found, GraphError, Plan, RecipeSet, SharedInputs};
use crate::builder::{self, BuildContext, BuildError, Package};
use crate::recipe::RecipeError;
use crate::ui::Progress;

/// How to run a build of many packages.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How many packages build at once.
    pub jobs: usize,
    /// After a failure, go on building everything whose dependencies succeeded.
    pub keep_going: bool,
    /// Rebuild even what the cache says is up to date.
    pub force: bool,
}

/// How a package's turn ended.
#[derive(Debug)]
pub enum Status {
    /// Built; why the cache could not be used.
    Built {
        /// The changed inputs, or `--force`.
        reason: String,
    },
    /// Up to date: the wheel from an earlier build is used.
    Cached,
    /// The build failed.
    Failed(Box<BuildError>),
    /// The package's recipe does not load, so it was not built.
    BadRecipe(Arc<RecipeError>),
    /// Not built because a host dependency failed.
    Skipped {
        /// The package that failed.
        dependency: String,
    },
    /// Not started because the run stopped after a failure (no `--keep-going`).
    NotStarted,
}

/// One package's result.
#[derive(Debug)]
pub struct PackageReport {
    /// The package name.
    pub name: String,
    /// How it ended.
    pub status: Status,
    /// Time spent on it.
    pub seconds: f64,
    /// Its wheel, when built or cached.
    pub wheel: Option<PathBuf>,
    /// The kept build log, when it was built or failed.
    pub log: Option<PathBuf>,
}

/// What a run did, package by package in build order.
#[derive(Debug)]
pub struct Report {
    /// Each package of the plan.
    pub packages: Vec<PackageReport>,
    /// Wall time of the whole run.
    pub seconds: f64,
}

impl Report {
    /// How many packages failed, to build or to load their recipe.
    pub fn failures(&self) -> usize {
        let failed =
            |p: &&PackageReport| matches!(p.status, Status::Failed(_) | Status::BadRecipe(_));
        self.packages.iter().filter(failed).count()
    }
}

/// A package that is done: its wheel, and why it was built (`None`: cached).
#[derive(Debug, Clone)]
struct Done {
    wheel: CachedWheel,
    built: Option<String>,
    seconds: f64,
}

/// A package that failed, and after how long.
struct Failure {
    error: BuildError,
    seconds: f64,
}

/// Builds every package of `plan` into `context.out_dir`, dependencies first, `jobs` at
/// a time, reusing wheels whose inputs did not change. Build failures and recipes that do
/// not load are in the report, not an error; the error is for what stops the run from
/// starting.
pub fn build_all(
    set: &RecipeSet,
    plan: &Plan,
    context: &BuildContext,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Report, GraphError> {
    let start = Instant::now();
    let refused = refuse_broken(set, plan);
    for (node, status) in plan.nodes().iter().zip(&refused) {
        if let Some(status) = status {
            progress.finished(&node.name, &describe_refused(status));
        }
    }
    let keep: Vec<usize> = (0..refused.len())
        .filter(|&index| refused[index].is_none())
        .collect();
    let buildable = plan.restrict(&keep);
    let mut built = build_plan(set, &buildable, context, options, progress)?.into_iter();
    let packages = (plan.nodes().iter().zip(refused))
        .map(|(node, refused)| match refused {
            Some(status) => PackageReport {
                name: node.name.clone(),
                status,
                seconds: 0.0,
                wheel: None,
                log: None,
            },
            None => built.next().expect("one report per buildable node"),
        })
        .collect();
    Ok(Report {
        packages,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Builds (or finds cached) every node of `plan`, none of them refused; the reports are in
/// plan order.
fn build_plan(
    set: &RecipeSet,
    plan: &Plan,
    context: &BuildContext,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Vec<PackageReport>, GraphError> {
    let builder = Builder::new(set, plan, context, options.force, progress)?;
    let schedule = Schedule {
        jobs: options.jobs,
        keep_going: options.keep_going,
    };
    let name = |index: usize| plan.nodes()[index].name.as_str();
    let outcomes = schedule::run(
        plan,
        schedule,
        |index, host| builder.package(index, host),
        |index, outcome| progress.finished(name(index), &describe(outcome)),
    );
    let reports = outcomes
        .into_iter()
        .enumerate()
        .map(|(index, outcome)| report(name(index), outcome, context));
    Ok(reports.collect())
}

/// For each node of `plan`, the status it has before anything runs: failed when its
/// recipe does not load, skipped when a host dependency (directly or further down) is such
/// a recipe; `None` for the nodes to build.
fn refuse_broken(set: &RecipeSet, plan: &Plan) -> Vec<Option<Status>> {
    let nodes = plan.nodes();
    let mut refused: Vec<Option<Status>> = Vec::with_capacity(nodes.len());
    for node in nodes {
        // Host dependencies come first in a plan: their statuses are known.
        let status = match set.find(&node.name) {
            Ok(Some(Found::Broken(broken))) => Some(Status::BadRecipe(broken.error().clone())),
            _ => node
                .host
                .iter()
                .find_map(|&dep| match &refused[dep] {
                    Some(Status::Skipped { dependency }) => Some(dependency.clone()),
                    Some(_) => Some(nodes[dep].name.clone()),
                    None => None,
                })
                .map(|dependency| Status::Skipped { dependency }),
        };
        refused.push(status);
    }
    refused
}

/// A status set before the run, in a few words, for progress lines.
fn describe_refused(status: &Status) -> String {
    match status {
        Status::Skipped { dependency } => skipped(dependency),
        _ => "failed (its recipe does not load)".to_string(),
    }
}

/// The progress words for a package skipped because `dependency` failed.
fn skipped(dependency: &str) -> String {
    format!("skipped (dependency `{dependency}` failed)")
}

/// What the per-package work needs, shared by the worker threads.
struct Builder<'a> {
    set: &'a RecipeSet,
    plan: &'a Plan,
    context: &'a BuildContext<'a>,
    shared: SharedInputs,
    cache: Cache,
    force: bool,
    progress: &'a dyn Progress,
}

impl<'a> Builder<'a> {
    fn new(
        set: &'a RecipeSet,
        plan: &'a Plan,
        context: &'a BuildContext<'a>,
        force: bool,
        progress: &'a dyn Progress,
    ) -> Result<Self, GraphError> {
        let target = context.target;
        let target_json = crate::hash::sha256_file(&target.dir.join("target.json"))?;
        let shared = SharedInputs {
            target: format!("{} {target_json}", target.info.name),
            emcc: context.toolchain.version.to_string(),
            flags: [
                &target.info.cflags,
                &target.info.cxxflags,
                &target.info.ldflags,
            ]
            .map(|flags| flags.join(" "))
            .join(" | "),
            source_date_epoch: context.source_date_epoch,
            py_compile: context.py_compile,
            slim: context.slim,
        };
        Ok(Builder {
            set,
            plan,
            context,
            shared,
            cache: Cache::new(&context.out_dir),
            force,
            progress,
        })
    }

    /// One package: cached, or built; `host` holds its host dependencies' results.
    fn package(&self, index: usize, host: Vec<Done>) -> Result<Done, Failure> {
        let start = Instant::now();
        let seconds = || start.elapsed().as_secs_f64();
        match self.attempt(index, &host) {
            Ok((wheel, built)) => Ok(Done {
                wheel,
                built,
                seconds: seconds(),
            }),
            Err(error) => Err(Failure {
                error,
                seconds: seconds(),
            }),
        }
    }

    fn attempt(
        &self,
        index: usize,
        host: &[Done],
    ) -> Result<(CachedWheel, Option<String>), BuildError> {
        let node = &self.plan.nodes()[index];
        let recipe = self
            .set
            .get(&node.name)
            .expect("the plan comes from the set");
        let package = Package::from_recipe(recipe);
        let key = CacheKey::new(
            recipe,
            &package,
            &self.shared,
            &self.host_wheels(index, host),
        )?;
        let reason = if self.force {
            "--force".to_string()
        } else {
            match self.cache.lookup(&package.name, &key) {
                Lookup::Hit(wheel) if builder::cross_build_files_kept(&package, self.context)? => {
                    return Ok((wheel, None))
                }
                Lookup::Hit(_) => "its cross-build files are gone".to_string(),
                Lookup::Miss(why) => why,
            }
        };
        let built = builder::build(&package, self.context, self.progress)?;
        let wheel = CachedWheel {
            sha256: crate::hash::sha256_file(&built.path)?,
            path: built.path,
        };
        self.cache.store(&package.name, &key, &wheel)?;
        Ok((wheel, Some(reason)))
    }

    /// Each host dependency of node `index` with the sha256 of its wheel.
    fn host_wheels(&self, index: usize, host: &[Done]) -> Vec<(String, String)> {
        let nodes = self.plan.nodes();
        let names = nodes[index].host.iter().map(|&dep| nodes[dep].name.clone());
        names
            .zip(host.iter().map(|done| done.wheel.sha256.clone()))
            .collect()
    }
}

/// An outcome in a few words, for progress lines.
fn describe(outcome: &Outcome<Done, Failure>) -> String {
    match outcome {
        Outcome::Done(Done {
            built: Some(reason),
            seconds,
            ..
        }) => format!("built in {seconds:.1}s ({reason})"),
        Outcome::Done(Done { built: None, .. }) => "cached".to_string(),
        Outcome::Failed(failure) => format!("failed after {:.1}s", failure.seconds),
        Outcome::Skipped(dependency) => skipped(dependency),
        Outcome::NotStarted => "not started (stopped after a failure)".to_string(),
    }
}

fn report(name: &str, outcome: Outcome<Done, Failure>, context: &BuildContext) -> PackageReport {
    let (status, seconds, wheel) = match outcome {
        Outcome::Done(done) => {
            let status = match done.built {
                Some(reason) => Status::Built { reason },
                None => Status::Cached,
            };
            (status, done.seconds, Some(done.wheel.path))
        }
        Outcome::Failed(failure) => (
            Status::Failed(Box::new(failure.error)),
            failure.seconds,
            None,
        ),
        Outcome::Skipped(dependency) => (Status::Skipped { dependency }, 0.0, None),
        Outcome::NotStarted => (Status::NotStarted, 0.0, None),
    };
    let ran = matches!(status, Status::Built { .. } | Status::Failed(_));
    let log = context.kept_log(name).filter(|log| ran && log.is_file());
    PackageReport {
        name: name.to_string(),
        status,
        seconds,
        wheel,
        log,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::testutil::RecipeDir;

    #[test]
    fn a_broken_recipe_fails_with_its_host_dependents_and_not_the_others() {
        let dir = RecipeDir::new(&[
            ("mid", "[requirements]\nhost = [\"Broken\"]\n"),
            ("top", "[requirements]\nhost = [\"sibling\", \"mid\"]\n"),
            ("sibling", ""),
            ("runner", "[requirements]\nrun = [\"broken\"]\n"),
        ]);
        dir.write("broken", "[package]\nname = \"broken\"\nversion = 1\n");
        let set = dir.load();
        let selected = ["top", "runner"].map(String::from).into();
        let plan = Plan::new(&set, &selected).unwrap();
        let refused = refuse_broken(&set, &plan);
        let status = |name: &str| {
            let index = plan.nodes().iter().position(|node| node.name == name);
            refused[index.unwrap_or_else(|| panic!("{name} is not planned"))].as_ref()
        };
        match status("broken") {
            Some(Status::BadRecipe(error)) => {
                let location = error.location();
                assert!(location.ends_with("broken/recipe.toml:3:11"), "{location}");
            }
            other => panic!("expected a bad recipe, got {other:?}"),
        }
        for name in ["mid", "top"] {
            assert!(
                matches!(status(name), Some(Status::Skipped { dependency }) if dependency == "broken"),
                "{name}: {:?}",
                status(name)
            );
        }
        assert!(status("sibling").is_none(), "a sibling builds");
        assert!(status("runner").is_none(), "run dependencies order nothing");
        let buildable: Vec<usize> = (0..refused.len())
            .filter(|&i| refused[i].is_none())
            .collect();
        let restricted = plan.restrict(&buildable);
        let names: Vec<&str> = restricted
            .nodes()
            .iter()
            .map(|node| node.name.as_str())
            .collect();
        assert_eq!(names, ["runner", "sibling"]);
    }
}
