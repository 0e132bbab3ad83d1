//! Several toolchains side by side: Pyodide 315 built with the emcc it was made with (6.0.5,
//! from `scripts/setup`) in strict mode and tested in Pyodide 315; `toolchain list`, `target
//! list` and `doctor` on exactness and damage; `toolchain install` from a local emsdk
//! repository; and the target an input names.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::common::{assert_success, assert_user_error, emwheel, repo, toolchain_dir};

/// The Pyodide built with the emcc `scripts/setup` unpacks from Debian sid.
const EXACT: &str = "315.0.0-alpha.2";

/// The shipped C and C++ recipes built for 315 in CI (with the libraries they link). numpy,
/// bottleneck and pywavelets are left out for time: numpy alone takes longer than the rest.
const C_RECIPES: &[&str] = &[
    "markupsafe",
    "msgpack",
    "pyyaml",
    "tree-sitter",
    "tree-sitter-json",
    "ujson",
    "xxhash",
];

/// An emwheel home holding the toolchains and host Pythons `scripts/setup` installed (linked),
/// its own targets, sources and build environments (kept across runs under Cargo's target
/// dir). Missing setup pieces fail the test.
fn exact_home() -> PathBuf {
    let home = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("emwheel-home-exact");
    static LINKED: OnceLock<()> = OnceLock::new();
    LINKED.get_or_init(|| {
        let setup = toolchain_dir().parent().unwrap().to_path_buf();
        let emcc = setup.join("toolchains/6.0.5/bin/emcc");
        assert!(
            emcc.is_file(),
            "{} missing: run scripts/setup",
            emcc.display()
        );
        std::fs::create_dir_all(&home).unwrap();
        for name in ["toolchain", "toolchains", "pythons"] {
            let link = home.join(name);
            if std::fs::symlink_metadata(&link).is_err() {
                std::os::unix::fs::symlink(setup.join(name), &link).unwrap();
            }
        }
    });
    home
}

/// `emwheel` in [`exact_home`], finding toolchains on its own (no `EMSDK`) and with the
/// mismatch override switched off.
fn emwheel_exact() -> Command {
    let mut command = emwheel();
    command
        .env("EMWHEEL_HOME", exact_home())
        .env_remove("EMSDK")
        .env("EMWHEEL_ALLOW_EMCC_MISMATCH", "0");
    command
}

/// Installs Pyodide `version` in [`exact_home`] once per test run; 315 is the default.
fn ensure_exact_target(version: &str) {
    static INSTALLED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    let set = installed.get_or_insert_with(HashSet::new);
    if set.is_empty() {
        let output = emwheel_exact().args(["target", "install", EXACT]).output();
        assert_success(&output.unwrap());
        let output = emwheel_exact().args(["target", "use", EXACT]).output();
        assert_success(&output.unwrap());
        set.insert(EXACT.to_string());
    }
    if set.insert(version.to_string()) {
        let output = emwheel_exact()
            .args(["target", "install", version])
            .output();
        assert_success(&output.unwrap());
    }
}

