"""Tests of the numpy recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["numpy"])
def test_numpy(selenium):
    """numpy works in Pyodide."""
    import numpy as np
    a = np.array([[4.0, 7.0, 2.0], [3.0, 6.0, 1.0], [2.0, 5.0, 3.0]])
    inverse = np.linalg.inv(a)
    assert np.allclose(a @ inverse, np.eye(3)), a @ inverse
    assert np.allclose(np.fft.ifft(np.fft.fft(np.arange(8.0))).real, np.arange(8.0))
    assert np.random.default_rng(1).integers(0, 10, 5).shape == (5,)
    # Built here, through emwheel's compiler wrapper links, not Pyodide's own numpy.
    compiler = np.__config__.CONFIG["Compilers"]["c"]
    assert compiler["name"] == "emscripten", compiler
    assert "/wrapper/" in compiler["commands"] and compiler["commands"].endswith("/cc"), compiler
