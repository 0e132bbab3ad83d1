//! Running a plan's packages on `jobs` threads, each as soon as its host dependencies are
//! done: std threads and a channel, no async runtime.
//!
//! A failure never hides the other results: packages already running finish and report;
//! the failed package's dependents are skipped; without `keep_going` nothing new starts.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;

use super::Plan;

/// How one package's turn ended.
#[derive(Debug)]
pub enum Outcome<T, E> {
    /// The work succeeded.
    Done(T),
    /// The work failed.
    Failed(E),
    /// Not run because a host dependency (directly or further down) failed: its name.
    Skipped(String),
    /// Not run because the run stopped after a failure.
    NotStarted,
}

/// How to run a plan.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// How many packages run at once (at least one).
    pub jobs: usize,
    /// Go on starting packages whose dependencies succeeded after a failure.
    pub keep_going: bool,
}

/// One finished piece of work, or the panic it raised.
type Finished<T, E> = (usize, std::thread::Result<Result<T, E>>);

/// Runs `work(index, outputs of its host dependencies)` for every node of `plan`, and calls
/// `settled` on this thread as each node's outcome becomes known. Returns the outcomes in
/// plan order. A panic in `work` is re-raised here once the running work has finished.
pub fn run<T, E, W, S>(
    plan: &Plan,
    schedule: Schedule,
    work: W,
    mut settled: S,
) -> Vec<Outcome<T, E>>
where
    T: Clone + Send,
    E: Send,
    W: Fn(usize, Vec<T>) -> Result<T, E> + Sync,
    S: FnMut(usize, &Outcome<T, E>),
{
    let mut state = State::new(plan, schedule);
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<Finished<T, E>>();
        loop {
            while let Some(index) = state.next_ready() {
                let inputs = state.inputs(index);
                let (sender, work) = (sender.clone(), &work);
                scope.spawn(move || {
                    let result = panic::catch_unwind(AssertUnwindSafe(|| work(index, inputs)));
                    // The receiver lives until every worker has reported.
                    let _ = sender.send((index, result));
                });
            }
            if state.running == 0 {
                break;
            }
            let (index, result) = receiver.recv().expect("a running worker holds a sender");
            let outcome = match result {
                Ok(Ok(output)) => Outcome::Done(output),
                Ok(Err(error)) => Outcome::Failed(error),
                Err(panic) => panic::resume_unwind(panic),
            };
            state.settle(index, outcome, &mut settled);
        }
    });
    state.finish(&mut settled)
}

/// The scheduler's bookkeeping, kept on the calling thread.
struct State<'a, T, E> {
    plan: &'a Plan,
    schedule: Schedule,
    outcomes: Vec<Option<Outcome<T, E>>>,
    /// Host dependencies not yet done, per node.
    waiting: Vec<usize>,
    ready: VecDeque<usize>,
    running: usize,
    stopped: bool,
}

impl<'a, T: Clone, E> State<'a, T, E> {
    fn new(plan: &'a Plan, schedule: Schedule) -> Self {
        let waiting: Vec<usize> = plan.nodes().iter().map(|node| node.host.len()).collect();
        let ready = (0..waiting.len()).filter(|&i| waiting[i] == 0).collect();
        State {
            plan,
            schedule,
            outcomes: waiting.iter().map(|_| None).collect(),
            waiting,
            ready,
            running: 0,
            stopped: false,
        }
    }

    /// The next node to start, if a job slot is free and the run goes on.
    fn next_ready(&mut self) -> Option<usize> {
        if self.stopped || self.running >= self.schedule.jobs.max(1) {
            return None;
        }
        let index = self.ready.pop_front()?;
        self.running += 1;
        Some(index)
    }

    /// The outputs of a node's host dependencies, all done by now.
    fn inputs(&self, index: usize) -> Vec<T> {
        let output = |dep: &usize| match &self.outcomes[*dep] {
            Some(Outcome::Done(output)) => output.clone(),
            _ => unreachable!("a node starts only when its host dependencies are done"),
        };
        self.plan.nodes()[index].host.iter().map(output).collect()
    }

    fn settle(
        &mut self,
        index: usize,
        outcome: Outcome<T, E>,
        settled: &mut impl FnMut(usize, &Outcome<T, E>),
    ) {
        self.running -= 1;
        settled(index, &outcome);
        let failed = matches!(outcome, Outcome::Failed(_));
        self.outcomes[index] = Some(outcome);
        if failed {
            self.stopped |= !self.schedule.keep_going;
            let name = self.plan.nodes()[index].name.clone();
            self.skip_dependents(index, &name, settled);
            return;
        }
        for &dependent in self.plan.dependents(index) {
            self.waiting[dependent] -= 1;
            if self.waiting[dependent] == 0 {
                self.ready.push_back(dependent);
            }
        }
    }

