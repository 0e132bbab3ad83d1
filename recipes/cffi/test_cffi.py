"""Tests of the cffi recipe, in pytest-pyodide's style: each body runs inside Pyodide."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["cffi"])
def test_cffi_calls_c_through_libffi(selenium):
    """A variadic C call through libffi (Pyodide's main module has it)."""
    from cffi import FFI

    ffi = FFI()
    ffi.cdef("int asprintf(char **buf, const char *format, ...);")
    C = ffi.dlopen(None)
    buf = ffi.new("char **")
    C.asprintf(buf, b"hello %sr%s", ffi.new("char[]", b"wo"), ffi.new("char[]", b"ld"))
    assert ffi.string(buf[0]) == b"hello world", ffi.string(buf[0])


@run_in_pyodide(packages=["cffi"])
def test_cffi_callback_from_c(selenium):
    """libffi's closures: a Python callback called from C (qsort)."""
    from cffi import FFI

    ffi = FFI()
    ffi.cdef("void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));")
    C = ffi.dlopen(None)

    @ffi.callback("int(const void *, const void *)")
    def compare(a, b):
        x, y = ffi.cast("int *", a)[0], ffi.cast("int *", b)[0]
        return (x > y) - (x < y)

    numbers = ffi.new("int[]", [5, 3, 9, 1])
    C.qsort(numbers, 4, ffi.sizeof("int"), compare)
    assert list(numbers) == [1, 3, 5, 9], list(numbers)
