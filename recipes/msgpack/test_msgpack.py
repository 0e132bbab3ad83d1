"""Tests of the msgpack recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["msgpack"])
def test_msgpack(selenium):
    """msgpack works in Pyodide."""
    import msgpack, msgpack._cmsgpack as c
    assert msgpack.Packer is c.Packer, "the Cython extension is not in use"
    data = {"a": [1, 2.5, None, True], "b": b"\x00\xff"}
    assert msgpack.unpackb(msgpack.packb(data)) == data
