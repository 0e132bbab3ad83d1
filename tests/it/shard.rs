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
    let output = build_recipes(recipes.path(), whole.path(), &["*", "--install", "--json"]);
    assert_success(&output);
    check_document(
        &serde_json::from_slice(&output.stdout).unwrap(),
        whole.path(),
    );
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
    let mut command = emwheel();
    command.args(["lock", "merge", "--json"]).args(&lockfiles);
    let output = command.arg("-o").arg(&merged).output().unwrap();
    assert_success(&output);
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["lockfile"]["path"], merged.to_str().unwrap());
    assert_eq!(document["lockfile"]["merged"].as_array().unwrap().len(), 3);
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

/// The `--json` document of `build-recipes '*' --install` into `out`: four packages
/// built, each wheel's sha256 matching its file, logs kept, and the lockfile.
fn check_document(document: &Value, out: &Path) {
    assert_eq!(document["status"], "ok", "{document}");
    assert!(document["json_version"].is_number(), "{document}");
    let packages = document["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 4, "{document}");
    for package in packages {
        assert!(
            ["built", "cached"].contains(&package["status"].as_str().unwrap()),
            "{package}"
        );
        assert!(package["seconds"].as_f64().unwrap() >= 0.0, "{package}");
        let wheel = std::fs::read(package["wheel"].as_str().unwrap()).unwrap();
        let digest = <sha2::Sha256 as sha2::Digest>::digest(wheel);
        assert_eq!(package["sha256"], hex::encode(digest), "{package}");
        if package["status"] == "built" {
            assert!(
                Path::new(package["log"].as_str().unwrap()).is_file(),
                "{package}"
            );
        }
    }
    let lockfile = &document["lockfile"];
    assert_eq!(
        lockfile["path"],
        out.join("pyodide-lock.json").to_str().unwrap()
    );
    assert_eq!(lockfile["wheels"], 4);
    assert!(
        lockfile["packages"].as_u64().unwrap() > 4,
        "the target's own too"
    );
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
    let empty = out.path().join("empty");
    let output = build_recipes(
        recipes.path(),
        &empty,
        &["*", "--install", "--shard", "2/2"],
    );
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("shard 2/2 has no packages"), "{stderr}");
    let empty_lock = read_json(&empty.join("pyodide-lock.json"));
    assert!(
        empty_lock["packages"]["six"].is_object(),
        "the target's own"
    );
    ensure_version("0.27.7");
    let lock = |name: &str, extra: &[&str]| {
        let file = out.path().join(name);
        let mut command = emwheel();
        command
            .args(["lock", "--json"])
            .arg(out.path())
            .arg("-o")
            .arg(&file);
        let output = command.args(extra).output().unwrap();
        assert_success(&output);
        let document: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(document["lockfile"]["wheels"], 1, "{document}");
        assert_eq!(document["lockfile"]["path"], file.to_str().unwrap());
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
