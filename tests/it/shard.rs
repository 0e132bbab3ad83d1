//! CI sharding: `build-recipes --shard i/n` jobs whose lockfiles `lock merge` joins into the
//! lockfile of one unsharded build, and the inputs both refuse.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{assert_success, assert_user_error, emwheel, ensure_version};
use crate::graph::{build_recipes, recipe_dir};

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `emwheel lock merge <lockfiles> -o <output>`.
fn merge(lockfiles: &[PathBuf], output: &Path) -> std::process::Output {
    let mut command = emwheel();
    command
        .args(["lock", "merge"])
        .args(lockfiles)
        .arg("-o")
        .arg(output);
    command.output().unwrap()
}

#[test]
fn three_shards_merge_into_the_unsharded_lockfile() {
    let recipes = recipe_dir(&[
        "recipes/six",
        "recipes/markupsafe",
        "recipes/attrs",
        "tests/fixtures/needs-six",
    ]);
    let whole = tempfile::tempdir().unwrap();
    assert_success(&build_recipes(
        recipes.path(),
        whole.path(),
        &["*", "--install"],
    ));
    let shards = tempfile::tempdir().unwrap();
    let mut lockfiles = Vec::new();
    let mut built = 0;
    for index in 1..=3 {
        let out = shards.path().join(index.to_string());
        let spec = format!("{index}/3");
        let output = build_recipes(recipes.path(), &out, &["*", "--install", "--shard", &spec]);
        assert_success(&output);
        let wheels = String::from_utf8_lossy(&output.stdout).lines().count();
        assert!((1..=2).contains(&wheels), "shard {spec} built {wheels}");
        built += wheels;
        lockfiles.push(out.join("pyodide-lock.json"));
    }
    assert_eq!(built, 4, "every package in exactly one shard");
    let merged = shards.path().join("pyodide-lock.json");
    assert_success(&merge(&lockfiles, &merged));
    let (merged, whole) = (
        read_json(&merged),
        read_json(&whole.path().join("pyodide-lock.json")),
    );
    assert_eq!(merged["info"], whole["info"]);
    for name in ["six", "markupsafe", "attrs", "needs-six"] {
        assert_eq!(merged["packages"][name], whole["packages"][name], "{name}");
    }
    assert_eq!(merged["packages"], whole["packages"]);
}

#[test]
fn bad_shards_other_targets_and_conflicts_are_refused() {
    let recipes = recipe_dir(&["recipes/six"]);
    let out = tempfile::tempdir().unwrap();
    let output = build_recipes(recipes.path(), out.path(), &["*", "--shard", "4/3"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`4/3` is not a shard"), "{stderr}");
    assert!(stderr.contains("--shard 2/3"), "{stderr}");
    assert_success(&build_recipes(recipes.path(), out.path(), &["*"]));
    ensure_version("0.27.7");
    let lock = |name: &str, extra: &[&str]| {
        let file = out.path().join(name);
        let mut command = emwheel();
        command
            .arg("lock")
            .arg(out.path())
            .arg("-o")
            .arg(&file)
            .args(extra);
        assert_success(&command.output().unwrap());
        file
    };
    let (new, old) = (
        lock("new.json", &[]),
        lock("old.json", &["--target", "0.27.7"]),
    );
    let stderr = assert_user_error(&merge(&[new.clone(), old], &out.path().join("m.json")));
    assert!(
        stderr.contains("lockfiles of different targets"),
        "{stderr}"
    );
    assert!(
        stderr.contains("new.json") && stderr.contains("old.json"),
        "{stderr}"
    );
    let conflicting = out.path().join("conflicting.json");
    for (file, sha256) in [(&new, "aa"), (&conflicting, "bb")] {
        let mut json = read_json(&new);
        json["packages"]["six"]["sha256"] = Value::String(sha256.repeat(32));
        std::fs::write(file, json.to_string()).unwrap();
    }
    let stderr = assert_user_error(&merge(&[new, conflicting], &out.path().join("m.json")));
    assert!(
        stderr.contains("the package `six` differently (`sha256`)"),
        "{stderr}"
    );
    assert!(stderr.contains("conflicting.json"), "{stderr}");
    assert!(!out.path().join("m.json").exists(), "nothing written");
}