    /// Marks everything that needs `index`, directly or not, skipped because of `failed`.
    fn skip_dependents(
        &mut self,
        index: usize,
        failed: &str,
        settled: &mut impl FnMut(usize, &Outcome<T, E>),
    ) {
        for &dependent in self.plan.dependents(index) {
            if self.outcomes[dependent].is_none() {
                let outcome = Outcome::Skipped(failed.to_string());
                settled(dependent, &outcome);
                self.outcomes[dependent] = Some(outcome);
                self.skip_dependents(dependent, failed, settled);
            }
        }
    }

    /// Every outcome in plan order; what never started is `NotStarted`.
    fn finish(self, settled: &mut impl FnMut(usize, &Outcome<T, E>)) -> Vec<Outcome<T, E>> {
        let outcomes = self.outcomes.into_iter().enumerate();
        outcomes
            .map(|(index, outcome)| {
                outcome.unwrap_or_else(|| {
                    settled(index, &Outcome::NotStarted);
                    Outcome::NotStarted
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::testutil::RecipeDir;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    /// `base` ← `mid` ← `top` through host dependencies, plus independent `x`, `y`, `z`.
    fn plan() -> Plan {
        let dir = RecipeDir::new(&[
            ("base", ""),
            ("mid", "[requirements]\nhost = [\"base\"]\n"),
            ("top", "[requirements]\nhost = [\"mid\"]\n"),
            ("x", ""),
            ("y", ""),
            ("z", ""),
        ]);
        let all = ["base", "mid", "top", "x", "y", "z"]
            .map(String::from)
            .into();
        Plan::new(&dir.load(), &all).unwrap()
    }

    fn index(plan: &Plan, name: &str) -> usize {
        plan.nodes()
            .iter()
            .position(|node| node.name == name)
            .unwrap()
    }

    /// Runs `plan` where the packages named in `failing` fail; returns each name's outcome
    /// as text, in plan order.
    fn outcomes(plan: &Plan, schedule: Schedule, failing: &[&str]) -> Vec<(String, String)> {
        let work = |i: usize, inputs: Vec<String>| {
            let name = &plan.nodes()[i].name;
            // Failures come at once, successes later, so that the order of events is fixed.
            if failing.contains(&name.as_str()) {
                return Err(format!("{name} broke"));
            }
            std::thread::sleep(Duration::from_millis(20));
            Ok(format!("{name}({})", inputs.join(",")))
        };
        let outcomes = run(plan, schedule, work, |_, _| {});
        let describe = |outcome: Outcome<String, String>| match outcome {
            Outcome::Done(output) => output,
            Outcome::Failed(error) => error,
            Outcome::Skipped(dep) => format!("skipped: {dep}"),
            Outcome::NotStarted => "not started".into(),
        };
        let names = plan.nodes().iter().map(|node| node.name.clone());
        names.zip(outcomes.into_iter().map(describe)).collect()
    }

    fn schedule(jobs: usize, keep_going: bool) -> Schedule {
        Schedule { jobs, keep_going }
    }

    fn outcome<'a>(all: &'a [(String, String)], name: &str) -> &'a str {
        &all.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn outputs_of_dependencies_reach_their_dependents() {
        let plan = plan();
        let all = outcomes(&plan, schedule(3, false), &[]);
        assert_eq!(outcome(&all, "top"), "top(mid(base()))");
        assert_eq!(outcome(&all, "x"), "x()");
    }

    #[test]
    fn keep_going_builds_all_but_the_dependents_of_a_failure() {
        let plan = plan();
        let all = outcomes(&plan, schedule(2, true), &["base"]);
        assert_eq!(outcome(&all, "base"), "base broke");
        assert_eq!(outcome(&all, "mid"), "skipped: base");
        assert_eq!(outcome(&all, "top"), "skipped: base");
        for name in ["x", "y", "z"] {
            assert_eq!(outcome(&all, name), format!("{name}()"));
        }
    }

    #[test]
    fn without_keep_going_running_work_finishes_but_nothing_new_starts() {
        let plan = plan();
        // One job: `base` runs first and fails, so nothing else may start.
        let all = outcomes(&plan, schedule(1, false), &["base"]);
        assert_eq!(outcome(&all, "mid"), "skipped: base");
        for name in ["x", "y", "z"] {
            assert_eq!(outcome(&all, name), "not started");
        }
        // Two jobs: `base` and `x` start together; `x` finishes and reports.
        let all = outcomes(&plan, schedule(2, false), &["base"]);
        assert_eq!(outcome(&all, "x"), "x()");
        assert_eq!(outcome(&all, "y"), "not started");
    }

    #[test]
    fn independent_work_runs_in_parallel_up_to_jobs() {
        let plan = plan();
        let (now, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let work = |_: usize, _: Vec<()>| {
            let running = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(running, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(30));
            now.fetch_sub(1, Ordering::SeqCst);
            Ok::<(), ()>(())
        };
        let order = Mutex::new(Vec::new());
        run(&plan, schedule(3, false), work, |i, _| {
            order.lock().unwrap().push(i);
        });
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        let order = order.into_inner().unwrap();
        let position = |name| order.iter().position(|&i| i == index(&plan, name)).unwrap();
        assert!(position("base") < position("mid") && position("mid") < position("top"));
    }
}
