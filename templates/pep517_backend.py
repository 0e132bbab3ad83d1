"""Runs one hook of a PEP 517 build backend for emwheel.

Usage: python pep517_backend.py (requires|build) SOURCE_DIR OUT_DIR CONFIG_JSON

`requires` prints, as the last line of stdout, a JSON list of the requirements from
`get_requires_for_build_wheel` that this environment does not have yet. `build` runs
`build_wheel` and prints the wheel's file name as a JSON string on the last line.
The backend and its path come from the environment (EMWHEEL_BACKEND, EMWHEEL_BACKEND_PATH).
"""

import importlib
import importlib.metadata
import json
import os
import re
import sys


def load_backend():
    backend_path = json.loads(os.environ.get("EMWHEEL_BACKEND_PATH", "[]"))
    sys.path[:0] = [os.path.abspath(path) for path in backend_path]
    module_name, _, attribute = os.environ["EMWHEEL_BACKEND"].partition(":")
    backend = importlib.import_module(module_name)
    for part in filter(None, attribute.split(".")):
        backend = getattr(backend, part)
    return backend


def missing(requirements):
    """Requirements whose distribution is not installed (versions are the backend's business)."""
    result = []
    for requirement in requirements:
        name = re.split(r"[\s<>=!~;\[(@]", requirement.strip(), maxsplit=1)[0]
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            result.append(requirement)
    return result


def main():
    hook, source_dir, out_dir, config = sys.argv[1:5]
    config_settings = json.loads(config) or None
    os.chdir(source_dir)
    sys.path.insert(0, source_dir)
    backend = load_backend()
    if hook == "requires":
        get_requires = getattr(backend, "get_requires_for_build_wheel", None)
        requires = get_requires(config_settings) if get_requires else []
        print(json.dumps(missing(requires)))
    else:
        print(json.dumps(backend.build_wheel(out_dir, config_settings)))


if __name__ == "__main__":
    main()
