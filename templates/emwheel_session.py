"""emwheel's test session inside Pyodide: runs one recipe's (unit's) imports, script and
pytest files, isolated from the units before and after it, and a stand-in `pytest_pyodide`.

Isolation (see the README's "Testing"): `begin` snapshots sys.modules, sys.path, os.environ
and the working directory and moves into a fresh temp directory; `end` restores them and
unloads every module the unit imported, except packages holding a compiled extension module
(CPython cannot import most of those twice; they stay loaded for the rest of the session).
Installed wheels stay installed.
"""

import ast
import contextlib
import functools
import inspect
import io
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
import types
import zipfile

# Plugins come from the session, not from entry points of whatever is installed.
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"

import pytest

import emwheel_session_host

# Where Pyodide runs, as pytest-pyodide names it: "node", or "chrome" under `test --browser`.
BROWSER = getattr(emwheel_session_host, "browser", "node")


class TestTimeout(Exception):
    """Raised in the running test when it outlived the session's per-test timeout."""


def _on_interrupt(signum, frame):
    raise TestTimeout("the test outlived emwheel's per-test timeout (--test-timeout) and was interrupted")


signal.signal(signal.SIGINT, _on_interrupt)


# --- the stand-in pytest_pyodide -------------------------------------------------------------


class _Selenium:
    """What a test receives as `selenium`: the Pyodide it already runs in."""

    browser = BROWSER

    def run(self, code):
        namespace = {}
        exec(compile(code, "<selenium.run>", "exec"), namespace)

    def load_package(self, packages):
        """Packages are installed before the tests run; nothing to load."""


def run_in_pyodide(function=None, *, packages=(), pytest_assert_rewrites=True):
    """pytest-pyodide's decorator: the body already runs in Pyodide, so it is called as is,
    with the `selenium` stand-in as its first argument."""

    def decorate(function):
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            def skip_async(*args, **kwargs):
                pytest.skip("an async run_in_pyodide body needs JSPI, which emwheel's session does not enable")

            return skip_async

        @functools.wraps(function)
        def call(*args, **kwargs):
            return function(*args, **kwargs)

        return call

    return decorate(function) if function is not None else decorate


def _fixture(request):
    return _Selenium()


_MARKERS = [
    "driver_timeout(seconds): pytest-pyodide's browser timeout (ignored)",
    "xfail_browsers(**browsers): pytest-pyodide's expected failures per browser",
    "skip_refcount_check: pytest-pyodide's refcount check (ignored)",
    "skip_pyproxy_check: pytest-pyodide's proxy check (ignored)",
    "requires_dynamic_linking: needs dlopen (Pyodide has it)",
]


class _Plugin:
    """Registers the stand-in's fixtures and markers, and records every test's report."""

    selenium = staticmethod(pytest.fixture(_fixture, name="selenium"))
    selenium_standalone = staticmethod(pytest.fixture(_fixture, name="selenium_standalone"))
    selenium_module_scope = staticmethod(pytest.fixture(_fixture, name="selenium_module_scope", scope="module"))

    def __init__(self):
        self.results = {}
        self._started = {}

    def pytest_configure(self, config):
        for marker in _MARKERS:
            config.addinivalue_line("markers", marker)

    def pytest_collection_modifyitems(self, config, items):
        for item in items:
            marker = item.get_closest_marker("xfail_browsers")
            if marker and BROWSER in marker.kwargs:
                item.add_marker(pytest.mark.xfail(reason=marker.kwargs[BROWSER]))

    def pytest_runtest_logstart(self, nodeid, location):
        emwheel_session_host.beat()
        self._started[nodeid] = time.perf_counter()

    def pytest_runtest_logreport(self, report):
        emwheel_session_host.beat()
        if report.when == "call" or report.outcome != "passed":
            outcome = report.outcome
            if report.when != "call" and outcome == "failed":
                outcome = "error"
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
            message = "" if report.passed else _longrepr(report)
            self._record(report.nodeid, outcome, message)

    def pytest_collectreport(self, report):
        emwheel_session_host.beat()
        if report.failed:
            self._record(report.nodeid or "<collection>", "error", _longrepr(report))

    def _record(self, nodeid, outcome, message):
        started = self._started.get(nodeid, time.perf_counter())
        seconds = round(time.perf_counter() - started, 4)
        # A test has one result, the worst of its phases (a teardown error after a pass).
        earlier = self.results.get(nodeid)
        if earlier is None or _RANK.index(outcome) > _RANK.index(earlier["outcome"]):
            self.results[nodeid] = {"nodeid": nodeid, "outcome": outcome, "seconds": seconds, "message": message}


