//! The native compile path: for C and C++ sources with the flags the shipped recipes use, the
//! object clang makes on the fast path is byte-identical to emcc's, a failing compile reports
//! the same stderr and exit code, and calls it does not understand still go through emcc.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::toolchain_dir;

/// Sources, each a (file name, contents).
const SOURCES: &[(&str, &str)] = &[
    (
        "jump.c",
        "#include <setjmp.h>\n#include <string.h>\n#include <Python.h>\nstatic jmp_buf env;\n\
         int f(const char *s) { if (setjmp(env)) return -1; return (int)strlen(s) + NAME_LEN; }\n\
         void g(void) { longjmp(env, 1); }\n",
    ),
    (
        "throw.cpp",
        "#include <stdexcept>\n#include <string>\n#include <vector>\n\
         int h(int x) { std::vector<std::string> v(x); try { if (x > 3) throw std::runtime_error(\"big\"); }\n\
         catch (const std::exception &e) { return -(int)v.size(); } return (int)v.size(); }\n",
    ),
];

/// (source, the call's own flags) — recipe-like calls: setuptools', meson's with a depfile.
const CALLS: &[(&str, &[&str])] = &[
    (
        "jump.c",
        &[
            "-DNDEBUG",
            "-g",
            "-fwrapv",
            "-O3",
            "-Wall",
            "-DNAME_LEN=3",
            "-DSTR=\"a b\"",
            "-Iinclude dir",
        ],
    ),
    (
        "jump.c",
        &[
            "-Oz",
            "-std=c11",
            "-fno-strict-aliasing",
            "-DNAME_LEN=1",
            "-MD",
            "-MQ",
            "jump.o",
            "-MF",
            "jump.o.d",
        ],
    ),
    (
        "throw.cpp",
        &["-O2", "-std=c++17", "-fexceptions", "-DNDEBUG"],
    ),
];

/// Flags the wrapper adds to every compile, as a target's and recipe's cflags do.
const CFLAGS: &[&str] = &[
    "-O2",
    "-g0",
    "-fPIC",
    "-fwasm-exceptions",
    "-sSUPPORT_LONGJMP=wasm",
    "-DPY_CALL_TRAMPOLINE",
];

/// Runs the wrapper as `tool` in `dir`, with the fast path on or off.
fn wrapped(dir: &Path, tool: &str, args: &[&str], native: bool) -> Output {
    Command::new(dir.join(tool))
        .args(args)
        .current_dir(dir)
        .env("EMWHEEL_WRAPPER_CONFIG", dir.join("config.json"))
        .env("EMWHEEL_NATIVE_COMPILE", if native { "1" } else { "0" })
        .output()
        .unwrap()
}

/// How many logged calls the fast path ran.
fn native_calls(dir: &Path) -> usize {
    let log = std::fs::read_to_string(dir.join("calls.log")).unwrap_or_default();
    log.lines()
        .filter(|line| line.contains("\"native\":true"))
        .count()
}

/// A scratch directory with the sources, `cc`/`c++` links to emwheel and a wrapper config
/// whose native cache is its own.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    for (name, text) in SOURCES {
        std::fs::write(path.join(name), text).unwrap();
    }
    std::fs::create_dir(path.join("include dir")).unwrap();
    for tool in ["cc", "c++"] {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_emwheel"), path.join(tool)).unwrap();
    }
    let target = crate::common::test_home().join("targets");
    let include = walkdir_python_include(&target);
    let config = serde_json::json!({
        "emscripten_bin": toolchain_dir().join("bin"),
        "target_include": include,
        "host_include_dirs": [],
        "cflags": CFLAGS,
        "cxxflags": [],
        "ldflags": [],
        "exports": "pyinit",
        "work_dir": path,
        "log_file": path.join("calls.log"),
        "llvm_nm": null,
        "native_cache": path.join("native-cache"),
    });
    std::fs::write(path.join("config.json"), config.to_string()).unwrap();
    dir
}

/// The installed target's `include/python3.X`.
fn walkdir_python_include(targets: &Path) -> std::path::PathBuf {
    crate::common::ensure_target();
    walkdir::WalkDir::new(targets)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_name() == "Python.h")
        .map(|e| e.path().parent().unwrap().to_path_buf())
        .expect("no target with Python.h: run scripts/setup")
}

#[test]
fn native_compiles_are_byte_identical_to_emcc() {
    let dir = setup();
    let path = dir.path();
    for (index, (source, flags)) in CALLS.iter().enumerate() {
        let tool = if source.ends_with(".cpp") {
            "c++"
        } else {
            "cc"
        };
        let object = format!("{}.o", source.split('.').next().unwrap());
        let mut args: Vec<&str> = flags.to_vec();
        args.extend(["-c", source, "-o", &object]);
        let mut results = Vec::new();
        // emcc; the fast path learning (through emcc); the fast path running clang.
        for native in [false, true, true] {
            let output = wrapped(path, tool, &args, native);
            assert!(
                output.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(String::from_utf8_lossy(&output.stderr), "", "{args:?}");
            let depfile = std::fs::read(path.join("jump.o.d")).ok();
            results.push((std::fs::read(path.join(&object)).unwrap(), depfile));
            std::fs::remove_file(path.join(&object)).unwrap();
            let _ = std::fs::remove_file(path.join("jump.o.d"));
        }
        assert_eq!(
            native_calls(path),
            index + 1,
            "{args:?} did not take the fast path"
        );
        assert!(
            results[0] == results[1] && results[0] == results[2],
            "{args:?}: objects differ"
        );
    }
}

#[test]
fn native_compile_failure_reports_as_emcc() {
    let dir = setup();
    let path = dir.path();
    let args = ["-O2", "-c", "bad.c", "-o", "bad.o"];
    std::fs::write(path.join("bad.c"), "int f(void) { return 0; }\n").unwrap();
    assert!(wrapped(path, "cc", &args, true).status.success());
    std::fs::write(path.join("bad.c"), "int f(void) { return y; }\n").unwrap();
    let emcc = wrapped(path, "cc", &args, false);
    let native = wrapped(path, "cc", &args, true);
    assert_eq!(
        native_calls(path),
        1,
        "the failing call did not take the fast path"
    );
    assert_eq!(emcc.status.code(), Some(1));
    assert_eq!(native.status.code(), emcc.status.code());
    assert_eq!(
        String::from_utf8_lossy(&native.stderr),
        String::from_utf8_lossy(&emcc.stderr)
    );
    assert!(!path.join("bad.o").exists());
}

#[test]
fn native_path_leaves_what_it_does_not_know_to_emcc() {
    let dir = setup();
    let path = dir.path();
    for args in [
        &["-E", "jump.c", "-DNAME_LEN=1"][..],
        &[
            "-c",
            "jump.c",
            "-o",
            "jump.o",
            "-DNAME_LEN=1",
            "-sUSE_ZLIB=0",
        ][..],
        &["-c", "jump.c", "-DNAME_LEN=1"][..],
    ] {
        for _ in 0..2 {
            let output = wrapped(path, "cc", args, true);
            assert!(
                output.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    assert_eq!(native_calls(path), 0);
    assert!(!path.join("native-cache").exists());
}
