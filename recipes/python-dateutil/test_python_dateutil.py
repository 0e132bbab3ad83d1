"""Tests of the python-dateutil recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["python-dateutil"])
def test_python_dateutil(selenium):
    """python-dateutil works in Pyodide."""
    import datetime
    from dateutil import parser, relativedelta
    when = parser.parse("2024-02-29T12:30:00")
    assert when + relativedelta.relativedelta(years=1) == datetime.datetime(2025, 2, 28, 12, 30)
