// emwheel's test session in headless Chromium (`emwheel test --browser`): the same session as
// pyodide_session.mjs (same job, same result, pyodide_session_core.mjs beside this file), but
// Pyodide runs in a Web Worker of a page, whose main thread is the watchdog.
//
// Usage: PLAYWRIGHT_CORE=<playwright-core dir> CHROMIUM=<chromium binary>
//        node pyodide_session_browser.mjs JOB.json
//
// This process serves the page, the worker, the job and the files the job names (and nothing
// else) on a loopback port, with the cross-origin isolation headers SharedArrayBuffer needs
// (the interrupt buffer), and drives Chromium through playwright-core. The page hands the
// result back through an exposed function; it is written to the job's result_path.
import { readFileSync, statSync, createReadStream, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { extname, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const here = dirname(fileURLToPath(import.meta.url));

const PAGE = `<!doctype html><meta charset="utf-8"><title>emwheel test session</title>
<script type="module">
import { messageOf, sharedWords, supervise } from "/core.mjs";
const job = await (await fetch("/job.json")).json();
const shared = sharedWords();
const worker = new Worker("/worker.mjs", { type: "module" });
let onExit = () => {};
let exited = false;
const exit = () => { if (!exited) { exited = true; onExit(); } };
supervise({
  job,
  shared,
  onMessage: (handle) => worker.addEventListener("message", ({ data }) => {
    if (data.error !== undefined) {
      window.emwheelError(data.error);
      exit();
      return;
    }
    handle(data);
    if (data.done) exit();
  }),
  onExit: (handle) => { onExit = handle; },
  terminate: () => { worker.terminate(); exit(); },
  done: (result) => window.emwheelDone(result),
});
worker.addEventListener("error", (e) => { window.emwheelError(messageOf(e)); exit(); });
worker.postMessage({ job, shared });
</script>`;

const WORKER = `import { messageOf, work } from "/core.mjs";
const url = (path) => new URL("/fs" + path.split("/").map(encodeURIComponent).join("/"), location.href).href;
const read = async (path) => {
  const response = await fetch(url(path));
  if (!response.ok) throw new Error(\`\${path}: HTTP \${response.status}\`);
  return new Uint8Array(await response.arrayBuffer());
};
async function load(job) {
  const { loadPyodide } = await import(url(\`\${job.runtime_dir}/pyodide.mjs\`));
  const pyodide = await loadPyodide({ indexURL: url(job.runtime_dir) + "/" });
  pyodide.setStdout({ batched: (line) => console.log(line) });
  pyodide.setStderr({ batched: (line) => console.error(line) });
  return pyodide;
}
addEventListener("message", async ({ data: { job, shared } }) => {
  try {
    await work({ job, shared, load: () => load(job), host: { read, url, browser: "chrome" }, post: (message) => postMessage(message) });
  } catch (e) {
    postMessage({ error: messageOf(e) });
  }
}, { once: true });
`;

// The files the page may fetch: the runtime's directory, and each file the job names.
const allowedFiles = new Set([
  ...job.micropip_wheels, ...job.pytest_wheels, job.support,
  ...job.units.flatMap((unit) => [...unit.wheels, ...unit.tests_zips, ...unit.test_files]),
]);
const allowed = (path) =>
  !path.split("/").includes("..") && (allowedFiles.has(path) || path.startsWith(`${job.runtime_dir}/`));

const TYPES = {
  ".html": "text/html", ".mjs": "text/javascript", ".js": "text/javascript",
  ".json": "application/json", ".wasm": "application/wasm",
};

function serve(request, response) {
  const path = decodeURIComponent(new URL(request.url, "http://localhost").pathname);
  const headers = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
  };
  const send = (type, body) => {
    response.writeHead(200, { ...headers, "Content-Type": type });
    response.end(body);
  };
  if (path === "/") return send("text/html", PAGE);
  if (path === "/core.mjs") return send("text/javascript", readFileSync(join(here, "pyodide_session_core.mjs")));
  if (path === "/worker.mjs") return send("text/javascript", WORKER);
  if (path === "/job.json") return send("application/json", JSON.stringify(job));
  const file = path.startsWith("/fs/") ? path.slice(3) : null;
  let size;
  try {
    size = file && allowed(file) && statSync(file).isFile() ? statSync(file).size : null;
  } catch {
    size = null;
  }
  if (size === null) {
    response.writeHead(404, headers);
    return response.end();
  }
  const type = TYPES[extname(file)] ?? "application/octet-stream";
  response.writeHead(200, { ...headers, "Content-Type": type, "Content-Length": size });
  createReadStream(file).pipe(response);
}

const server = createServer(serve);
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const { chromium } = createRequire(import.meta.url)(process.env.PLAYWRIGHT_CORE);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  // Only loopback: keep Chromium from reaching out.
  args: [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic",
  ],
});
try {
  const page = await browser.newPage();
  page.on("console", (message) => console.log(message.text()));
  let resolve, reject;
  const result = new Promise((...settle) => ([resolve, reject] = settle));
  await page.exposeFunction("emwheelDone", (value) => resolve(value));
  await page.exposeFunction("emwheelError", (message) => {
    console.error(`emwheel session: ${message}`);
    process.exitCode = 1;
  });
  page.on("pageerror", (error) => reject(error));
  page.on("crash", () => reject(new Error("the Chromium page crashed")));
  await page.goto(`${origin}/`);
  writeFileSync(job.result_path, JSON.stringify(await result));
} catch (e) {
  console.error(`emwheel session: ${e && e.message ? e.message : e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  server.close();
}
