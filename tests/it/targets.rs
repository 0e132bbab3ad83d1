//! Every supported Pyodide as a target: 314.0.7 (Python 3.14, built from a 3.13 host in
//! cross-version mode on machines without 3.14) and 0.27.7 (JavaScript C++ exceptions) build
//! the shipped recipes, which pass in the real Pyodide of that version; choosing, listing and
//! removing targets; `config get`; Pyodide's own xbuildenv layout; and bad input.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::common::{
    assert_success, assert_user_error, build_for, emwheel, emwheel_in, ensure_target,
    ensure_version, fresh_home, repo, test_home, TARGET,
};

const RECIPES: [&str; 4] = [
    "recipes/markupsafe",
    "recipes/six",
    "recipes/attrs",
    "tests/fixtures/cxx-ext",
];

/// Builds every shipped recipe for `version`, checks the wheel names, and runs the recipes'
/// tests in that Pyodide (markupsafe's asserts that `_speedups` is the compiled module, the
/// C++ fixture's that a C++ exception is caught).
fn shipped_recipes_pass_on(version: &str, python_tag: &str, platform_tag: &str) {
    ensure_version(version);
    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let wheels: Vec<String> = RECIPES
        .iter()
        .map(|recipe| build_for(&repo().join(recipe), out.path(), &["--target", version]))
        .map(|wheel| wheel.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    eprintln!(
        "{version}: built {} recipes in {:.1?}",
        RECIPES.len(),
        started.elapsed()
    );
    let native = format!("{python_tag}-{python_tag}-{platform_tag}");
    assert_eq!(
        wheels,
        [
            format!("markupsafe-2.1.5-{native}.whl"),
            "six-1.17.0-py2.py3-none-any.whl".to_string(),
            "attrs-25.3.0-py3-none-any.whl".to_string(),
            format!("cxx_ext-1.0.0-{native}.whl"),
        ]
    );
    let output = emwheel()
        .arg("test")
        .args(RECIPES.map(|recipe| repo().join(recipe)))
        .arg("--dist")
        .arg(out.path())
        .args(["--target", version])
        .output()
        .unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches(": passed in").count(), 4, "{stderr}");
    assert!(
        stderr.contains(&format!("in Pyodide {version}")),
        "{stderr}"
    );
}

#[test]
fn shipped_recipes_pass_on_pyodide_314() {
    shipped_recipes_pass_on("314.0.7", "cp314", "pyemscripten_2026_0_wasm32");
}

#[test]
fn shipped_recipes_pass_on_pyodide_0_27() {
    shipped_recipes_pass_on("0.27.7", "cp312", "pyodide_2024_0_wasm32");
}

#[test]
fn cross_version_builds_say_so_and_record_the_host() {
    ensure_version("314.0.7");
    let out = tempfile::tempdir().unwrap();
    let output = emwheel()
        .arg("build")
        .arg(repo().join("recipes/markupsafe"))
        .arg("-o")
        .arg(out.path())
        .args(["--target", "314.0.7", "--allow-emcc-mismatch"])
        .output()
        .unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let host = config_get(&emwheel(), "host_python_version", "314.0.7");
    assert_ne!(
        host, "3.14",
        "this machine was expected to have no Python 3.14"
    );
    assert!(
        stderr.contains(&format!(
            "warning: target 314.0.7 is Python 3.14, but build backends run on host Python {host}"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("cross-version mode"), "{stderr}");
    let list = stdout(&emwheel().args(["target", "list"]).output().unwrap());
    let line = list.lines().find(|l| l.starts_with("314.0.7\t")).unwrap();
    assert!(
        line.contains(&format!("host Python {host} (cross-version)")),
        "{list}"
    );
}

fn stdout(output: &std::process::Output) -> String {
    assert_success(output);
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// `emwheel config get KEY [--target TARGET]` with `command`'s program and environment.
fn config_get(command: &std::process::Command, key: &str, target: &str) -> String {
    let mut get = std::process::Command::new(command.get_program());
    get.envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))));
    get.args(["config", "get", key]);
    if !target.is_empty() {
        get.args(["--target", target]);
    }
    stdout(&get.output().unwrap()).trim().to_string()
}

