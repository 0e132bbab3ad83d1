//! Trust under stress, with the real toolchain: a tampered cache is refetched, builds killed
//! at random moments leave only complete wheels, and concurrent builds sharing a home and
//! an output directory agree byte for byte with a sequential one.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use emwheel::fsutil::FileLock;

use crate::common::{
    assert_success, build, build_command, fresh_home_with_target, repo, test_home,
};

/// six's sdist, as `recipes/six` pins it.
const SIX_SHA256: &str = "ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81";
const SIX_WHEEL: &str = "six-1.17.0-py2.py3-none-any.whl";

fn six() -> PathBuf {
    repo().join("recipes/six")
}

/// xorshift64: a seeded generator, so that a failing trial can be replayed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A duration uniformly in `0..max`.
    pub(crate) fn below(&mut self, max: Duration) -> Duration {
        let micros = max.as_micros() as u64;
        Duration::from_micros(self.next() % micros.max(1))
    }
}

/// Starts `command` (its output discarded), kills it with SIGKILL after `delay` and reaps it.
pub(crate) fn kill_after(mut command: std::process::Command, delay: Duration) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The names in `dir` (none when it does not exist).
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_tampered_cached_source_is_fetched_again() {
    let out = tempfile::tempdir().unwrap();
    let reference = std::fs::read(build(&six(), out.path())).unwrap();
    let sources = test_home().join("sources");
    let cached = {
        // Hold the entry's lock, as emwheel does, so no concurrent test sees half a write.
        let _lock = FileLock::acquire(&sources.join(format!("{SIX_SHA256}.lock"))).unwrap();
        let entry = sources.join(SIX_SHA256);
        let cached = entry.join(&names(&entry)[0]);
        std::fs::write(&cached, b"not six").unwrap();
        cached
    };
    let rebuilt = tempfile::tempdir().unwrap();
    let wheel = std::fs::read(build(&six(), rebuilt.path())).unwrap();
    assert!(wheel == reference, "the rebuilt wheel differs");
    let bytes = std::fs::read(&cached).unwrap();
    assert_eq!(
        emwheel::hash::sha256_bytes(&bytes),
        SIX_SHA256,
        "not refetched"
    );
}

/// Kill trials: the reference wheel, a temp dir of their own (for build directories), and
/// what each kill left in the output directory.
struct Trials {
    reference: Vec<u8>,
    tmp: tempfile::TempDir,
    empty: usize,
    complete_wheel: usize,
    hidden_partial: usize,
}

impl Trials {
    /// `emwheel build` of six with `home`, into `out`, with build directories in `tmp`.
    fn command(&self, home: &Path, out: &Path) -> std::process::Command {
        let mut command = build_command(home, &six(), out);
        command.env("TMPDIR", self.tmp.path());
        command
    }

    /// Starts a build, kills it with SIGKILL after `delay`, checks the output, and reruns
    /// it. Returns how long the rerun took.
    fn kill_and_rerun(&mut self, home: &Path, delay: Duration, trial: &str) -> Duration {
        let out = tempfile::tempdir().unwrap();
        kill_after(self.command(home, out.path()), delay);
        self.check_after_kill(out.path(), trial);
        let start = Instant::now();
        let rerun = self.command(home, out.path()).output().unwrap();
        let took = start.elapsed();
        assert_success(&rerun);
        let left = names(out.path());
        assert_eq!(left, [SIX_WHEEL], "{trial}: leftovers after the rerun");
        let wheel = std::fs::read(out.path().join(SIX_WHEEL)).unwrap();
        assert!(
            wheel == self.reference,
            "{trial}: the rerun's wheel differs"
        );
        took
    }

    /// Checks that `out` holds nothing but the complete reference wheel and hidden partials.
    fn check_after_kill(&mut self, out: &Path, trial: &str) {
        let names = names(out);
        self.empty += usize::from(names.is_empty());
        for name in names {
            if name.starts_with(emwheel::fsutil::PARTIAL_PREFIX) {
                self.hidden_partial += 1;
                continue;
            }
            assert_eq!(name, SIX_WHEEL, "{trial}: unexpected file in the output");
            let wheel = out.join(&name);
            emwheel::wheel::verify(&wheel).unwrap_or_else(|e| panic!("{trial}: {e}"));
            let bytes = std::fs::read(&wheel).unwrap();
            assert!(bytes == self.reference, "{trial}: wheel differs");
            self.complete_wheel += 1;
        }
    }

    /// Once no killed build's descendants run on, one more build sweeps what they left: no
    /// build directory stays in the trials' temp dir.
    fn assert_swept(&self, home: &Path) {
        wait_for_processes_using(self.tmp.path());
        let out = tempfile::tempdir().unwrap();
        assert_success(&self.command(home, out.path()).output().unwrap());
        // pip's own temp dirs (a killed `pip download` cannot clean up) are not ours.
        let mut left = names(self.tmp.path());
        left.retain(|name| name.starts_with("emwheel-"));
        assert_eq!(left, Vec::<String>::new(), "build dirs left");
    }
}

