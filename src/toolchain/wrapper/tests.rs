//! Table-driven tests of the argument rewriting, and of the wrapper's config and logging.
use super::run::{error_chain, run_with_config};
use super::*;
use pretty_assertions::assert_eq;

const TARGET_INCLUDE: &str = "/usr/local/emwheel/cpython-3.13/include/python3.13";
const HOST_INCLUDE: &str = "/root/.pyenv/versions/3.13.0/include/python3.13";
const WORK_DIR: &str = "/build/work";
/// What `-sEXPORTED_FUNCTIONS=@<list>` reads as in the tables.
const EXPORTS_FLAG: &str = "-sEXPORTED_FUNCTIONS=@EXPORTS";
/// A 0.29.5 target's flags, as `target install` derives them (pyodide-build's defaults).
const CFLAGS: &str = "-O2 -g0 -fPIC -fwasm-exceptions -sSUPPORT_LONGJMP -I{T} -Oz";
const CXXFLAGS: &str = "-O2 -g0 -fPIC -fwasm-exceptions -sSUPPORT_LONGJMP -Oz";
const LDFLAGS: &str =
    "-O2 -g0 -sWASM_BIGINT -fwasm-exceptions -sSUPPORT_LONGJMP -sSIDE_MODULE=1 -Oz";

fn config() -> WrapperConfig {
    WrapperConfig {
        emscripten_bin: "/emsdk/bin".into(),
        target_include: TARGET_INCLUDE.into(),
        host_include_dirs: vec![HOST_INCLUDE.into()],
        cflags: expand(CFLAGS),
        cxxflags: expand(CXXFLAGS),
        ldflags: expand(LDFLAGS),
        exports: Exports::Pyinit,
        work_dir: WORK_DIR.into(),
        log_file: None,
        llvm_nm: None,
        library_prefix: None,
        native_cache: None,
    }
}

