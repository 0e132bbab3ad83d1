"""Tests of the bottleneck recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["bottleneck"])
def test_bottleneck(selenium):
    """bottleneck works in Pyodide."""
    import numpy as np
    import bottleneck as bn
    a = np.array([1.0, np.nan, 2.0, 5.0])
    assert bn.nansum(a) == 8.0, bn.nansum(a)
    assert bn.nanmax(a) == 5.0
    # int64 and C long differ in size on wasm32: a build against x86_64 numpy headers mixes them up.
    ints = np.arange(10, dtype=np.int64)
    assert bn.nansum(ints) == 45, bn.nansum(ints)
    moved = bn.move_mean(np.arange(6.0), window=2)
    assert np.allclose(moved[1:], [0.5, 1.5, 2.5, 3.5, 4.5]), moved
    assert np.isnan(moved[0])
    assert bn.rankdata(np.array([3.0, 1.0, 2.0])).tolist() == [3.0, 1.0, 2.0]
