// emwheel's Pyodide test session: ONE Pyodide runs the tests of many recipes (units), each
// isolated by pyodide_session.py (modules imported by the unit unloaded, sys.path,
// os.environ and the working directory restored, a fresh temp directory as cwd).
//
// Usage: node pyodide_session.mjs JOB.json
// JOB.json: { runtime_dir, micropip_wheels: [path], pytest_wheels: [path], support: path,
//             test_timeout: seconds, result_path,
//             units: [{ name, wheels: [path], tests_zips: [path], imports: [name],
//                       script: string|null, test_files: [path] }] }
// The result { units: [{ name, installed, failures: [{stage, target, message}],
//              tests: [{nodeid, outcome, seconds, message}], output, seconds }],
//              start_seconds } is written to result_path.
//
// Pyodide runs in a worker thread so that this (main) thread stays free to interrupt it:
// when no test or step has started or ended for `test_timeout` seconds, it sets Pyodide's
// interrupt buffer, and the SIGINT handler pyodide_session.py installs raises `TestTimeout`
// in the running test, which fails and the run goes on. Code that never returns to the
// interpreter (a C loop) cannot be interrupted: after a second `test_timeout` the worker is
// terminated and the units not finished are reported as errors.
import { readFileSync, writeFileSync, writeSync } from "node:fs";
import { basename } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const messageOf = (e) => (e && e.message) || String(e);

// Shared words: [0] Pyodide's interrupt buffer, [1] heartbeat counter, [2] 1 while a unit runs.
const INTERRUPT = 0;
const BEAT = 1;
const ACTIVE = 2;

function main() {
  const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
  const shared = new Int32Array(new SharedArrayBuffer(12));
  const worker = new Worker(new URL(import.meta.url), { workerData: { job, shared } });
  const result = { units: [], start_seconds: 0 };
  let finished = false;
  const write = () => writeFileSync(job.result_path, JSON.stringify(result));
  worker.on("message", (message) => {
    if (message.unit) result.units.push(message.unit);
    if (message.start_seconds !== undefined) result.start_seconds = message.start_seconds;
    if (message.done) finished = true;
  });
  worker.on("error", (e) => {
    console.error(`emwheel session: ${messageOf(e)}`);
    process.exitCode = 1;
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
      worker.terminate();
    }
  }, 100);
  worker.on("exit", () => {
    clearInterval(watch);
    const done = new Set(result.units.map((unit) => unit.name));
    for (const unit of job.units.filter((unit) => !done.has(unit.name))) {
      const message = finished
        ? "the session ended before this unit ran"
        : `Pyodide did not return to the interpreter ${2 * job.test_timeout}s after a step started (a hang in compiled code?); the session was stopped`;
      result.units.push({ name: unit.name, installed: [], tests: [], output: "", seconds: 0, failures: [{ stage: "session", target: unit.name, message }] });
    }
    write();
  });
}

// Unbuffered output to the process's own descriptors (a worker has no `process.stdout.fd`).
const raw = (fd) => ({ write: (bytes) => (writeSync(fd, bytes), bytes.length) });

async function startPyodide(job, shared) {
  const { loadPyodide } = await import(pathToFileURL(`${job.runtime_dir}/pyodide.mjs`).href);
  const pyodide = await loadPyodide({ indexURL: `${job.runtime_dir}/` });
  pyodide.setStdout(raw(1));
  pyodide.setStderr(raw(2));
  pyodide.setInterruptBuffer(shared);
  const wheels = [...job.micropip_wheels, ...job.pytest_wheels];
  await pyodide.loadPackage(
    wheels.map((wheel) => pathToFileURL(wheel).href),
    { messageCallback: () => {} },
  );
  pyodide.pyimport("micropip"); // imported once here, not inside a unit's timed steps
  pyodide.registerJsModule("emwheel_session_host", {
    beat: () => Atomics.add(shared, BEAT, 1),
  });
  pyodide.FS.mkdirTree("/tmp/emwheel");
  pyodide.FS.writeFile("/tmp/emwheel/emwheel_session.py", readFileSync(job.support));
  pyodide.runPython("import sys; sys.path.insert(0, '/tmp/emwheel'); import emwheel_session");
  return pyodide;
}

// Installs the unit's wheels (micropip checks their tags) and unpacks its tests zips into
// site-packages, as `loadPackage("<name>-tests")` does; stops at the first failure.
async function install(pyodide, unit, record, shared) {
  const micropip = pyodide.pyimport("micropip");
  pyodide.FS.mkdirTree("/tmp/wheels");
  for (const wheel of unit.wheels) {
    const name = basename(wheel);
    Atomics.add(shared, BEAT, 1); // each install is a step of its own for the timeout
    try {
      pyodide.FS.writeFile(`/tmp/wheels/${name}`, readFileSync(wheel));
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
      pyodide.FS.writeFile(`/tmp/wheels/${name}`, readFileSync(zip));
      pyodide.pyimport("emwheel_session").unpack_tests(`/tmp/wheels/${name}`);
      record.installed.push(name);
    }
  } catch (e) {
    record.failures.push({ stage: "install", target: unit.name, message: messageOf(e) });
    return false;
  }
  return true;
}

async function runUnit(pyodide, shared, unit) {
  const started = performance.now();
  const record = { name: unit.name, installed: [], failures: [], tests: [], output: "", seconds: 0 };
  const session = pyodide.pyimport("emwheel_session");
  Atomics.add(shared, BEAT, 1);
  Atomics.store(shared, ACTIVE, 1);
  let isolation;
  try {
    isolation = session.begin(unit.name);
    if (await install(pyodide, unit, record, shared)) {
      const files = unit.test_files.map((path) => [basename(path), readFileSync(path, "utf8")]);
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

async function work() {
  const { job, shared } = workerData;
  const started = performance.now();
  const pyodide = await startPyodide(job, shared);
  parentPort.postMessage({ start_seconds: (performance.now() - started) / 1000 });
  for (const unit of job.units) {
    parentPort.postMessage({ unit: await runUnit(pyodide, shared, unit) });
  }
  parentPort.postMessage({ done: true });
}

if (isMainThread) {
  main();
} else {
  await work();
}
