"""Tests of the ujson recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

import pytest
from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["ujson"])
def test_ujson_round_trip(selenium):
    import ujson

    data = {"a": [1, 2.5, None, True], "b": "é"}
    assert ujson.loads(ujson.dumps(data)) == data


@pytest.mark.parametrize("text", ["[1, 2", "{'a': 1}"])
@run_in_pyodide(packages=["ujson"])
def test_ujson_refuses_bad_json(selenium, text):
    import pytest
    import ujson

    with pytest.raises(ujson.JSONDecodeError):
        ujson.loads(text)
