"""Compiles the .py files of an unpacked wheel to .pyc for emwheel.

Usage: python py_compile.py ROOT
Every `x.py` below ROOT becomes `x.pyc` beside it (the layout Pyodide uses for its own
bytecode wheels), compiled with unchecked-hash invalidation so the bytes depend only on the
source, never on the time. Files that do not compile (e.g. Python 2 test data) stay as
source. Prints, as the last line, a JSON object with the compiled and kept paths.
"""

import json
import os
import py_compile
import sys


def main():
    root = sys.argv[1]
    compiled, kept = [], []
    for directory, _dirs, files in sorted(os.walk(root)):
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            source = os.path.join(directory, name)
            relative = os.path.relpath(source, root)
            try:
                py_compile.compile(
                    source,
                    cfile=source + "c",
                    dfile=relative,
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
            except py_compile.PyCompileError:
                kept.append(relative)
                continue
            os.remove(source)
            compiled.append(relative)
    print(json.dumps({"compiled": compiled, "kept": kept}))


if __name__ == "__main__":
    main()