#[test]
fn builds_killed_at_random_moments_leave_only_complete_wheels() {
    let warm_out = tempfile::tempdir().unwrap();
    let reference = std::fs::read(build(&six(), warm_out.path())).unwrap();
    let mut trials = Trials {
        reference,
        tmp: tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap(),
        empty: 0,
        complete_wheel: 0,
        hidden_partial: 0,
    };
    let mut rng = Rng(0x5eed_2024_0001);
    // Warm builds (cached source and venv): kills land in unpacking, the backend and the
    // wheel write, spread over the whole build; the last 6 aim at its final 15 %, where the
    // wheel is repaired and written. The build's length is the last rerun's, so that the
    // spread holds on a busy machine too.
    let mut warm = build_time(&trials.reference);
    for trial in 0..26 {
        let delay = match trial {
            0..20 => rng.below(warm),
            _ => warm.mul_f64(0.9) + rng.below(warm.mul_f64(0.15)),
        };
        let label = format!("warm trial {trial} (kill at {delay:?} of {warm:?})");
        warm = trials.kill_and_rerun(&test_home(), delay, &label);
    }
    trials.assert_swept(&test_home());
    // Cold builds (fresh home): kills land in the source download and the venv creation.
    // A killed emwheel's children die with it, but theirs (ensurepip under `python -m
    // venv`) may write on into the abandoned venv for a while: the check waits for them,
    // then the next build sweeps what they left.
    for trial in 0..2 {
        let home = fresh_home_with_target();
        let delay = rng.below(Duration::from_secs(5));
        let label = format!("cold trial {trial} (kill at {delay:?})");
        trials.kill_and_rerun(home.path(), delay, &label);
        assert_eq!(names(&home.path().join("sources")).len(), 2, "{label}");
        wait_for_processes_using(home.path());
        trials.assert_swept(home.path());
        assert_complete_envs(&home.path().join("build-envs"));
    }
    eprintln!(
        "28 kill trials survived; the output held nothing {} times, the complete wheel {}, \
         a hidden partial {}",
        trials.empty, trials.complete_wheel, trials.hidden_partial
    );
}

/// Waits (up to a minute) until no process names `path` on its command line.
pub(crate) fn wait_for_processes_using(path: &Path) {
    let needle = path.to_string_lossy().into_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let busy = std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(&needle))
        });
        if !busy {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("processes still use {needle} after a minute");
}

/// How long a warm build of six takes now.
fn build_time(reference: &[u8]) -> Duration {
    let out = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let wheel = std::fs::read(build(&six(), out.path())).unwrap();
    assert!(wheel == reference);
    start.elapsed()
}

#[test]
fn concurrent_builds_share_a_home_and_an_output_dir() {
    let home = fresh_home_with_target();
    let sequential_out = tempfile::tempdir().unwrap();
    for round in 0..3 {
        // Round 0 starts from an empty cache: the three race to fetch and make the venv.
        let out = tempfile::tempdir().unwrap();
        let children: Vec<_> = (0..3)
            .map(|_| {
                let mut command = build_command(home.path(), &six(), out.path());
                command.stdout(Stdio::piped()).stderr(Stdio::piped());
                command.spawn().unwrap()
            })
            .collect();
        for child in children {
            assert_success(&child.wait_with_output().unwrap());
        }
        assert_eq!(names(out.path()), [SIX_WHEEL], "round {round}");
        let sources = names(&home.path().join("sources"));
        assert_eq!(
            sources,
            [SIX_SHA256.to_string(), format!("{SIX_SHA256}.lock")]
        );
        if round == 0 {
            let sequential = build_command(home.path(), &six(), sequential_out.path()).output();
            assert_success(&sequential.unwrap());
        }
        let concurrent = std::fs::read(out.path().join(SIX_WHEEL)).unwrap();
        let sequential = std::fs::read(sequential_out.path().join(SIX_WHEEL)).unwrap();
        assert!(concurrent == sequential, "round {round}: bytes differ");
    }
    assert_complete_envs(&home.path().join("build-envs"));
}

/// Each build env is a complete venv `<key>` beside its lock `<key>.lock`, and no staging
/// venv (`.new-<key>-*`) of a killed or losing maker is left over.
fn assert_complete_envs(envs: &Path) {
    let names = names(envs);
    let (locks, venvs): (Vec<&String>, Vec<&String>) =
        names.iter().partition(|n| n.ends_with(".lock"));
    assert!(!venvs.is_empty(), "{names:?}");
    for venv in &venvs {
        assert!(envs.join(venv).join("bin/python").is_file(), "{names:?}");
        assert!(locks.contains(&&format!("{venv}.lock")), "{names:?}");
    }
    assert_eq!(locks.len(), venvs.len(), "{names:?}");
}