fn strings(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

/// Expands the table shorthands: `{T}` the target include dir, `{C}` / `{CXX}` what a C /
/// C++ compile gets added, `{SO}` what a shared link gets added.
fn expand(line: &str) -> Vec<String> {
    let errors = DECLARATION_ERRORS.join(" ");
    let c = format!("{errors} {CFLAGS} -I{{T}}");
    let cxx = format!("{errors} {CFLAGS} {CXXFLAGS} -I{{T}}");
    let so = format!(
        "-Wl,--experimental-pic -Wl,--fatal-warnings {LDFLAGS} -sSIDE_MODULE=2 {EXPORTS_FLAG}"
    );
    let line = line
        .replace("{CXX}", &cxx)
        .replace("{C}", &c)
        .replace("{SO}", &so);
    strings(&line.replace("{T}", TARGET_INCLUDE))
}

/// A rewrite as (program file name, arguments), the export list path shortened.
fn outcome(rewrite: Rewrite) -> (String, Vec<String>) {
    match rewrite {
        Rewrite::Run(invocation) => {
            let program = invocation
                .program
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into();
            let args = invocation
                .args
                .into_iter()
                .map(|a| shorten_exports(&a))
                .collect();
            (program, args)
        }
        Rewrite::Print(line) => ("print".into(), vec![line]),
        Rewrite::Skip => ("skip".into(), Vec::new()),
    }
}

fn shorten_exports(arg: &str) -> String {
    match arg.strip_prefix("-sEXPORTED_FUNCTIONS=@") {
        Some(path) => {
            assert_eq!(Path::new(path).parent(), Some(Path::new(WORK_DIR)));
            EXPORTS_FLAG.to_owned()
        }
        None => arg.to_owned(),
    }
}

fn rewrite_line(tool: &str, args: &str) -> Result<Rewrite, WrapperError> {
    rewrite(tool, &expand(args), &config())
}

#[test]
fn rewrites_calls() {
    let markupsafe_compile = "-fno-strict-overflow -Wsign-compare -DNDEBUG -g -O3 -Wall -fPIC \
        -I/root/.pyenv/versions/3.13.0/include/python3.13 -c src/markupsafe/_speedups.c -o build/temp/_speedups.o";
    let markupsafe_link = "-shared build/temp/_speedups.o -L/root/.pyenv/versions/3.13.0/lib \
        -o build/lib/markupsafe/_speedups.cpython-313-wasm32-emscripten.so";
    #[rustfmt::skip]
    let table: &[(&str, &str, &str, &str)] = &[
        // setuptools' MarkupSafe compile and link
        ("cc", markupsafe_compile, "emcc",
         "-Wsign-compare -DNDEBUG -g -O3 -Wall -fPIC -I{T} -c src/markupsafe/_speedups.c -o build/temp/_speedups.o {C}"),
        ("cc", markupsafe_link, "emcc",
         "-shared build/temp/_speedups.o -o build/lib/markupsafe/_speedups.cpython-313-wasm32-emscripten.so {SO}"),
        // tool mapping
        ("gcc", "-c a.c", "emcc", "-c a.c {C}"),
        ("clang", "-S a.c -o a.s", "emcc", "-S a.c -o a.s {C}"),
        ("cc", "-E -dM -", "emcc", "-E -dM - {C}"),
        ("c++", "-c a.cpp -o a.o", "em++", "-c a.cpp -o a.o {CXX}"),
        ("g++", "-c a.cc", "em++", "-c a.cc {CXX}"),
        ("clang++", "-c a.cxx", "em++", "-c a.cxx {CXX}"),
        ("cc", "-c src/a.cpp -o a.o", "em++", "-c src/a.cpp -o a.o {CXX}"),
        ("ld", "-shared a.o -o m.so", "emcc", "-shared a.o -o m.so {SO}"),
        ("ar", "rcs libx.a a.o b.o", "emar", "rcs libx.a a.o b.o"),
        ("ranlib", "libx.a", "emranlib", "libx.a"),
        ("strip", "--strip-unneeded m.so", "emstrip", "--strip-unneeded m.so"),
        ("install_name_tool", "-id x m.so", "skip", ""),
        ("otool", "-L m.so", "skip", ""),
        // probes go through unchanged
        ("cc", "--version", "emcc", "--version"),
        ("cc", "-dumpversion", "emcc", "-dumpversion"),
        ("cc", "-v", "emcc", "-v"),
        ("cc", "-pthread -print-search-dirs", "emcc", "-pthread -print-search-dirs"),
        ("c++", "-print-file-name=libstdc++.so", "em++", "-print-file-name=libstdc++.so"),
        ("cc", "-print-multiarch", "print", "wasm32-emscripten"),
        // executables and partial links stay plain links
        ("cc", "conftest.c -o conftest -pthread -lm", "emcc", "conftest.c -o conftest -lm"),
        ("cc", "conftest.o", "emcc", "conftest.o"),
        ("ld", "-r a.o b.o -o combined.o", "emcc", "-r a.o b.o -o combined.o"),
        ("cc", "a.o -Xlinker --gc-sections -o prog", "emcc", "a.o -Xlinker --gc-sections -o prog"),
        // host-only flags
        ("cc", "-c a.c -pthread -march=native -mtune=generic -mpopcnt -msse4.2 -mssse3 -mavx2 -mno-sse2 \
                -mfpmath=sse -fstack-protector-strong -fstack-clash-protection -ffile-prefix-map=/b=. \
                -fcf-protection -fno-strict-overflow -m64 -static-libgcc -shared-libgcc -Jmod",
         "emcc", "-c a.c {C}"),
        // x86 SIMD flags emcc emulates stay when the call turns on wasm SIMD
        ("cc", "-c a.c -msimd128 -msse2 -mssse3 -mavx2 -mno-sse2", "emcc", "-c a.c -msimd128 -msse2 -mssse3 {C}"),
        // system headers go, the target's stay even under /usr, host Python's are mapped
        ("cc", "-c a.c -I/usr/include -I/usr/local/include -I /usr/include/freetype2 \
                -isystem /usr/local/include -Iinclude -I{T}",
         "emcc", "-c a.c -Iinclude -I{T} {C}"),
        ("cc", "-c a.c -I /root/.pyenv/versions/3.13.0/include/python3.13 -isystem/opt/py/include/python3.12 \
                -I/root/.pyenv/versions/3.13.0/include/python3.13/internal -iquote /usr/include/python3.13t",
         "emcc", "-c a.c -I {T} -isystem{T} -I{T}/internal -iquote {T} {C}"),
        // host library dirs go, the target's and the package's stay
        ("cc", "-shared a.o -o m.so -L/usr/lib -L/usr/lib/x86_64-linux-gnu -L /lib64 \
                -L/root/.pyenv/versions/3.13.0/lib/python3.13/config-3.13-x86_64-linux-gnu \
                -L/usr/local/emwheel/cpython-3.13/lib -Lbuild/lib",
         "emcc", "-shared a.o -o m.so -L/usr/local/emwheel/cpython-3.13/lib -Lbuild/lib {SO}"),
        // libraries: no ffi or gfortran, each once
        ("cc", "-shared a.o -o m.so -lz -lffi -lgfortran -lz -l z -lm", "emcc", "-shared a.o -o m.so -lz -lm {SO}"),
        // -Wl, lists lose what wasm-ld rejects, pairs included
        ("cc", "-shared a.o -o m.so -Wl,-O1,--as-needed,--sort-common -Wl,-Bsymbolic-functions \
                -Wl,-z,relro,-z,now,-z,stack-size=65536 -Wl,--version-script=v.map -Wl,--sysroot=/ \
                -Wl,-rpath,/opt/lib,--gc-sections -Wl,-rpath -Wl,/opt/lib -Wl,--no-undefined \
                -Wl,-R/opt -Wl,--exclude-libs,ALL -Wl,--strip-all,--enable-new-dtags",
         "emcc", "-shared a.o -o m.so -Wl,-O1 -Wl,-z,stack-size=65536 -Wl,--gc-sections {SO}"),
        // macOS and conda leftovers
        ("cc", "-bundle -undefined dynamic_lookup a.o -o m.so", "emcc", "a.o -o m.so {SO}"),
        ("cc", "-B /opt/conda/compiler_compat -B/opt/conda/compiler_compat -shared a.o -o m.so -Bsymbolic-functions",
         "emcc", "-shared a.o -o m.so {SO}"),
        // a shared object by its name alone, or linked from a response file
        ("cc", "a.o -o libfoo.so.1.2", "emcc", "a.o -o libfoo.so.1.2 {SO}"),
        ("cc", "-shared @objects.rsp -o m.so", "emcc", "-shared @objects.rsp -o m.so {SO}"),
    ];
    for (tool, args, program, expected) in table {
        let actual = outcome(rewrite_line(tool, args).unwrap());
        let expected = (program.to_string(), expand(expected));
        assert_eq!(actual, expected, "`{tool} {args}`");
    }
}

fn export_list(exports: Exports, args: &str) -> Result<Option<ExportList>, WrapperError> {
    let config = WrapperConfig {
        exports,
        ..config()
    };
    match rewrite("cc", &strings(args), &config)? {
        Rewrite::Run(invocation) => Ok(invocation.export_list),
        other => panic!("`{args}` should run, not {other:?}"),
    }
}

#[test]
fn names_exports() {
    let pid = std::process::id();
    let explicit = Exports::Explicit(strings("foo PyInit_bar"));
    #[rustfmt::skip]
    let table: &[(Exports, &str, &str, &str)] = &[
        (Exports::Pyinit, "-shared a.o -o build/_speedups.cpython-313-wasm32-emscripten.so",
         "_speedups.cpython-313-wasm32-emscripten.so", "_PyInit__speedups"),
        (Exports::Pyinit, "a.o -o libfoo.so.1", "libfoo.so.1", "_PyInit_libfoo"),
        (explicit.clone(), "-shared a.o -o m.so", "m.so", "_foo _PyInit_bar"),
        (explicit, "-shared a.o", "a.out", "_foo _PyInit_bar"),
        (Exports::Requested, "-shared src.c -o m.so", "m.so", ""),
    ];
    for (exports, args, output_name, symbols) in table {
        let expected = ExportList {
            path: Path::new(WORK_DIR).join(format!("exports-{pid}-{output_name}.json")),
            symbols: strings(symbols),
        };
        assert_eq!(
            export_list(exports.clone(), args).unwrap(),
            Some(expected),
            "`{args}`"
        );
    }
}

#[test]
fn library_prefix_goes_after_the_call_own_dirs() {
    let prefix = "/usr/local/libraries/0.29.5";
    let config = WrapperConfig {
        library_prefix: Some(prefix.into()),
        ..config()
    };
    #[rustfmt::skip]
    let table = [
        ("-c a.c -Iinc", "-c a.c -Iinc {C} -I{P}/include"),
        ("-c a.c -I{P}/include/yaml", "-c a.c -I{P}/include/yaml {C} -I{P}/include"),
        ("-shared a.o -o m.so -lyaml -L{P}/lib", "-shared a.o -o m.so -lyaml -L{P}/lib -L{P}/lib {SO}"),
        ("conftest.c -o conftest -lyaml", "conftest.c -o conftest -lyaml -L{P}/lib"),
        ("--version", "--version"),
    ];
    for (args, expected) in table {
        let args = expand(&args.replace("{P}", prefix));
        let rewritten = rewrite("cc", &args, &config).unwrap();
        let expected = expand(&expected.replace("{P}", prefix));
        assert_eq!(outcome(rewritten), ("emcc".into(), expected), "{args:?}");
    }
}

#[test]
fn whole_archive_is_side_module_1_without_list() {
    let config = WrapperConfig {
        exports: Exports::WholeArchive,
        ..config()
    };
    let rewrite = rewrite("cc", &strings("-shared a.o -o m.so"), &config).unwrap();
    let expected = format!(
        "-shared a.o -o m.so -Wl,--experimental-pic -Wl,--fatal-warnings {LDFLAGS} -sSIDE_MODULE=1"
    );
    assert_eq!(outcome(rewrite), ("emcc".into(), strings(&expected)));
}

/// The last argument of `args` that starts with `prefix`: the one clang and emcc go by for
/// `-O` and `-g`.
fn last_with<'a>(args: &'a [String], prefix: &str) -> &'a str {
    let found = args.iter().rev().find(|a| a.starts_with(prefix));
    found.map(String::as_str).unwrap_or("none")
}

