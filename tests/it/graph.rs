//! `build-recipes` with real builds: the dependency closure, the content-hash cache,
//! failures that skip their dependents but not the others, and recipe trees holding recipes
//! that do not load.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use crate::common::{assert_success, assert_user_error, emwheel, ensure_target, repo};

/// Copies recipe directories (relative to the repository) into a temp recipe dir.
pub(crate) fn recipe_dir(recipes: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for recipe in recipes {
        let from = repo().join(recipe);
        let to = dir.path().join(from.file_name().unwrap());
        copy_dir(&from, &to);
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `emwheel build-recipes <args> --recipe-dir <recipes> -o <out> --allow-emcc-mismatch`.
pub(crate) fn build_recipes_command(recipes: &Path, out: &Path, args: &[&str]) -> Command {
    ensure_target();
    let mut command = emwheel();
    command
        .arg("build-recipes")
        .args(args)
        .arg("--recipe-dir")
        .arg(recipes)
        .arg("-o")
        .arg(out)
        .arg("--allow-emcc-mismatch");
    command
}

/// Runs [`build_recipes_command`].
pub(crate) fn build_recipes(recipes: &Path, out: &Path, args: &[&str]) -> Output {
    build_recipes_command(recipes, out, args).output().unwrap()
}

/// Replaces `from` with `to` in a recipe's `recipe.toml`.
fn edit(recipe: &Path, from: &str, to: &str) {
    let file = recipe.join("recipe.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(from), "{from} not in {}", file.display());
    std::fs::write(file, text.replace(from, to)).unwrap();
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The wheel paths printed on stdout, and their modification times.
fn wheels(output: &Output) -> Vec<(PathBuf, SystemTime)> {
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    stdout
        .lines()
        .map(PathBuf::from)
        .map(|path| {
            let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
            (path, modified)
        })
        .collect()
}

/// The summary row of `package`, e.g. `six  cached  0.0s`.
fn row<'a>(stderr: &'a str, package: &str) -> &'a str {
    let prefix = format!("{package} ");
    let found = stderr.lines().rev().find(|line| line.starts_with(&prefix));
    found.unwrap_or_else(|| panic!("no summary row for {package} in\n{stderr}"))
}

#[test]
fn second_run_is_cached_and_a_changed_recipe_rebuilds_alone() {
    let recipes = recipe_dir(&[
        "recipes/markupsafe",
        "recipes/six",
        "recipes/attrs",
        "tests/fixtures/needs-six",
    ]);
    let out = tempfile::tempdir().unwrap();
    // Selecting `needs-six` alone brings in `six`, its run dependency.
    let first = build_recipes(recipes.path(), out.path(), &["needs-six"]);
    assert_success(&first);
    assert!(
        stderr(&first).contains("2 packages: 2 built, 0 cached"),
        "{}",
        stderr(&first)
    );

    let all = build_recipes(recipes.path(), out.path(), &["*", "-j", "2"]);
    assert_success(&all);
    let text = stderr(&all);
    assert!(text.contains("4 packages: 2 built, 2 cached"), "{text}");
    assert!(row(&text, "six").contains("cached"), "{text}");
    let built = wheels(&all);
    assert_eq!(built.len(), 4);
    let logs = out.path().join(".emwheel/logs");
    assert!(logs.join("markupsafe.log").is_file(), "no kept log");
    assert!(
        logs.join("markupsafe.compiler.log").is_file(),
        "no kept compiler log"
    );

    let again = build_recipes(recipes.path(), out.path(), &["*"]);
    assert_success(&again);
    assert!(
        stderr(&again).contains("0 built, 4 cached"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        wheels(&again),
        built,
        "a cached run must not rewrite a wheel"
    );

    edit(
        &recipes.path().join("six"),
        "[source]",
        "# touched\n[source]",
    );
    let touched = build_recipes(recipes.path(), out.path(), &["*"]);
    assert_success(&touched);
    let text = stderr(&touched);
    assert!(text.contains("1 built, 3 cached"), "{text}");
    assert!(row(&text, "six").contains("built") && row(&text, "six").contains("recipe changed"));
}

#[test]
fn a_failure_skips_its_dependents_and_the_others_build() {
    let recipes = recipe_dir(&["recipes/six", "tests/fixtures/needs-six"]);
    let broken = repo().join("tests/fixtures/broken-c");
    let broken_recipe = format!(
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\n[source]\npath = \"{}\"\n",
        broken.display()
    );
    std::fs::create_dir(recipes.path().join("broken")).unwrap();
    std::fs::write(recipes.path().join("broken/recipe.toml"), broken_recipe).unwrap();
    edit(
        &recipes.path().join("needs-six"),
        "run = [\"six\"]",
        "host = [\"broken\"]",
    );

    let out = tempfile::tempdir().unwrap();
    let output = build_recipes(
        recipes.path(),
        out.path(),
        &["*", "--keep-going", "-j", "1"],
    );
    let text = assert_user_error(&output);
    assert!(text.contains("1 of the selected packages failed"), "{text}");
    assert!(
        text.contains("undeclared_function_here"),
        "the failure's error is shown:\n{text}"
    );
    assert!(row(&text, "six").contains("built"), "{text}");
    assert!(row(&text, "needs-six").contains("skipped"), "{text}");
    assert!(
        row(&text, "needs-six").contains("dependency `broken` failed"),
        "{text}"
    );
    let failed = row(&text, "broken");
    assert!(
        failed.contains("failed") && failed.contains("build dir `"),
        "{failed}"
    );
    let log = out.path().join(".emwheel/logs/broken.log");
    assert!(failed.contains(&log.display().to_string()), "{failed}");
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("undeclared_function_here"));
    assert!(out.path().join("six-1.17.0-py2.py3-none-any.whl").is_file());
}

#[test]
fn an_unknown_dependency_is_located_in_its_recipe() {
    let recipes = recipe_dir(&["recipes/six", "tests/fixtures/needs-six"]);
    edit(
        &recipes.path().join("needs-six"),
        "run = [\"six\"]",
        "run = [\"sx\"]",
    );
    let out = recipes.path().join("out");
    let output = build_recipes(recipes.path(), &out, &["needs-six"]);
    let text = assert_user_error(&output);
    assert!(text.contains("no recipe provides `sx`"), "{text}");
    assert!(text.contains("needs-six/recipe.toml:12:8"), "{text}");
    assert!(text.contains("did you mean `six`?"), "{text}");
    assert!(!out.exists(), "nothing may be built");
}

#[test]
fn install_writes_a_lockfile_listing_every_wheel() {
    let recipes = recipe_dir(&["recipes/six", "tests/fixtures/needs-six"]);
    let out = tempfile::tempdir().unwrap();
    let output = build_recipes(recipes.path(), out.path(), &["*", "--install"]);
    assert_success(&output);
    let text = std::fs::read_to_string(out.path().join("pyodide-lock.json")).unwrap();
    let lock: serde_json::Value = serde_json::from_str(&text).unwrap();
    let packages = &lock["packages"];
    assert_eq!(
        packages["six"]["file_name"],
        "six-1.17.0-py2.py3-none-any.whl"
    );
    assert_eq!(packages["needs-six"]["depends"], serde_json::json!(["six"]));
    let wheel = out
        .path()
        .join(packages["needs-six"]["file_name"].as_str().unwrap());
    let digest = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
        std::fs::read(wheel).unwrap(),
    ));
    assert_eq!(packages["needs-six"]["sha256"], hex::encode(digest));
}