#[test]
fn config_get_prints_one_value_for_scripts() {
    ensure_version("314.0.7");
    ensure_version("0.27.7");
    let get = |key: &str, target: &str| config_get(&emwheel(), key, target);
    assert_eq!(get("python_version", "314.0.7"), "3.14.2");
    assert_eq!(get("emscripten_version", "314.0.7"), "5.0.3");
    assert_eq!(get("abi_version", "314.0.7"), "2026_0");
    assert_eq!(get("platform_tag", "314.0.7"), "pyemscripten_2026_0_wasm32");
    assert_eq!(
        get("ext_suffix", "314.0.7"),
        ".cpython-314-wasm32-emscripten.so"
    );
    let include = PathBuf::from(get("include_dir", "314.0.7"));
    assert!(include.join("Python.h").is_file(), "{}", include.display());
    assert!(Path::new(&get("runtime_dir", "314.0.7"))
        .join("pyodide.mjs")
        .is_file());
    let cflags_314 = get("cflags", "314.0.7");
    assert!(cflags_314.contains(" -fwasm-exceptions "), "{cflags_314}");
    assert!(cflags_314.ends_with(" -Oz"), "{cflags_314}");
    // pyodide-build's defaults, with JavaScript exceptions for C++ before ABI 2025_0.
    let cflags_027 = format!("-O2 -g0 -fPIC -I{} -Oz", get("include_dir", "0.27.7"));
    assert_eq!(get("cflags", "0.27.7"), cflags_027);
    assert_eq!(
        get("cxxflags", "0.27.7"),
        format!("{cflags_027} -O2 -g0 -fPIC -Oz -fexceptions")
    );
    assert_eq!(
        get("ldflags", "0.27.7"),
        "-O2 -g0 -sWASM_BIGINT -fexceptions -sSIDE_MODULE=1 -Oz"
    );
    assert_eq!(get("platform_tag", "0.27.7"), "pyodide_2024_0_wasm32");
    let output = emwheel()
        .args(["config", "get", "cflag", "--target", "314.0.7"])
        .output()
        .unwrap();
    let stderr = assert_user_error(&output);
    assert!(stderr.contains("unknown config key `cflag`"), "{stderr}");
    assert!(stderr.contains("did you mean `cflags`?"), "{stderr}");
    assert!(stderr.contains("python_version"), "{stderr}");
    assert!(output.stdout.is_empty());
}

/// The runtime of a target installed in the shared home, as a distribution directory.
fn runtime_of(version: &str) -> PathBuf {
    ensure_version(version);
    test_home().join("targets").join(version).join("runtime")
}

#[test]
fn targets_are_listed_chosen_and_removed() {
    let home = fresh_home();
    for version in ["0.29.5", "0.27.7"] {
        let output = emwheel_in(home.path())
            .args(["target", "install"])
            .arg(runtime_of(version))
            .output()
            .unwrap();
        assert_success(&output);
    }
    let list = || {
        stdout(
            &emwheel_in(home.path())
                .args(["target", "list"])
                .output()
                .unwrap(),
        )
    };
    // No `--target`: the default target.
    let python = || config_get(&emwheel_in(home.path()), "python_version", "");
    let first = list();
    assert!(
        first.starts_with("0.29.5\tPython 3.13.2"),
        "newest first:\n{first}"
    );
    assert!(
        first.lines().next().unwrap().ends_with("(default)"),
        "{first}"
    );
    assert_success(
        &emwheel_in(home.path())
            .args(["target", "use", "0.27.7"])
            .output()
            .unwrap(),
    );
    let chosen = list();
    let line = chosen.lines().find(|l| l.starts_with("0.27.7\t")).unwrap();
    assert!(line.ends_with("(default)"), "{chosen}");
    assert_eq!(chosen.matches("(default)").count(), 1, "{chosen}");
    assert_eq!(python(), "3.12.7");
    let output = emwheel_in(home.path())
        .args(["target", "remove", "0.27.7"])
        .output()
        .unwrap();
    assert_success(&output);
    assert!(!home.path().join("targets/0.27.7").exists());
    assert_eq!(python(), "3.13.2", "the newest is the default again");
    let output = emwheel_in(home.path())
        .args(["target", "remove", "0.27.7"])
        .output()
        .unwrap();
    let stderr = assert_user_error(&output);
    assert!(
        stderr.contains("target `0.27.7` is not installed (installed: 0.29.5)"),
        "{stderr}"
    );
    let output = emwheel_in(home.path())
        .args(["target", "use", "9.9.9"])
        .output()
        .unwrap();
    assert!(assert_user_error(&output).contains("`9.9.9` is not installed"));
}

