"""Tests of the pyyaml recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["pyyaml"])
def test_pyyaml(selenium):
    """pyyaml works in Pyodide."""
    import yaml
    assert yaml.__with_libyaml__, "the libyaml extension is missing"
    data = {"name": "emwheel", "targets": [1, 2, 3]}
    text = yaml.dump(data, Dumper=yaml.CSafeDumper)
    assert yaml.load(text, Loader=yaml.CSafeLoader) == data
