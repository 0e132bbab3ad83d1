//! Crash safety and concurrency of the commands that write many outputs, `build-recipes
//! --install` and `index`. Killed with SIGKILL at random moments: after every kill each file
//! in the output is whole (byte-equal to an uninterrupted run's, every wheel verified, a zip
//! whose RECORD matches, the lockfile parsed with every wheel it lists present with its
//! sha256), and a rerun leaves exactly what an uninterrupted run leaves. Run three at once
//! into one output directory: the result is a sequential run's, byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{assert_success, emwheel, test_home, TARGET};
use crate::graph::{build_recipes_command, recipe_dir};
use crate::trust::{kill_after, wait_for_processes_using, Rng};

/// Three packages (two pure, one C extension), so that kills land between packages too.
const RECIPES: [&str; 3] = ["recipes/six", "recipes/attrs", "recipes/markupsafe"];
const SELECTION: [&str; 3] = ["six", "attrs", "markupsafe"];
const LOCKFILE: &str = "pyodide-lock.json";

/// Every file under `dir` by its path relative to `dir`, with its bytes, leaving out
/// `.emwheel/` (build-recipes' cache and logs) and returning the staging files of killed
/// writers (hidden, `.emwheel-partial-*`) apart.
fn files(dir: &Path) -> (BTreeMap<PathBuf, Vec<u8>>, Vec<PathBuf>) {
    let mut whole = BTreeMap::new();
    let mut partial = Vec::new();
    let walk = walkdir::WalkDir::new(dir).min_depth(1).into_iter();
    for entry in walk.filter_entry(|entry| entry.file_name() != ".emwheel") {
        let entry = entry.unwrap();
        if entry.file_type().is_dir() {
            continue;
        }
        let relative = entry.path().strip_prefix(dir).unwrap().to_path_buf();
        let name = entry.file_name().to_string_lossy();
        if name.starts_with(emwheel::fsutil::PARTIAL_PREFIX) {
            partial.push(relative);
        } else {
            whole.insert(relative, std::fs::read(entry.path()).unwrap());
        }
    }
    (whole, partial)
}

/// Checks a lockfile beside its wheels: it parses, and every entry that is not the target's
/// own (those point at Pyodide's files) names a file beside it with the right sha256.
fn check_lockfile(dir: &Path, trial: &str) {
    let base = test_home()
        .join("targets")
        .join(TARGET)
        .join("runtime")
        .join(LOCKFILE);
    let base: Value = serde_json::from_slice(&std::fs::read(base).unwrap()).unwrap();
    let text = std::fs::read(dir.join(LOCKFILE)).unwrap();
    let lock: Value = serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{trial}: {e}"));
    let packages = lock["packages"].as_object().expect("packages");
    let mut listed = 0;
    for (name, entry) in packages {
        let file_name = entry["file_name"].as_str().unwrap();
        if base["packages"].get(name) == Some(entry) || file_name.contains("://") {
            continue;
        }
        let bytes = std::fs::read(dir.join(file_name))
            .unwrap_or_else(|e| panic!("{trial}: {name}'s {file_name}: {e}"));
        let sha256 = emwheel::hash::sha256_bytes(&bytes);
        assert_eq!(entry["sha256"], sha256, "{trial}: {name}'s sha256");
        listed += 1;
    }
    assert!(
        listed >= SELECTION.len(),
        "{trial}: only {listed} of ours listed"
    );
}

/// What an uninterrupted run wrote, and tallies of what the kills left.
struct Trials {
    reference: BTreeMap<PathBuf, Vec<u8>>,
    rng: Rng,
    empty: usize,
    some: usize,
    all: usize,
    partial: usize,
}

impl Trials {
    /// Runs `command` once to completion: its output in `dir` becomes the reference, checked.
    /// Returns how long it took.
    fn reference(mut command: Command, dir: &Path, seed: u64) -> (Trials, Duration) {
        let start = Instant::now();
        assert_success(&command.output().unwrap());
        let took = start.elapsed();
        let (reference, partial) = files(dir);
        assert_eq!(partial, Vec::<PathBuf>::new());
        let trials = Trials {
            reference,
            rng: Rng(seed),
            empty: 0,
            some: 0,
            all: 0,
            partial: 0,
        };
        trials.check(dir, "the reference run");
        (trials, took)
    }