#[test]
fn platform_tag_override_is_used_and_shown() {
    let home = fresh_home();
    let install = |tag: &str| {
        emwheel_in(home.path())
            .args(["target", "install", "--platform-tag", tag])
            .arg(runtime_of(TARGET))
            .output()
            .unwrap()
    };
    let stderr = assert_user_error(&install("pyemscripten-2099"));
    assert!(
        stderr.contains("`pyemscripten-2099` is not a wasm32 wheel platform tag"),
        "{stderr}"
    );
    assert!(!home.path().join("targets").join(TARGET).exists());
    assert_success(&install("pyemscripten_2099_0_wasm32"));
    let tag = config_get(&emwheel_in(home.path()), "platform_tag", TARGET);
    assert_eq!(tag, "pyemscripten_2099_0_wasm32");
    let list = stdout(
        &emwheel_in(home.path())
            .args(["target", "list"])
            .output()
            .unwrap(),
    );
    assert!(
        list.contains("pyemscripten_2099_0_wasm32 (override)"),
        "{list}"
    );
}

const MAKEFILE_ENVS: &str = "export PYVERSION ?= 3.13.2
export PYODIDE_EMSCRIPTEN_VERSION ?= 4.0.9
export PYODIDE_VERSION ?= 0.29.5
export PYODIDE_ABI_VERSION ?= 2025_0
export DBGFLAGS_NODEBUG=-g0
export DBGFLAGS=$(DBGFLAGS_NODEBUG)
ifdef PYODIDE_SYMBOLS
\texport DBGFLAGS=-g2
endif
export OPTFLAGS=-O2
export CFLAGS_BASE=\\
\t$(OPTFLAGS) \\
\t$(DBGFLAGS) \\
\t-fPIC \\
\t-fwasm-exceptions \\
\t-sSUPPORT_LONGJMP=wasm \\
\t$(EXTRA_CFLAGS)
";

/// An xbuildenv archive in Pyodide's layout, assembled from the installed 0.29.5 target.
fn xbuildenv_archive(dir: &Path) -> PathBuf {
    ensure_target();
    let target = test_home().join("targets").join(TARGET);
    let add = |builder: &mut tar::Builder<_>, name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("xbuildenv/{name}"), bytes)
            .unwrap();
    };
    let archive = dir.join("xbuildenv-0.29.5.tar.gz");
    let file = std::fs::File::create(&archive).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(file, Default::default()));
    let install = "pyodide-root/cpython/installs/python-3.13.2";
    add(&mut builder, "requirements.txt", b"cffi==2.0.0\n");
    add(
        &mut builder,
        "site-packages-extras/README",
        b"cross-build package files\n",
    );
    add(
        &mut builder,
        "pyodide-root/Makefile.envs",
        MAKEFILE_ENVS.as_bytes(),
    );
    add(&mut builder, "pyodide-root/package.json", b"{}\n");
    let lock = std::fs::read(target.join("runtime/pyodide-lock.json")).unwrap();
    add(&mut builder, "pyodide-root/dist/pyodide-lock.json", &lock);
    let sysconfig = "_sysconfigdata__emscripten_wasm32-emscripten.py";
    let data = std::fs::read(target.join("sysconfig").join(sysconfig)).unwrap();
    add(
        &mut builder,
        &format!("{install}/sysconfigdata/{sysconfig}"),
        &data,
    );
    let include = target.join("cpython/installs/python-3.13.2/include");
    builder
        .append_dir_all(format!("xbuildenv/{install}/include"), include)
        .unwrap();
    builder.into_inner().unwrap().finish().unwrap();
    archive
}

