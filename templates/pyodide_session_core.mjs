// What emwheel's test session does wherever Pyodide runs, under Node.js
// (pyodide_session.mjs) or in headless Chromium (pyodide_session_browser.mjs): the watchdog of
// the thread that stays free, and the work of the thread that runs Pyodide. Only web APIs here
// (no `node:` modules): the host passes `read(path)` (a file's bytes) and `url(path)` (where
// Pyodide fetches it from).
//
// The job and result formats are described in pyodide_session.mjs.

export const messageOf = (e) => (e && e.message) || String(e);

// Shared words: [0] Pyodide's interrupt buffer, [1] heartbeat counter, [2] 1 while a unit runs.
const INTERRUPT = 0;
const BEAT = 1;
const ACTIVE = 2;

export const sharedWords = () => new Int32Array(new SharedArrayBuffer(12));

// Watches the worker running Pyodide: when no step has started or ended for `job.test_timeout`
// seconds, sets the interrupt buffer (the running test fails with `TestTimeout`); after twice
// that, calls `terminate`. Collects the worker's messages into `result` and calls
// `done(result)` once the worker is gone (`onExit` is how the host says so), the units that
// did not finish reported as session errors.
export function supervise({ job, shared, onMessage, onExit, terminate, done }) {
  const result = { units: [], start_seconds: 0 };
  let finished = false;
  onMessage((message) => {
    if (message.unit) result.units.push(message.unit);
    if (message.start_seconds !== undefined) result.start_seconds = message.start_seconds;
    if (message.done) finished = true;
  });
  const limit = job.test_timeout * 1000;
  let lastBeat = Atomics.load(shared, BEAT);
  let lastChange = performance.now();
  let interrupted = false;
  const watch = setInterval(() => {
    const beat = Atomics.load(shared, BEAT);
    if (beat !== lastBeat || Atomics.load(shared, ACTIVE) === 0) {
      [lastBeat, lastChange, interrupted] = [beat, performance.now(), false];
      return;
    }
    const quiet = performance.now() - lastChange;
    if (!interrupted && quiet > limit) {
      Atomics.store(shared, INTERRUPT, 2); // SIGINT
      interrupted = true;
    } else if (quiet > 2 * limit) {
      clearInterval(watch);
      terminate();
    }
  }, 100);
  onExit(() => {
    clearInterval(watch);
    const ran = new Set(result.units.map((unit) => unit.name));
    for (const unit of job.units.filter((unit) => !ran.has(unit.name))) {
      const message = finished
        ? "the session ended before this unit ran"
        : `Pyodide did not return to the interpreter ${2 * job.test_timeout}s after a step started (a hang in compiled code?); the session was stopped`;
      result.units.push({ name: unit.name, installed: [], tests: [], output: "", seconds: 0, failures: [{ stage: "session", target: unit.name, message }] });
    }
    done(result);
  });
}

const basename = (path) => path.slice(path.lastIndexOf("/") + 1);

// Loads micropip, pytest and the Python side of the session into a loaded Pyodide.
async function prepare(pyodide, job, shared, host) {
  pyodide.setInterruptBuffer(shared);
  const wheels = [...job.micropip_wheels, ...job.pytest_wheels];
  await pyodide.loadPackage(wheels.map(host.url), { messageCallback: () => {} });
  pyodide.pyimport("micropip"); // imported once here, not inside a unit's timed steps
  pyodide.registerJsModule("emwheel_session_host", {
    beat: () => Atomics.add(shared, BEAT, 1),
    browser: host.browser,
  });
  pyodide.FS.mkdirTree("/tmp/emwheel");
  pyodide.FS.writeFile("/tmp/emwheel/emwheel_session.py", await host.read(job.support));
  pyodide.runPython("import sys; sys.path.insert(0, '/tmp/emwheel'); import emwheel_session");
}

// Installs the unit's wheels (micropip checks their tags) and unpacks its tests zips into
// site-packages, as `loadPackage("<name>-tests")` does; stops at the first failure.
async function install(pyodide, unit, record, shared, host) {
  const micropip = pyodide.pyimport("micropip");
  pyodide.FS.mkdirTree("/tmp/wheels");
  for (const wheel of unit.wheels) {
    const name = basename(wheel);
    Atomics.add(shared, BEAT, 1); // each install is a step of its own for the timeout
    try {
      pyodide.FS.writeFile(`/tmp/wheels/${name}`, await host.read(wheel));
      await micropip.install.callKwargs(`emfs:/tmp/wheels/${name}`, { deps: false });
      record.installed.push(name);
    } catch (e) {
      record.failures.push({ stage: "install", target: name, message: messageOf(e) });
      return false;
    }
  }
  try {
    pyodide._module?.reportUndefinedSymbols?.();
    for (const zip of unit.tests_zips) {
      const name = basename(zip);
      pyodide.FS.writeFile(`/tmp/wheels/${name}`, await host.read(zip));
      pyodide.pyimport("emwheel_session").unpack_tests(`/tmp/wheels/${name}`);
      record.installed.push(name);
    }
  } catch (e) {
    record.failures.push({ stage: "install", target: unit.name, message: messageOf(e) });
    return false;
  }
  return true;
}

async function runUnit(pyodide, shared, unit, host) {
  const started = performance.now();
  const record = { name: unit.name, installed: [], failures: [], tests: [], output: "", seconds: 0 };
  const session = pyodide.pyimport("emwheel_session");
  Atomics.add(shared, BEAT, 1);
  Atomics.store(shared, ACTIVE, 1);
  let isolation;
  try {
    isolation = session.begin(unit.name);
    if (await install(pyodide, unit, record, shared, host)) {
      const decoder = new TextDecoder();
      const files = [];
      for (const path of unit.test_files) {
        files.push([basename(path), decoder.decode(await host.read(path))]);
      }
      const ran = await session.run.callKwargs({
        imports: pyodide.toPy(unit.imports),
        script: unit.script ?? null,
        files: pyodide.toPy(files),
      });
      const outcome = ran.toJs({ dict_converter: Object.fromEntries });
      ran.destroy();
      record.failures.push(...outcome.failures);
      record.tests.push(...outcome.tests);
      record.output = outcome.output;
    }
  } catch (e) {
    record.failures.push({ stage: "session", target: unit.name, message: messageOf(e) });
  } finally {
    if (isolation) {
      session.end(isolation);
      isolation.destroy();
    }
    Atomics.store(shared, ACTIVE, 0);
  }
  record.seconds = (performance.now() - started) / 1000;
  return record;
}

// The worker's side: `load()` returns a loaded Pyodide; every unit's record, the start-up
// time and the end are sent with `post`.
export async function work({ job, shared, load, host, post }) {
  const started = performance.now();
  const pyodide = await load();
  await prepare(pyodide, job, shared, host);
  post({ start_seconds: (performance.now() - started) / 1000 });
  for (const unit of job.units) {
    post({ unit: await runUnit(pyodide, shared, unit, host) });
  }
  post({ done: true });
}