    /// Starts `command`, kills it with SIGKILL at a random moment in `0..window`, checks
    /// `dir`, reruns the command and checks that it finished the job.
    fn kill_and_rerun(
        &mut self,
        command: impl Fn() -> Command,
        dir: &Path,
        window: Duration,
        trial: &str,
    ) {
        let delay = self.rng.below(window);
        let trial = format!("{trial} (kill at {delay:?} of {window:?})");
        kill_after(command(), delay);
        let (present, partial) = self.check(dir, &trial);
        self.partial += usize::from(!partial.is_empty());
        match present {
            0 => self.empty += 1,
            n if n == self.reference.len() => self.all += 1,
            _ => self.some += 1,
        }
        wait_for_processes_using(dir);
        assert_success(&command().output().unwrap());
        let (after, partial) = files(dir);
        assert_eq!(
            partial,
            Vec::<PathBuf>::new(),
            "{trial}: partials left after the rerun"
        );
        let names = |files: &BTreeMap<PathBuf, Vec<u8>>| files.keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            names(&after),
            names(&self.reference),
            "{trial}: after the rerun"
        );
        assert!(
            after == self.reference,
            "{trial}: the rerun's output differs"
        );
    }

    /// Checks that every whole file in `dir` is the reference's, every wheel verifies and a
    /// lockfile lists only what is there. Returns how many whole files there are and the
    /// partial ones.
    fn check(&self, dir: &Path, trial: &str) -> (usize, Vec<PathBuf>) {
        let (present, partial) = files(dir);
        for (path, bytes) in &present {
            let reference = self.reference.get(path);
            assert!(
                reference == Some(bytes),
                "{trial}: {} is not whole",
                path.display()
            );
            if path.extension().is_some_and(|extension| extension == "whl") {
                emwheel::wheel::verify(&dir.join(path)).unwrap_or_else(|e| panic!("{trial}: {e}"));
            }
        }
        if present.contains_key(Path::new(LOCKFILE)) {
            check_lockfile(dir, trial);
        }
        (present.len(), partial)
    }

    /// Twenty trials of `command(dir, over_complete)`, each killed within `window`: ten into
    /// fresh directories (kills land in the work and the first writes), then ten over one
    /// complete output (kills land while whole files are being replaced). Prints the tally.
    fn twenty(&mut self, command: impl Fn(&Path, bool) -> Command, window: Duration, what: &str) {
        for trial in 0..10 {
            let dir = tempfile::tempdir().unwrap();
            let label = format!("{what}: fresh-output trial {trial}");
            self.kill_and_rerun(|| command(dir.path(), false), dir.path(), window, &label);
        }
        let dir = tempfile::tempdir().unwrap();
        assert_success(&command(dir.path(), false).output().unwrap());
        for trial in 0..10 {
            let label = format!("{what}: over-complete-output trial {trial}");
            self.kill_and_rerun(|| command(dir.path(), true), dir.path(), window, &label);
        }
        eprintln!(
            "{what}: 20 kill trials survived; afterwards the output held nothing {} times, \
             some files {}, all {}; staging files of the killed run {} times",
            self.empty, self.some, self.all, self.partial
        );
    }
}

#[test]
fn build_recipes_install_killed_at_random_moments_leaves_whole_outputs() {
    let recipes = recipe_dir(&RECIPES);
    let command = |out: &Path, force: bool| {
        let mut args = vec!["--install", "-j", "2", "--no-progress"];
        args.extend(SELECTION);
        args.extend(force.then_some("--force"));
        build_recipes_command(recipes.path(), out, &args)
    };
    let reference_out = tempfile::tempdir().unwrap();
    let (mut trials, took) = Trials::reference(
        command(reference_out.path(), false),
        reference_out.path(),
        0x5eed_2026_0003,
    );
    // Over a complete output, with --force: whole wheels and the lockfile are replaced.
    trials.twenty(command, took.mul_f64(1.1), "build-recipes --install");
}

#[test]
fn index_killed_at_random_moments_leaves_whole_outputs() {
    let recipes = recipe_dir(&RECIPES);
    let dist = tempfile::tempdir().unwrap();
    let mut args = vec!["--install", "--no-progress"];
    args.extend(SELECTION);
    assert_success(
        &build_recipes_command(recipes.path(), dist.path(), &args)
            .output()
            .unwrap(),
    );
    let command = |site: &Path| index_command(dist.path(), site);
    let reference_site = tempfile::tempdir().unwrap();
    let (mut trials, took) = Trials::reference(
        command(reference_site.path()),
        reference_site.path(),
        0x5eed_2026_0004,
    );
    trials.twenty(|site, _| command(site), took.mul_f64(1.2), "index");
}

/// `emwheel index <dist> -o <site>`.
fn index_command(dist: &Path, site: &Path) -> Command {
    let mut command = emwheel();
    command.arg("index").arg(dist).arg("-o").arg(site);
    command
}

/// Runs three commands from `make` at once; each must succeed.
fn run_three_at_once(make: impl Fn() -> Command) {
    let children: Vec<_> = (0..3)
        .map(|_| {
            let mut command = make();
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
            command.spawn().unwrap()
        })
        .collect();
    for child in children {
        assert_success(&child.wait_with_output().unwrap());
    }
}

#[test]
fn concurrent_build_recipes_install_and_index_equal_a_sequential_run() {
    let recipes = recipe_dir(&RECIPES);
    let mut args = vec!["--install", "--no-progress"];
    args.extend(SELECTION);
    let build = |out: &Path| build_recipes_command(recipes.path(), out, &args);
    let sequential = tempfile::tempdir().unwrap();
    assert_success(&build(sequential.path()).output().unwrap());
    let sequential_site = tempfile::tempdir().unwrap();
    let index = index_command(sequential.path(), sequential_site.path()).output();
    assert_success(&index.unwrap());
    for round in 0..2 {
        // A fresh output directory: the three build every package into it at once.
        let out = tempfile::tempdir().unwrap();
        run_three_at_once(|| build(out.path()));
        assert!(
            files(out.path()) == files(sequential.path()),
            "round {round}: build-recipes' outputs differ from a sequential run's"
        );
        let site = tempfile::tempdir().unwrap();
        run_three_at_once(|| index_command(out.path(), site.path()));
        assert!(
            files(site.path()) == files(sequential_site.path()),
            "round {round}: the sites differ"
        );
    }
}
