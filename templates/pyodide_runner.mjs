// emwheel's Pyodide test runner: installs wheels with micropip, imports
// modules and runs a script inside the real Pyodide runtime under Node.js.
//
// Usage: node pyodide_runner.mjs JOB.json
// JOB.json: { runtime_dir, micropip_wheels: [path], wheels: [path], imports: [name],
//             script: string|null, result_path }
// The result { installed: [name], failures: [{stage, target, message}] } is
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
  const pyodide = await loadPyodide({ indexURL: `${job.runtime_dir}/` });
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
      await micropip.install(`emfs:/tmp/wheels/${name}`, { deps: false });
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
  const result = { installed: [], failures: [] };
  if (await installWheels(pyodide, result)) {
    importModules(pyodide, result);
    if (job.script) await runScript(pyodide, result);
  }
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
