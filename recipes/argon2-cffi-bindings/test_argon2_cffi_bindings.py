"""Tests of the argon2-cffi-bindings recipe, in pytest-pyodide's style: each body runs inside
Pyodide. libargon2's optimized code is SSE2 that emcc maps onto wasm SIMD."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide(packages=["argon2-cffi-bindings"])
def test_argon2id_reference_vector(selenium):
    """Argon2id, t=2, m=64 MiB, p=1: the reference implementation's own test vector."""
    from _argon2_cffi_bindings import ffi, lib

    out = ffi.new("uint8_t[]", 32)
    rc = lib.argon2_hash(2, 1 << 16, 1, b"password", 8, b"somesalt", 8, out, 32,
                         ffi.NULL, 0, lib.Argon2_id, 0x13)
    assert rc == lib.ARGON2_OK, ffi.string(lib.argon2_error_message(rc))
    expected = "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7"
    assert bytes(out).hex() == expected, bytes(out).hex()


@run_in_pyodide(packages=["argon2-cffi-bindings"])
def test_argon2_reports_a_short_salt(selenium):
    """A salt shorter than 8 bytes is refused with the library's own error."""
    from _argon2_cffi_bindings import ffi, lib

    out = ffi.new("uint8_t[]", 32)
    rc = lib.argon2_hash(2, 1 << 10, 1, b"password", 8, b"salt", 4, out, 32,
                         ffi.NULL, 0, lib.Argon2_id, 0x13)
    assert ffi.string(lib.argon2_error_message(rc)) == b"Salt is too short", rc
