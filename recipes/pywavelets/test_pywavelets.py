"""Tests of the pywavelets recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["pywavelets"])
def test_pywavelets(selenium):
    """pywavelets works in Pyodide."""
    import numpy as np
    import pywt
    signal = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    approximation, detail = pywt.dwt(signal, "haar")
    assert np.allclose(approximation, [2.1213203, 4.9497475, 7.7781746, 10.6066017]), approximation
    assert np.allclose(detail, -0.70710678), detail
    assert np.allclose(pywt.idwt(approximation, detail, "haar"), signal)
    coefficients = pywt.wavedec2(np.arange(64.0).reshape(8, 8), "db1", level=2)
    assert np.allclose(pywt.waverec2(coefficients, "db1"), np.arange(64.0).reshape(8, 8))
