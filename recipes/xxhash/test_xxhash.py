"""Tests of the xxhash recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["xxhash"])
def test_xxhash_digests(selenium):
    """The known digests of the empty input, through the wasm build of libxxhash."""
    import xxhash

    assert xxhash.xxh64(b"").hexdigest() == "ef46db3751d8e999"
    assert xxhash.xxh32(b"").hexdigest() == "02cc5d05"
    assert xxhash.xxh64(b"a" * 1000).intdigest() == xxhash.xxh64_intdigest(b"a" * 1000)