fn stdout(output: &std::process::Output) -> String {
    assert_success(output);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn pyodide_315_builds_strictly_with_its_own_emcc_and_passes() {
    ensure_exact_target(EXACT);
    let list = stdout(&emwheel_exact().args(["target", "list"]).output().unwrap());
    let line = list.lines().find(|l| l.starts_with(EXACT)).unwrap();
    assert!(
        line.contains("exact (emcc 6.0.5 from scripts/setup, host Python 3.15)"),
        "{list}"
    );
    let out = tempfile::tempdir().unwrap();
    let output = emwheel_exact()
        .arg("build-recipes")
        .args(C_RECIPES)
        .arg("--recipe-dir")
        .arg(repo().join("recipes"))
        .arg("-o")
        .arg(out.path())
        .output()
        .unwrap();
    let built = stdout(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.to_lowercase().contains("warning"),
        "a strict build warned:\n{stderr}"
    );
    let wheels: Vec<&str> = built.lines().filter(|l| l.ends_with(".whl")).collect();
    assert_eq!(wheels.len(), C_RECIPES.len(), "{built}");
    for wheel in &wheels {
        assert!(wheel.contains("pyemscripten_2026_5_wasm32"), "{wheel}");
    }
    let recipes: Vec<PathBuf> = C_RECIPES
        .iter()
        .map(|name| repo().join("recipes").join(name))
        .collect();
    let mut command = emwheel_exact();
    command.arg("test");
    let stderr = crate::common::assert_pass_with(command, &recipes, out.path());
    assert!(stderr.contains(&format!("in Pyodide {EXACT}")), "{stderr}");
}

#[test]
fn toolchain_list_shows_both_setup_toolchains() {
    let list = stdout(
        &emwheel_exact()
            .args(["toolchain", "list"])
            .output()
            .unwrap(),
    );
    let lines: Vec<&str> = list.lines().collect();
    assert!(
        lines[0].starts_with("3.1.69\tclang 19.1.7\tbinaryen 120\tfrom scripts/setup"),
        "{list}"
    );
    assert!(
        lines[1].starts_with("6.0.5\tclang 21.1.8\tbinaryen 131\tfrom scripts/setup"),
        "{list}"
    );
}

#[test]
fn pyodide_314_0_8_builds_on_python_3_14_and_says_which_emcc_is_missing() {
    ensure_exact_target("314.0.8");
    let list = stdout(&emwheel_exact().args(["target", "list"]).output().unwrap());
    let line = list.lines().find(|l| l.starts_with("314.0.8\t")).unwrap();
    assert!(line.contains("host Python 3.14\t"), "{list}");
    assert!(
        line.contains(
            "not exact: no emcc 5.0.3 (found: 3.1.69, 6.0.5; `emwheel toolchain install 5.0.3`)"
        ),
        "{list}"
    );
    let out = tempfile::tempdir().unwrap();
    let build = |allow: &str| {
        emwheel_exact()
            .arg("build")
            .arg(repo().join("recipes/markupsafe"))
            .arg("-o")
            .arg(out.path())
            .args(["--target", "314.0.8"])
            .env("EMWHEEL_ALLOW_EMCC_MISMATCH", allow)
            .output()
            .unwrap()
    };
    let stderr = assert_user_error(&build("0"));
    assert!(
        stderr.contains("does not match the target's Emscripten 5.0.3 (installed toolchains: 3.1.69 (scripts/setup), 6.0.5 (scripts/setup))"),
        "{stderr}"
    );
    assert!(
        stderr.contains("emwheel toolchain install 5.0.3"),
        "{stderr}"
    );
    let output = build("1");
    let wheel = PathBuf::from(stdout(&output).trim());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("cross-version"), "{stderr}");
    assert!(wheel
        .to_string_lossy()
        .contains("cp314-cp314-pyemscripten_2026_0_wasm32"));
    // The wheel names its target: no `--target` although the default is 315.
    let output = emwheel_exact().arg("test").arg(&wheel).output().unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in Pyodide 314.0.8"), "{stderr}");
    let output = emwheel_exact()
        .arg("test")
        .arg(&wheel)
        .args(["--target", EXACT])
        .output()
        .unwrap();
    let stderr = assert_user_error(&output);
    assert!(
        stderr.contains("`--target 315.0.0-alpha.2` is `cp315-pyemscripten_2026_5_wasm32`, but the input is for `cp314-pyemscripten_2026_0_wasm32`"),
        "{stderr}"
    );
}

#[test]
fn lock_merge_uses_the_target_its_lockfiles_name() {
    ensure_exact_target("0.29.5");
    let lock = exact_home().join("targets/0.29.5/runtime/pyodide-lock.json");
    let dir = tempfile::tempdir().unwrap();
    let shards: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let shard = dir.path().join(format!("{i}.json"));
            std::fs::copy(&lock, &shard).unwrap();
            shard
        })
        .collect();
    let merged = dir.path().join("merged.json");
    let merge = |extra: &[&str]| {
        emwheel_exact()
            .args(["lock", "merge"])
            .args(&shards)
            .arg("-o")
            .arg(&merged)
            .args(extra)
            .output()
            .unwrap()
    };
    assert_success(&merge(&[]));
    let text = std::fs::read_to_string(&merged).unwrap();
    assert!(
        text.contains("\"platform\": \"emscripten_4_0_9\""),
        "{text}"
    );
    let stderr = assert_user_error(&merge(&["--target", EXACT]));
    assert!(
        stderr.contains("is `cp315-pyemscripten_2026_5_wasm32`, but the input is for `cp313-pyemscripten_2025_0_wasm32`"),
        "{stderr}"
    );
}

/// A home with a fake toolchain `toolchains/<dir_version>` whose emcc says `emcc_version`
/// and whose version file holds `file_version`.
fn fake_toolchain(home: &Path, dir_version: &str, emcc_version: &str, file_version: &str) {
    let bin = home.join("toolchains").join(dir_version).join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\necho 'emcc (Emscripten gcc/clang-like replacement + linker emulating GNU ld) {emcc_version} (fake)'\n"
    );
    write_executable(&bin.join("emcc"), &script);
    std::fs::write(bin.join("emscripten-version.txt"), file_version).unwrap();
}

