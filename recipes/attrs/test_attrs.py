"""Tests of the attrs recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["attrs"])
def test_attrs(selenium):
    """attrs works in Pyodide."""
    import attrs

    @attrs.define
    class Point:
        x: int
        y: int = 0

    assert Point(1) == Point(1, 0)
    assert attrs.asdict(Point(2, 3)) == {"x": 2, "y": 3}