#[test]
fn configured_optimization_and_debug_flags_win_over_the_packages() {
    // setuptools compiles with the target's sysconfig CFLAGS (`-g -O3 … -O2 -g0 …`); as in
    // pywasmcross nothing is removed, and the configured flags come last.
    let compile = "-DNDEBUG -g -O3 -Wall -O2 -g0 -fPIC -c a.c -o a.o";
    let link = "-shared a.o -O3 -g -o m.so";
    let with_recipe = |cflags: &str, cxxflags: &str, ldflags: &str| {
        let mut config = config();
        config.cflags.extend(strings(cflags));
        config.cxxflags.extend(strings(cxxflags));
        config.ldflags.extend(strings(ldflags));
        config
    };
    #[rustfmt::skip]
    let table = [
        // (recipe cflags, cxxflags, ldflags), tool, call, last -O, last -g
        (("", "", ""), "cc", compile, "-Oz", "-g0"),
        (("", "", ""), "c++", compile, "-Oz", "-g0"),
        (("", "", ""), "cc", link, "-Oz", "-g0"),
        // A recipe's flags come after the defaults, and C++ compiles get `cxxflags` after the
        // recipe's `cflags`, as pyodide-build gives them: `-O3` in `cflags` is C only.
        (("-O3 -g2", "", "-O1"), "cc", compile, "-O3", "-g2"),
        (("-O3", "", ""), "c++", compile, "-Oz", "-g0"),
        (("-O3", "-O1", ""), "c++", compile, "-O1", "-g0"),
        (("", "", "-O1"), "cc", link, "-O1", "-g0"),
    ];
    for ((cflags, cxxflags, ldflags), tool, call, opt, debug) in table {
        let config = with_recipe(cflags, cxxflags, ldflags);
        let (_, args) = outcome(rewrite(tool, &strings(call), &config).unwrap());
        let seen = (last_with(&args, "-O"), last_with(&args, "-g"));
        assert_eq!(
            seen,
            (opt, debug),
            "`{tool} {call}` with {cflags:?} {cxxflags:?} {ldflags:?}"
        );
    }
}