/// Writes a script with mode 755.
fn write_executable(path: &Path, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn doctor(home: &Path) -> String {
    let output = emwheel()
        .env("EMWHEEL_HOME", home)
        .env_remove("EMSDK")
        .arg("doctor")
        .output()
        .unwrap();
    assert_user_error(&output)
}

#[test]
fn doctor_names_the_file_of_a_damaged_toolchain() {
    let home = tempfile::tempdir().unwrap();
    fake_toolchain(home.path(), "7.0.0", "7.0.1", "7.0.1\n");
    let stderr = doctor(home.path());
    let file = home
        .path()
        .join("toolchains/7.0.0/bin/emscripten-version.txt");
    assert!(
        stderr.contains(&format!(
            "damaged toolchain: `{}` says 7.0.1, but the toolchain is installed as 7.0.0",
            file.display()
        )),
        "{stderr}"
    );
    fake_toolchain(home.path(), "7.0.0", "7.0.0", "\"7.0.x\"\n");
    let stderr = doctor(home.path());
    assert!(
        stderr.contains(&format!(
            "`{}` holds `\"7.0.x\"`, not an Emscripten version",
            file.display()
        )),
        "{stderr}"
    );
    // A launcher whose emcc is gone, as `scripts/setup` writes them.
    let bin = home.path().join("toolchains/7.0.0/bin");
    let gone = home.path().join("sid/usr/share/emscripten/emcc");
    std::fs::write(
        bin.join("emcc"),
        format!("#!/bin/sh\nexec \"{}\" \"$@\"\n", gone.display()),
    )
    .unwrap();
    let stderr = doctor(home.path());
    assert!(
        stderr.contains(&format!("`{}` is missing", gone.display())),
        "{stderr}"
    );
}

/// A git repository laid out like emsdk: an `emsdk` script whose `install VERSION` writes
/// `upstream/emscripten/emcc` (reporting VERSION) with its version file, and whose `activate`
/// writes `.emscripten`; every call is appended to `calls.log` beside the repository.
fn fake_emsdk_repository(dir: &Path) -> PathBuf {
    let repo = dir.join("emsdk.git");
    std::fs::create_dir_all(&repo).unwrap();
    let log = dir.join("calls.log");
    let script = format!(
        r#"#!/bin/sh
set -e
echo "$*" >> '{log}'
case "$1" in
install)
  mkdir -p upstream/emscripten upstream/bin
  printf '#!/bin/sh\necho "emcc (Emscripten gcc/clang-like replacement + linker emulating GNU ld) %s (fake)"\n' "$2" > upstream/emscripten/emcc
  chmod +x upstream/emscripten/emcc
  echo "$2" > upstream/emscripten/emscripten-version.txt
  ;;
activate)
  echo "LLVM_ROOT = emsdk_path + '/upstream/bin'" > .emscripten
  ;;
esac
"#,
        log = log.display()
    );
    write_executable(&repo.join("emsdk"), &script);
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert_success(&output);
    };
    git(&["init", "-q"]);
    git(&["add", "emsdk"]);
    git(&["commit", "-q", "-m", "emsdk"]);
    repo
}

#[test]
fn toolchain_install_clones_emsdk_once_under_a_lock() {
    let dir = tempfile::tempdir().unwrap();
    let repository = fake_emsdk_repository(dir.path());
    let home = dir.path().join("home");
    let install = || {
        emwheel()
            .env("EMWHEEL_HOME", &home)
            .env_remove("EMSDK")
            .env(
                "EMWHEEL_EMSDK_REPOSITORY",
                format!("file://{}", repository.display()),
            )
            .args(["toolchain", "install", "9.8.7"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (install(), install());
    assert_success(&first.wait_with_output().unwrap());
    assert_success(&second.wait_with_output().unwrap());
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    assert_eq!(
        calls, "install 9.8.7\nactivate 9.8.7\n",
        "one install, then found"
    );
    let list = stdout(
        &emwheel()
            .env("EMWHEEL_HOME", &home)
            .env_remove("EMSDK")
            .args(["toolchain", "list"])
            .output()
            .unwrap(),
    );
    let emcc_dir = home.join("emsdk/9.8.7/upstream/emscripten");
    assert!(
        list.contains(&format!(
            "9.8.7\tclang unknown\tbinaryen unknown\tfrom emwheel toolchain install\t{}",
            emcc_dir.display()
        )),
        "{list}"
    );
    let left: Vec<_> = std::fs::read_dir(home.join("emsdk"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".staging"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
