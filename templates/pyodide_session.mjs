// emwheel's Pyodide test session: ONE Pyodide runs the tests of many recipes (units), each
// isolated by pyodide_session.py (modules imported by the unit unloaded, sys.path,
// os.environ and the working directory restored, a fresh temp directory as cwd).
//
// Usage: node pyodide_session.mjs JOB.json (pyodide_session_core.mjs beside it, which holds
// what this shares with the browser's session, pyodide_session_browser.mjs)
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
import { pathToFileURL } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { messageOf, sharedWords, supervise, work } from "./pyodide_session_core.mjs";

function main() {
  const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
  const shared = sharedWords();
  const worker = new Worker(new URL(import.meta.url), { workerData: { job, shared } });
  worker.on("error", (e) => {
    console.error(`emwheel session: ${messageOf(e)}`);
    process.exitCode = 1;
  });
  supervise({
    job,
    shared,
    onMessage: (handle) => worker.on("message", handle),
    onExit: (handle) => worker.on("exit", handle),
    terminate: () => worker.terminate(),
    done: (result) => writeFileSync(job.result_path, JSON.stringify(result)),
  });
}

// Unbuffered output to the process's own descriptors (a worker has no `process.stdout.fd`).
const raw = (fd) => ({ write: (bytes) => (writeSync(fd, bytes), bytes.length) });

async function load(job) {
  const { loadPyodide } = await import(pathToFileURL(`${job.runtime_dir}/pyodide.mjs`).href);
  const pyodide = await loadPyodide({ indexURL: `${job.runtime_dir}/` });
  pyodide.setStdout(raw(1));
  pyodide.setStderr(raw(2));
  return pyodide;
}

if (isMainThread) {
  main();
} else {
  const { job, shared } = workerData;
  await work({
    job,
    shared,
    load: () => load(job),
    host: {
      read: async (path) => readFileSync(path),
      url: (path) => pathToFileURL(path).href,
      browser: "node",
    },
    post: (message) => parentPort.postMessage(message),
  });
}