#[test]
fn a_recipes_wasm_simd_flag_keeps_the_x86_simd_flags_emcc_emulates() {
    // argon2-cffi-bindings compiles its SSE2 code with `-msse2` on x86 hosts; Pyodide's recipe
    // gives `cflags: -mrelaxed-simd` so that emcc maps SSE2 onto wasm SIMD.
    let mut config = config();
    config.cflags.push("-mrelaxed-simd".to_owned());
    let (_, args) =
        outcome(rewrite("cc", &strings("-c opt.c -msse2 -march=native"), &config).unwrap());
    assert!(args.contains(&"-msse2".to_owned()), "{args:?}");
    assert!(!args.iter().any(|a| a.starts_with("-march")), "{args:?}");
}

#[test]
fn pyinit_needs_an_output() {
    let error = export_list(Exports::Pyinit, "-shared a.o").unwrap_err();
    assert_eq!(
        error.to_string(),
        "shared link has no `-o` output to name its `PyInit_` export after"
    );
}

#[test]
fn rejects_openmp_and_unknown_tools() {
    let error = rewrite_line("cc", "-c a.c -fopenmp").unwrap_err();
    assert_eq!(
        error.to_string(),
        "`-fopenmp` is not supported: openmp needs threads, which the target does not have"
    );
    let error = rewrite_line("gfortran", "-c a.f").unwrap_err();
    assert_eq!(
        error.to_string(),
        "`gfortran` is not a tool the wrapper handles"
    );
}

