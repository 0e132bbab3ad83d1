// emwheel's Pyodide test runner: installs wheels with micropip, imports
// modules and runs a script inside the real Pyodide runtime under Node.js.
//
// Usage: node pyodide_runner.mjs JOB.json
// JOB.json: { runtime_dir, micropip_wheels: [path], wheels: [path], imports: [name],
//             script: string|null, requirements: [req], index_urls: [url],
//             lock_file_url: string|null, load_packages: [name], result_path }
// The result { installed: [name], failures: [{stage, target, message}], run_seconds } is
// written to result_path. Exits 0 even when a test failed; non-zero only
// when the runtime itself could not be started.
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { pathToFileURL } from "node:url";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));

// A PythonError's message holds the Python traceback; never print the
// error object itself (Node would dump the minified runtime).
const messageOf = (e) => (e && e.message) || String(e);

async function startPyodide() {
  const url = pathToFileURL(`${job.runtime_dir}/pyodide.mjs`).href;
  const { loadPyodide } = await import(url);
  const options = { indexURL: `${job.runtime_dir}/` };
  // Under Node, Pyodide reads the lockfile from the file system and loads package files
  // relative to its directory (a browser fetches both from the lockfile's URL).
  if (job.lock_file_url) options.lockFileURL = job.lock_file_url;
  const pyodide = await loadPyodide(options);
  // Unbuffered, so output without a trailing newline still reaches the log.
  const raw = (stream) => ({ write: (bytes) => (stream.write(bytes), bytes.length) });
  pyodide.setStdout(raw(process.stdout));
  pyodide.setStderr(raw(process.stderr));
  await pyodide.loadPackage(job.micropip_wheels.map((wheel) => pathToFileURL(wheel).href));
  return pyodide;
}

// Installs each wheel through micropip (which checks the platform tag);
// stops at the first failure, since later steps would be meaningless.
async function installWheels(pyodide, result) {
  const micropip = pyodide.pyimport("micropip");
  pyodide.FS.mkdirTree("/tmp/wheels");
  for (const wheel of job.wheels) {
    const name = basename(wheel);
    try {
      pyodide.FS.writeFile(`/tmp/wheels/${name}`, readFileSync(wheel));
      // Keyword arguments must go through callKwargs: a trailing JS object would be passed
      // positionally (as `keep_going`).
      await micropip.install.callKwargs(`emfs:/tmp/wheels/${name}`, { deps: false });
      result.installed.push(name);
    } catch (e) {
      result.failures.push({ stage: "install", target: name, message: messageOf(e) });
      return false;
    }
  }
  // Pyodide 0.27's micropip loads a wheel's shared libraries without resolving their
  // function-pointer imports of runtime functions (`GOT.func` entries such as `__cxa_throw`,
  // which C++ compiled for JavaScript exceptions takes the address of); they stay 0 until
  // the next `pyodide.loadPackage`, which resolves them. Resolve them as that would, so a
  // C++ `throw` inside `try` does not abort Pyodide. Entries already resolved stay as they are.
  try {
    pyodide._module?.reportUndefinedSymbols?.();
  } catch (e) {
    result.failures.push({ stage: "install", target: "shared libraries", message: messageOf(e) });
    return false;
  }
  return true;
}

// Installs requirements by name from the job's package indexes, as users of a private
// index do: `micropip.install(names, index_urls=…)`.
async function installRequirements(pyodide, result) {
  if (job.requirements.length === 0) return true;
  try {
    const micropip = pyodide.pyimport("micropip");
    await micropip.install.callKwargs(pyodide.toPy(job.requirements), { index_urls: pyodide.toPy(job.index_urls) });
    result.installed.push(...job.requirements);
    return true;
  } catch (e) {
    result.failures.push({ stage: "install", target: job.requirements.join(", "), message: messageOf(e) });
    return false;
  }
}

// Loads packages through the lockfile, the way `pyodide.loadPackage` users do.
async function loadPackages(pyodide, result) {
  if (job.load_packages.length === 0) return true;
  const errors = [];
  await pyodide.loadPackage(job.load_packages, { errorCallback: (message) => errors.push(message) });
  for (const message of errors) {
    result.failures.push({ stage: "install", target: job.load_packages.join(", "), message });
  }
  return errors.length === 0;
}

function importModules(pyodide, result) {
  const importModule = pyodide.pyimport("importlib").import_module;
  for (const name of job.imports) {
    try {
      importModule(name).destroy?.();
    } catch (e) {
      result.failures.push({ stage: "import", target: name, message: messageOf(e) });
    }
  }
}

async function runScript(pyodide, result) {
  try {
    await pyodide.runPythonAsync(job.script);
  } catch (e) {
    result.failures.push({ stage: "script", target: "script", message: messageOf(e) });
  }
}

async function main() {
  const pyodide = await startPyodide();
  const result = { installed: [], failures: [], run_seconds: 0 };
  const started = performance.now();
  const installed =
    (await installWheels(pyodide, result)) &&
    (await installRequirements(pyodide, result)) &&
    (await loadPackages(pyodide, result));
  if (installed) {
    importModules(pyodide, result);
    if (job.script) await runScript(pyodide, result);
  }
  result.run_seconds = (performance.now() - started) / 1000;
  pyodide.runPython("import sys; sys.stdout.flush(); sys.stderr.flush()");
  writeFileSync(job.result_path, JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`emwheel runner: ${messageOf(e)}`);
    process.exit(1);
  },
);