#[test]
fn pyodide_xbuildenv_archive_builds_and_tests() {
    let scratch = tempfile::tempdir().unwrap();
    let archive = xbuildenv_archive(scratch.path());
    let digest = sha256_hex(&archive);
    let home = fresh_home();
    let install_with = |sha256: &str, runtime: &str| {
        emwheel_in(home.path())
            .args(["target", "install", "--xbuildenv"])
            .arg(&archive)
            .args(["--sha256", sha256])
            .arg(runtime_of(runtime))
            .output()
            .unwrap()
    };
    let install = |sha256: &str| install_with(sha256, TARGET);
    let stderr = assert_user_error(&install_with(&digest, "0.27.7"));
    assert!(
        stderr.contains("the cross-build environment is for Python 3.13.2 on emscripten_4_0_9 (ABI 2025_0), the runtime for Python 3.12.7"),
        "{stderr}"
    );
    let wrong = "0".repeat(64);
    let stderr = assert_user_error(&install(&wrong));
    assert!(
        stderr.contains(&format!("has sha256 {digest}, but `--sha256` says {wrong}")),
        "{stderr}"
    );
    let targets = home.path().join("targets");
    // The lock file (`.lock`) serializes installs; no target may be left.
    let leftovers: Vec<_> = std::fs::read_dir(&targets)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .filter(|name| name != ".lock")
        .collect();
    assert!(
        leftovers.is_empty(),
        "nothing is installed on a mismatch: {leftovers:?}"
    );
    assert_success(&install(&digest));
    let get = |key: &str| config_get(&emwheel_in(home.path()), key, TARGET);
    assert_eq!(
        get("cflags"),
        format!(
            "-O2 -g0 -fPIC -fwasm-exceptions -sSUPPORT_LONGJMP=wasm -I{} -Oz",
            get("include_dir")
        )
    );
    assert_eq!(get("headers_from"), archive.display().to_string());
    let out = scratch.path().join("dist");
    let output = emwheel_in(home.path())
        .arg("build")
        .arg(repo().join("recipes/markupsafe"))
        .arg("-o")
        .arg(&out)
        .arg("--allow-emcc-mismatch")
        .output()
        .unwrap();
    assert_success(&output);
    let output = emwheel_in(home.path())
        .arg("test")
        .arg(repo().join("recipes/markupsafe"))
        .arg("--dist")
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&output);
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn distribution_without_a_readable_lockfile_is_refused() {
    let home = fresh_home();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("package.json"), r#"{"version": "0.29.5"}"#).unwrap();
    let install = || {
        emwheel_in(home.path())
            .args(["target", "install"])
            .arg(dist.path())
            .output()
            .unwrap()
    };
    let stderr = assert_user_error(&install());
    assert!(stderr.contains("has no pyodide-lock.json"), "{stderr}");
    std::fs::write(dist.path().join("pyodide-lock.json"), "{\"info\": ").unwrap();
    let stderr = assert_user_error(&install());
    assert!(
        stderr.contains("pyodide-lock.json` is not valid JSON"),
        "{stderr}"
    );
    std::fs::write(dist.path().join("pyodide-lock.json"), r#"{"packages": {}}"#).unwrap();
    let stderr = assert_user_error(&install());
    assert!(stderr.contains("has no `info.python`"), "{stderr}");
    assert!(!home.path().join("targets/0.29.5").exists());
}

#[test]
fn a_wheel_for_another_target_is_refused_before_pyodide_starts() {
    ensure_version("314.0.7");
    let out = tempfile::tempdir().unwrap();
    let wheel = build_for(
        &repo().join("recipes/markupsafe"),
        out.path(),
        &["--target", TARGET],
    );
    let output = emwheel()
        .arg("test")
        .arg(&wheel)
        .args(["--target", "314.0.7"])
        .output()
        .unwrap();
    let stderr = assert_user_error(&output);
    assert!(
        stderr.contains("`--target 314.0.7` is `cp314-pyemscripten_2026_0_wasm32`, but the input is for `cp313-pyemscripten_2025_0_wasm32`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("testing"),
        "Pyodide must not start:\n{stderr}"
    );
}