_RANK = ["passed", "skipped", "xfailed", "xpassed", "failed", "error"]


def _longrepr(report):
    if isinstance(report.longrepr, tuple):  # a skip: (file, line, reason)
        return str(report.longrepr[2])
    return str(report.longrepr or "")


def _install_stand_in():
    """Makes `import pytest_pyodide` (and its `decorator` submodule) give the stand-in."""
    module = types.ModuleType("pytest_pyodide", __doc__)
    module.run_in_pyodide = run_in_pyodide
    module.__path__ = []
    decorator = types.ModuleType("pytest_pyodide.decorator")
    decorator.run_in_pyodide = run_in_pyodide
    module.decorator = decorator
    sys.modules["pytest_pyodide"] = module
    sys.modules["pytest_pyodide.decorator"] = decorator


_install_stand_in()


# --- isolation -------------------------------------------------------------------------------


class Isolation:
    def __init__(self, name):
        self.modules = set(sys.modules)
        self.path = list(sys.path)
        self.environ = dict(os.environ)
        self.cwd = os.getcwd()
        self.tmp = tempfile.mkdtemp(prefix="emwheel-{}-".format(re.sub(r"[^\w.-]+", "_", name)))
        os.chdir(self.tmp)
        sys.path.insert(0, self.tmp)


def begin(name):
    return Isolation(name)


def _extension(module):
    file = getattr(module, "__file__", None) or ""
    return file.endswith(".so")


def end(isolation):
    os.chdir(isolation.cwd)
    sys.path[:] = isolation.path
    os.environ.clear()
    os.environ.update(isolation.environ)
    new = [name for name in list(sys.modules) if name not in isolation.modules]
    top = {name.split(".")[0] for name in new}
    keep = {name.split(".")[0] for name in new if _extension(sys.modules.get(name))}
    for name in new:
        if name.split(".")[0] in top - keep:
            sys.modules.pop(name, None)
    shutil.rmtree(isolation.tmp, ignore_errors=True)


def unpack_tests(path):
    """Unpacks a `<name>-tests.zip` into site-packages, where Pyodide puts it."""
    import site

    with zipfile.ZipFile(path) as archive:
        archive.extractall(site.getsitepackages()[0])


# --- one unit --------------------------------------------------------------------------------


async def run(imports, script, files):
    """Imports, the script, then pytest over `files` ([name, text] pairs written into the
    unit's temp directory). Returns {failures, tests, output}."""
    failures, tests = [], []
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        for name in imports:
            emwheel_session_host.beat()
            try:
                __import__(name)
            except BaseException:
                failures.append({"stage": "import", "target": name, "message": traceback.format_exc()})
        if script:
            emwheel_session_host.beat()
            try:
                code = compile(script, "<script>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
                result = eval(code, {"__name__": "__main__"})
                if inspect.iscoroutine(result):
                    await result
            except BaseException:
                failures.append({"stage": "script", "target": "script", "message": traceback.format_exc()})
        if files:
            tests = _pytest(files)
    return {"failures": failures, "tests": tests, "output": output.getvalue()}


def _pytest(files):
    directory = os.path.join(os.getcwd(), "tests")
    os.makedirs(directory)
    for name, text in files:
        with open(os.path.join(directory, name), "w") as file:
            file.write(text)
    plugin = _Plugin()
    args = [directory, "-p", "no:cacheprovider", "--capture=sys", "-q", "--rootdir", directory]
    args += ["--continue-on-collection-errors", "-o", "python_files=test_*.py"]
    pytest.main(args, plugins=[plugin])
    return list(plugin.results.values())
