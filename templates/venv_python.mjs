// `bin/python` of an `emwheel venv`: the target's Pyodide under Node.js, taking CPython's
// command line (`-c`, `-m`, a script, `-` or stdin) and returning its exit status. The host's
// top-level directories are mounted (NODEFS) at their own paths, so paths and the working
// directory mean what they mean outside; the venv's site-packages is on sys.path.
// `python -m pip install|uninstall|list` is micropip, installing into the venv's
// site-packages and writing console scripts into the venv's bin/.
import { readFileSync, readSync, readdirSync, statSync, writeSync } from "node:fs";
import { pathToFileURL } from "node:url";

const config = JSON.parse(readFileSync(new URL("./emwheel-venv.json", import.meta.url), "utf8"));
// Unbuffered, blocking writes to the process's own descriptors, retried on EAGAIN.
const raw = (fd) => ({
  write: (bytes) => {
    for (let done = 0; done < bytes.length; ) {
      try {
        done += writeSync(fd, bytes.subarray(done));
      } catch (e) {
        if (e.code !== "EAGAIN") throw e;
      }
    }
    return bytes.length;
  },
});

// Host directories Pyodide must not have covered: its own /lib (the stdlib), /dev, /proc.
const KEEP = new Set(["dev", "lib", "proc", "sys"]);

const DRIVER = `
import os, runpy, site, sys, traceback
site.addsitedir(${JSON.stringify(config.site_packages)})
sys.path.append(${JSON.stringify(config.support_dir)})

def _status(exit):
    if exit.code is None or isinstance(exit.code, int):
        return exit.code or 0
    print(exit.code, file=sys.stderr)
    return 1

async def _pip(argv):
    import emwheel_venv_pip
    return await emwheel_venv_pip.main(argv)

async def _emwheel_main(argv):
    args = list(argv)
    while args and args[0] in ("-u", "-B", "-E", "-s", "-I", "-q", "-b", "-O", "-OO", "-S"):
        args.pop(0)
    if args and args[0] in ("-V", "--version"):
        print("Python " + sys.version.split()[0])
        return 0
    try:
        if args and args[0] == "-c":
            sys.argv = ["-c", *args[2:]]
            sys.path.insert(0, "")
            exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})
        elif args and args[0] == "-m":
            if args[1] == "pip":
                return await _pip(args[2:])
            sys.argv = [args[1], *args[2:]]
            sys.path.insert(0, os.getcwd())
            runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        elif args and args[0] != "-":
            sys.argv = list(args)
            sys.path.insert(0, os.path.dirname(os.path.abspath(args[0])))
            runpy.run_path(args[0], run_name="__main__")
        else:
            sys.argv = [""] + args[1:]
            sys.path.insert(0, "")
            exec(compile(sys.stdin.read(), "<stdin>", "exec"), {"__name__": "__main__"})
    except SystemExit as exit:
        return _status(exit)
    except BaseException as error:
        # Without this driver's own frame, as CPython prints it.
        traceback.print_exception(type(error), error, error.__traceback__.tb_next)
        return 1
    return 0
`;

async function main() {
  const { loadPyodide } = await import(pathToFileURL(`${config.runtime_dir}/pyodide.mjs`).href);
  const pyodide = await loadPyodide({
    indexURL: `${config.runtime_dir}/`,
    lockFileURL: config.lock_file,
    env: { ...process.env, HOME: process.env.HOME ?? "/" },
  });
  pyodide.setStdout(raw(1));
  pyodide.setStderr(raw(2));
  pyodide.setStdin({ read: (buffer) => { try { return readSync(0, buffer); } catch (e) { if (e.code === "EOF") return 0; throw e; } } });
  for (const entry of readdirSync("/")) {
    if (KEEP.has(entry)) continue;
    try {
      if (!statSync(`/${entry}`).isDirectory()) continue;
    } catch {
      continue;
    }
    pyodide.FS.mkdirTree(`/${entry}`);
    pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: `/${entry}` }, `/${entry}`);
  }
  pyodide.FS.chdir(process.cwd());
  pyodide.registerJsModule("emwheel_venv_host", {
    config: pyodide.toPy(config),
    load_micropip: () => pyodide.loadPackage(config.micropip_wheels.map((w) => pathToFileURL(w).href), { messageCallback: () => {} }),
  });
  pyodide.runPython(DRIVER);
  const code = await pyodide.globals.get("_emwheel_main")(pyodide.toPy(process.argv.slice(2)));
  // The program may have closed sys.stdout (json.tool does): flush what is still open.
  pyodide.runPython("import sys\nfor s in (sys.stdout, sys.stderr):\n    if not s.closed: s.flush()");
  process.exit(code);
}

main().catch((e) => {
  console.error(`emwheel venv python: ${(e && e.message) || e}`);
  process.exit(1);
});
