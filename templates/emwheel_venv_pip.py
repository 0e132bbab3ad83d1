"""`python -m pip` in an `emwheel venv`: micropip, installing into the venv's site-packages.

Supported: `install [-r FILE] [--index-url URL] [--extra-index-url URL] [--no-deps] [--pre]
REQ|WHEEL…`, `uninstall [-y] NAME…`, `list`, `freeze`. A wheel for another platform or Python
is refused with micropip's reason. Console scripts of what is installed are written to bin/.
"""

import argparse
import os
import site
import sys

import emwheel_venv_host

CONFIG = dict(emwheel_venv_host.config)


def _parser():
    parser = argparse.ArgumentParser(prog="pip", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    install = commands.add_parser("install")
    install.add_argument("requirements", nargs="*")
    install.add_argument("-r", "--requirement", action="append", default=[])
    install.add_argument("-i", "--index-url", action="append", default=[])
    install.add_argument("--extra-index-url", action="append", default=[])
    install.add_argument("--no-deps", action="store_true")
    install.add_argument("--pre", action="store_true")
    for ignored in ("-q", "--quiet", "-U", "--upgrade", "--no-cache-dir", "--disable-pip-version-check"):
        install.add_argument(ignored, action="count")
    uninstall = commands.add_parser("uninstall")
    uninstall.add_argument("names", nargs="+")
    uninstall.add_argument("-y", "--yes", action="store_true")
    commands.add_parser("list")
    commands.add_parser("freeze")
    return parser


def _requirements(args):
    found = []
    for path in args.requirement:
        with open(path) as file:
            for line in file:
                line = line.split("#", 1)[0].strip()
                if line and not line.startswith("-"):
                    found.append(line)
    for requirement in args.requirements + found:
        if requirement.endswith(".whl") and os.path.exists(requirement):
            requirement = "emfs:" + os.path.abspath(requirement)
        yield requirement


async def main(argv):
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit:
        return exit.code or 0
    await emwheel_venv_host.load_micropip()
    import micropip

    target = CONFIG["site_packages"]
    # micropip installs into site.getsitepackages()[0]: make that the venv's.
    original = site.getsitepackages
    site.getsitepackages = lambda *a, **k: [target]
    try:
        if args.command == "install":
            requirements = list(_requirements(args))
            if not requirements:
                print("ERROR: You must give at least one requirement to install", file=sys.stderr)
                return 1
            kwargs = {"deps": not args.no_deps, "pre": args.pre}
            urls = args.index_url + args.extra_index_url
            if urls:
                kwargs["index_urls"] = urls
            try:
                await micropip.install(requirements, **kwargs)
            except Exception as error:
                print(f"ERROR: {error}", file=sys.stderr)
                return 1
            _console_scripts(target)
            print("Successfully installed " + " ".join(requirements))
        elif args.command == "uninstall":
            micropip.uninstall(args.names)
        else:
            for name, package in sorted(micropip.list().items()):
                print(f"{name}=={package.version}" if args.command == "freeze" else f"{name} {package.version}")
    finally:
        site.getsitepackages = original
    return 0


def _console_scripts(target):
    """Writes bin/<name> for every console script of the venv's distributions."""
    import importlib.metadata

    bin_dir = CONFIG["bin_dir"]
    for dist in importlib.metadata.distributions(path=[target]):
        for entry in dist.entry_points:
            if entry.group != "console_scripts":
                continue
            module, _, attr = entry.value.partition(":")
            code = f"import sys; sys.argv[0] = {entry.name!r}; from {module.strip()} import {attr.split('.')[0].strip()} as f; sys.exit(f())"
            path = os.path.join(bin_dir, entry.name)
            with open(path, "w") as file:
                file.write(f'#!/bin/sh\nexec "{bin_dir}/python" -c {_sh(code)} "$@"\n')
            os.chmod(path, 0o755)


def _sh(text):
    return "'" + text.replace("'", "'\\''") + "'"