#[test]
fn wrapped_tools_all_rewrite() {
    for tool in WRAPPED_TOOLS {
        assert!(is_wrapped_tool(tool));
        assert!(rewrite_line(tool, "--version").is_ok(), "{tool}");
    }
    assert!(!is_wrapped_tool("python3"));
}

#[test]
fn missing_config_variable_is_explained() {
    for value in [None, Some(OsString::new())] {
        let error = WrapperConfig::from_variable(value).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`EMWHEEL_WRAPPER_CONFIG` is not set; `cc`, `ar` and the other wrapped tools only work inside an emwheel build"
        );
    }
    if std::env::var_os(CONFIG_VARIABLE).is_none() {
        assert_eq!(run_as_wrapper("cc", strings("--version")), 1);
    }
}

#[test]
fn bad_config_files_name_their_path() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let missing = dir.join("missing.json");
    let message = error_chain(&WrapperConfig::load(&missing).unwrap_err());
    assert!(
        message.starts_with("could not read the wrapper config: "),
        "{message}"
    );
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );
    let broken = dir.join("broken.json");
    fs_err::write(&broken, "{").unwrap();
    let message = WrapperConfig::load(&broken).unwrap_err().to_string();
    assert_eq!(
        message,
        format!("wrapper config `{}` is invalid", broken.display())
    );
}

