"""Tests of the markupsafe recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["markupsafe"])
def test_markupsafe(selenium):
    """The C extension, not the pure-Python fallback, must be what markupsafe uses."""
    import markupsafe, markupsafe._speedups as speedups
    assert speedups.__file__.endswith(".so"), speedups.__file__
    assert markupsafe.escape is speedups.escape, markupsafe.escape
    assert str(markupsafe.escape("<a href='x'>")) == "&lt;a href=&#39;x&#39;&gt;"