/// Adds `<name>/recipe.toml` with `text` to a recipe dir.
fn write_recipe(recipes: &Path, name: &str, text: &str) {
    std::fs::create_dir(recipes.join(name)).unwrap();
    std::fs::write(recipes.join(name).join("recipe.toml"), text).unwrap();
}

/// Two recipes that do not load: `syntax/` (not TOML) and `vars/` (an unknown variable in
/// `build.cflags`, line 9 column 10).
fn add_broken_recipes(recipes: &Path) {
    write_recipe(recipes, "syntax", "[package\nname = \"syntax\"\n");
    let vars = format!(
        "[package]\nname = \"vars\"\nversion = \"1.0\"\n\n[source]\npypi = \"vars==1.0\"\nsha256 = \"{}\"\n[build]\ncflags = \"$(NO_SUCH_VARIABLE)\"\n",
        "0".repeat(64)
    );
    write_recipe(recipes, "vars", &vars);
}

/// The `--json` document on stdout.
fn document(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn recipes_that_do_not_load_are_warnings_when_nothing_needs_them() {
    let recipes = tempfile::tempdir().unwrap();
    // A directory named otherwise: finding `six` reads every recipe, the broken ones too.
    copy_dir(
        &repo().join("recipes/six"),
        &recipes.path().join("python-six"),
    );
    add_broken_recipes(recipes.path());
    let out = tempfile::tempdir().unwrap();
    for (selection, status) in [("six", "built"), ("*", "cached")] {
        let output = build_recipes(recipes.path(), out.path(), &[selection, "--json"]);
        assert_success(&output);
        let text = stderr(&output);
        assert!(
            text.contains("warning: 2 recipes do not load and were skipped"),
            "{text}"
        );
        let json = document(&output);
        assert_eq!(json["status"], "ok");
        let packages = json["packages"].as_array().unwrap();
        assert_eq!(packages.len(), 1, "{json}");
        assert_eq!(
            (&packages[0]["name"], &packages[0]["status"]),
            (&"six".into(), &status.into())
        );
        let skipped = json["skipped_recipes"].as_array().unwrap();
        let names: Vec<&str> = skipped
            .iter()
            .map(|s| s["recipe"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["syntax", "vars"], "{json}");
        let errors: Vec<&str> = skipped
            .iter()
            .map(|s| s["error"].as_str().unwrap())
            .collect();
        assert!(
            errors[0].contains("syntax/recipe.toml:1:9: "),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].contains("vars/recipe.toml:9:10: unknown variable `$(NO_SUCH_VARIABLE)`"),
            "{}",
            errors[1]
        );
    }
}

#[test]
fn a_needed_recipe_that_does_not_load_fails_with_its_dependents_and_the_others_build() {
    let recipes = recipe_dir(&["recipes/six", "tests/fixtures/needs-six"]);
    add_broken_recipes(recipes.path());
    edit(
        &recipes.path().join("needs-six"),
        "run = [\"six\"]",
        "host = [\"vars\"]\nrun = [\"six\"]",
    );
    let out = tempfile::tempdir().unwrap();
    // One job and no --keep-going: a recipe that does not load is known before the run and
    // does not stop it.
    let output = build_recipes(
        recipes.path(),
        out.path(),
        &["needs-six", "-j", "1", "--json"],
    );
    let text = assert_user_error(&output);
    assert!(
        text.contains("vars/recipe.toml:9:10") && text.contains("unknown variable"),
        "the error is rendered with its place:\n{text}"
    );
    assert!(
        row(&text, "vars").contains("its recipe does not load"),
        "{text}"
    );
    assert!(
        row(&text, "needs-six").contains("dependency `vars` failed"),
        "{text}"
    );
    assert!(row(&text, "six").contains("built"), "{text}");
    assert!(
        !text.contains("nothing selected needs"),
        "`syntax/` was not read:\n{text}"
    );
    let json = document(&output);
    assert_eq!(json["status"], "failed");
    let status = |name: &str| {
        let packages = json["packages"].as_array().unwrap();
        let package = packages.iter().find(|p| p["name"] == name).unwrap();
        (package["status"].clone(), package["error"].clone())
    };
    let (vars, error) = status("vars");
    assert_eq!(vars, "failed");
    assert!(error
        .as_str()
        .unwrap()
        .contains("vars/recipe.toml:9:10: unknown variable"));
    assert_eq!(status("needs-six").0, "skipped");
    assert_eq!(status("six").0, "built");
    assert_eq!(json["skipped_recipes"], serde_json::json!([]));
    assert!(out.path().join("six-1.17.0-py2.py3-none-any.whl").is_file());
}