#[test]
fn config_round_trips_with_kebab_case_exports() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let path = dir.join("config.json");
    for exports in [Exports::WholeArchive, Exports::Explicit(strings("f"))] {
        let config = WrapperConfig {
            exports,
            ..config()
        };
        config.write(&path).unwrap();
        assert_eq!(WrapperConfig::load(&path).unwrap(), config);
    }
    let json: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["exports"], serde_json::json!({"explicit": ["f"]}));
    assert_eq!(
        serde_json::to_value(Exports::WholeArchive).unwrap(),
        "whole-archive"
    );
}

#[cfg(unix)]
fn write_script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    fs_err::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn requested_exports_come_from_nm() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let nm = dir.join("llvm-nm");
    write_script(
        &nm,
        &format!(
            "echo \"$@\" > {}/args\nprintf 'PyInit_m\\nhelper\\n'",
            dir.display()
        ),
    );
    let config = WrapperConfig {
        exports: Exports::Requested,
        llvm_nm: Some(nm.clone()),
        ..config()
    };
    let args = strings("-shared a.o libb.a @more.rsp src.c -o m.so");
    let Rewrite::Run(invocation) = rewrite("cc", &args, &config).unwrap() else {
        panic!()
    };
    assert_eq!(
        invocation.export_list.unwrap().symbols,
        strings("_PyInit_m _helper")
    );
    let nm_args = fs_err::read_to_string(dir.join("args")).unwrap();
    assert_eq!(nm_args, "-j --export-symbols a.o libb.a @more.rsp\n");

    write_script(&nm, "echo boom >&2; exit 2");
    let error = rewrite("cc", &args, &config).unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "`{}` failed listing exports (exit status: 2): boom",
            nm.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn runs_writes_exports_and_logs() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    write_script(
        &dir.join("emcc"),
        &format!("echo \"$@\" > {}/emcc-args\nexit 3", dir.display()),
    );
    let config = WrapperConfig {
        emscripten_bin: dir.to_path_buf(),
        work_dir: dir.to_path_buf(),
        log_file: Some(dir.join("calls.log")),
        ..config()
    };
    assert_eq!(
        run_with_config("cc", &strings("-shared a.o -o m.so"), &config),
        3
    );
    assert_eq!(
        run_with_config("cc", &strings("-fopenmp -c a.c"), &config),
        1
    );

    let list = dir.join(format!("exports-{}-m.so.json", std::process::id()));
    assert_eq!(fs_err::read_to_string(&list).unwrap(), r#"["_PyInit_m"]"#);
    let emcc_args = fs_err::read_to_string(dir.join("emcc-args")).unwrap();
    assert!(
        emcc_args.ends_with(&format!("-sEXPORTED_FUNCTIONS=@{}\n", list.display())),
        "{emcc_args}"
    );

    let log = fs_err::read_to_string(dir.join("calls.log")).unwrap();
    let entries: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0]["args"],
        serde_json::json!(["-shared", "a.o", "-o", "m.so"])
    );
    assert_eq!(
        entries[0]["rewritten"][0],
        dir.join("emcc").display().to_string()
    );
    assert_eq!(entries[0]["exit_code"], 3);
    assert!(entries[0]["seconds"].is_f64());
    assert_eq!(entries[1]["exit_code"], 1);
    assert_eq!(
        entries[1]["error"],
        "`-fopenmp` is not supported: openmp needs threads, which the target does not have"
    );
}

#[test]
fn spots_python_include_dirs() {
    for (dir, expected) in [
        ("/opt/py/include/python3.12", true),
        ("/usr/include/python3.13t", true),
        ("/opt/py/include/python3", false),
        ("/opt/py/lib/python3.12", false),
        ("/opt/py/include/pythonx.12", false),
    ] {
        assert_eq!(is_python_include_dir(Path::new(dir)), expected, "{dir}");
    }
}
