//! Pyodide's recipe format and the tools around it: `meta.yaml` recipes built and tested in
//! Pyodide, `convert`, `new`, scripts sharing one environment, sources found by their hash,
//! and the errors bad input gets.

use std::ffi::OsStr;
use std::path::Path;

use crate::common::{
    assert_pass_in_pyodide, assert_success, assert_user_error, build, build_with, emwheel,
    ensure_target, repo,
};

/// The sdist of six 1.17.0.
const SIX_SHA256: &str = "ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81";

/// A build that must fail; returns stderr after removing the kept build directory.
fn failed_build(path: &Path) -> String {
    ensure_target();
    let out = tempfile::tempdir().unwrap();
    let output = emwheel()
        .arg("build")
        .arg(path)
        .arg("-o")
        .arg(out.path())
        .arg("--allow-emcc-mismatch")
        .output()
        .unwrap();
    let stderr = assert_user_error(&output);
    if let Some(kept) = stderr
        .split("build directory kept at `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
    {
        std::fs::remove_dir_all(kept).unwrap();
    }
    stderr
}

#[test]
fn pyodide_recipes_build_unmodified_and_pass_in_pyodide() {
    let out = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // Pyodide's recipe, with its files.pythonhosted.org URL: unreachable here, so the sdist
    // comes from pip's index, checked against the recipe's sha256, into an empty cache.
    let markupsafe = repo().join("tests/fixtures/markupsafe-meta");
    let cache_arg = [OsStr::new("--source-cache"), cache.path().as_os_str()];
    let (wheel, _) = build_with(&markupsafe, out.path(), &cache_arg);
    assert!(wheel.ends_with("markupsafe-2.1.5-cp313-cp313-pyemscripten_2025_0_wasm32.whl"));
    let sha = "d283d37a890ba4c1ae73ffadf8046435c76e7bc2247bbb63c00bd1a709c6544b";
    assert!(cache
        .path()
        .join(sha)
        .join("MarkupSafe-2.1.5.tar.gz")
        .is_file());
    // build.script's exports reach the flags, the backend and build.post.
    let shared_env = repo().join("tests/fixtures/shared-env");
    build(&shared_env, out.path());
    assert_pass_in_pyodide(&[&markupsafe, &shared_env], out.path());
}

#[test]
fn unreachable_url_is_found_by_name_and_sha256() {
    let recipe = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // Nothing listens on the loopback discard port: curl fails at once.
    let meta = format!(
        "package:\n  name: six\n  version: 1.17.0\nsource:\n  url: http://127.0.0.1:9/six-1.17.0.tar.gz\n  sha256: {SIX_SHA256}\n"
    );
    std::fs::write(recipe.path().join("meta.yaml"), meta).unwrap();
    let out = tempfile::tempdir().unwrap();
    let cache_arg = [OsStr::new("--source-cache"), cache.path().as_os_str()];
    let (_, stderr) = build_with(recipe.path(), out.path(), &cache_arg);
    assert!(
        stderr.contains("cannot be reached; using `six==1.17.0` from pip's index"),
        "{stderr}"
    );
    let cached = cache.path().join(SIX_SHA256).join("six-1.17.0.tar.gz");
    assert!(cached.is_file());
    // Moved to the cache under its own name, it is found there without the index.
    let flat = tempfile::tempdir().unwrap();
    std::fs::rename(&cached, flat.path().join("six-1.17.0.tar.gz")).unwrap();
    let flat_arg = [OsStr::new("--source-cache"), flat.path().as_os_str()];
    let (_, stderr) = build_with(recipe.path(), out.path(), &flat_arg);
    assert!(!stderr.contains("cannot be reached"), "{stderr}");
}

#[test]
fn prebuilt_wheel_url_is_used_as_it_is_with_post() {
    let recipe = tempfile::tempdir().unwrap();
    let wheel_sha = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274";
    let meta = format!(
        "package:\n  name: six\n  version: 1.17.0\nsource:\n  url: http://127.0.0.1:9/six-1.17.0-py2.py3-none-any.whl\n  sha256: {wheel_sha}\nbuild:\n  post: echo from-post > \"$WHEELDIR/six_post.txt\"\n"
    );
    std::fs::write(recipe.path().join("meta.yaml"), meta).unwrap();
    let out = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = [OsStr::new("--source-cache"), cache.path().as_os_str()];
    let (wheel, stderr) = build_with(recipe.path(), out.path(), &cache_arg);
    assert!(
        stderr.contains("using `six==1.17.0` from pip's index"),
        "{stderr}"
    );
    assert!(wheel.ends_with("six-1.17.0-py2.py3-none-any.whl"));
    let zip = std::fs::read(&wheel).unwrap();
    let needle = b"six_post.txt";
    assert!(
        zip.windows(needle.len()).any(|w| w == needle),
        "post's file is in the wheel"
    );
}

#[test]
fn convert_writes_recipe_toml_beside_meta_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let meta = repo().join("tests/fixtures/markupsafe-meta/meta.yaml");
    std::fs::copy(meta, dir.path().join("meta.yaml")).unwrap();
    let output = emwheel().arg("convert").arg(dir.path()).output().unwrap();
    assert_success(&output);
    let written = dir.path().join("recipe.toml");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        written.display().to_string()
    );
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(
        text.starts_with("[package]\nname = \"MarkupSafe\"\nversion = \"2.1.5\"\n"),
        "{text}"
    );
    let again = emwheel().arg("convert").arg(dir.path()).output().unwrap();
    assert!(assert_user_error(&again).contains("already exists"));
    let both = emwheel().arg("build").arg(dir.path()).output().unwrap();
    assert!(assert_user_error(&both).contains("holds both `recipe.toml` and `meta.yaml`"));
}

