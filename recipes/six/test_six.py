"""Tests of the six recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["six"])
def test_six(selenium):
    """six works in Pyodide."""
    import six
    assert six.PY3
    assert six.moves.reduce(lambda a, b: a + b, [1, 2, 3]) == 6


def test_six_moves_in_plain_pytest():
    """A plain pytest test: it runs in Pyodide too, as every test file does here."""
    import sys

    import six

    assert sys.platform == "emscripten"
    assert six.moves.range is range