#[test]
fn new_recipe_builds_and_passes_in_pyodide() {
    let recipes = tempfile::tempdir().unwrap();
    let output = emwheel()
        .args(["new", "six==1.17.0", "--recipe-dir"])
        .arg(recipes.path())
        .output()
        .unwrap();
    assert_success(&output);
    let recipe = recipes.path().join("six");
    let text = std::fs::read_to_string(recipe.join("recipe.toml")).unwrap();
    assert!(
        text.contains(&format!(
            "pypi = \"six==1.17.0\"\nsha256 = \"{SIX_SHA256}\""
        )),
        "{text}"
    );
    assert!(text.contains("[test]\nimports = [\"six\"]"), "{text}");
    let out = tempfile::tempdir().unwrap();
    build(&recipe, out.path());
    assert_pass_in_pyodide(&[&recipe], out.path());
    let again = emwheel()
        .args(["new", "six", "--recipe-dir"])
        .arg(recipes.path())
        .output()
        .unwrap();
    assert!(assert_user_error(&again).contains("already exists"));
}

#[test]
fn patch_that_does_not_apply_names_the_patch_and_the_hunk() {
    let recipe = tempfile::tempdir().unwrap();
    std::fs::create_dir(recipe.path().join("src")).unwrap();
    std::fs::write(recipe.path().join("src/setup.py"), "a\nb\nc\n").unwrap();
    let patch = "--- a/setup.py\n+++ b/setup.py\n@@ -1,3 +1,3 @@\n a\n-x\n+y\n c\n";
    std::fs::write(recipe.path().join("fix.patch"), patch).unwrap();
    let meta = "package:\n  name: patched\n  version: 1.0.0\nsource:\n  path: src\n  patches:\n    - fix.patch\n";
    std::fs::write(recipe.path().join("meta.yaml"), meta).unwrap();
    let stderr = failed_build(recipe.path());
    assert!(stderr.contains("fix.patch` does not apply"), "{stderr}");
    assert!(stderr.contains("Hunk #1 FAILED at 1."), "{stderr}");
    assert!(
        stderr.contains("help: `fix.patch` does not fit this source"),
        "{stderr}"
    );
}

#[test]
fn missing_header_points_at_requirements_host() {
    let stderr = failed_build(&repo().join("tests/fixtures/needs-zlib"));
    assert!(stderr.contains("'zlib.h' file not found"), "{stderr}");
    assert!(
        stderr.contains("help: `zlib.h` is missing: add the library recipe that provides it to `requirements.host`"),
        "{stderr}"
    );
}

#[test]
fn missing_header_names_the_sibling_recipe_that_provides_it() {
    let recipes = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        std::fs::create_dir_all(recipes.path().join(name)).unwrap();
        std::fs::write(recipes.path().join(name).join("recipe.toml"), text).unwrap();
    };
    let fixture = repo().join("tests/fixtures/needs-zlib");
    let package = format!(
        "[package]\nname = \"needs-zlib\"\nversion = \"1\"\n[source]\npath = \"{}\"\n",
        fixture.display()
    );
    write("needs-zlib", package);
    let library = "[package]\nname = \"zlib\"\nversion = \"1\"\n[source]\npath = \".\"\n\
                   [build]\ntype = \"static_library\"\nscript = \"true\"\n";
    write("zlib", library.to_string());
    let stderr = failed_build(&recipes.path().join("needs-zlib"));
    assert!(
        stderr.contains("help: `zlib.h` is missing: add `zlib`, the library recipe that provides it, to `requirements.host`"),
        "{stderr}"
    );
}

#[test]
fn unsupported_meta_yaml_key_is_named_with_its_line() {
    let recipe = tempfile::tempdir().unwrap();
    let meta = format!(
        "package:\n  name: six\n  version: 1.17.0\nsource:\n  url: http://127.0.0.1:9/six-1.17.0.tar.gz\n  sha256: {SIX_SHA256}\nrequirements:\n  build-extras: [numpy]\n"
    );
    std::fs::write(recipe.path().join("meta.yaml"), meta).unwrap();
    let output = emwheel().arg("build").arg(recipe.path()).output().unwrap();
    let stderr = assert_user_error(&output);
    assert!(
        stderr.contains("`requirements.build-extras` is not supported by emwheel"),
        "{stderr}"
    );
    assert!(stderr.contains("meta.yaml:8:3"), "{stderr}");
}
