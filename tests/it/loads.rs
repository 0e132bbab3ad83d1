//! Load times in Pyodide, with sources and with bytecode, and lighter wheels.

use crate::common::{assert_success, emwheel, entries, repo};

#[test]
fn report_measures_load_times_with_and_without_bytecode() {
    let out = tempfile::tempdir().unwrap();
    let wheel = crate::common::build(&repo().join("recipes/attrs"), out.path());
    let output = emwheel()
        .args(["report", "--measure-load", "--runs", "3", "--json"])
        .arg(&wheel)
        .output()
        .unwrap();
    assert_success(&output);
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["wheels"].as_array().unwrap().len(), 1);
    let loads = document["loads"].as_array().unwrap();
    assert_eq!(loads.len(), 1, "{document}");
    let load = &loads[0];
    assert_eq!(load["wheel"], wheel.display().to_string());
    assert_eq!(load["runs"], 3);
    assert_eq!(load["imports"], serde_json::json!(["attr", "attrs"]));
    let source = load["source_seconds"].as_f64().unwrap();
    let bytecode = load["bytecode_seconds"].as_f64().unwrap();
    assert!(source > 0.0 && bytecode > 0.0, "{load}");
    assert!((load["ratio"].as_f64().unwrap() - bytecode / source).abs() < 1e-9);
    assert!(wheel.exists(), "the measured wheel is left as it was");
}

#[test]
fn py_compile_keeps_the_lockfile_beside_the_wheels_valid() {
    let out = tempfile::tempdir().unwrap();
    crate::common::build(&repo().join("recipes/six"), out.path());
    for command in ["lock", "py-compile"] {
        assert_success(&emwheel().arg(command).arg(out.path()).output().unwrap());
    }
    let lock = out.path().join("pyodide-lock.json");
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lock).unwrap()).unwrap();
    let six = &lock["packages"]["six"];
    let compiled = out.path().join("six-1.17.0-cp313-none-any.whl");
    assert_eq!(six["file_name"], "six-1.17.0-cp313-none-any.whl");
    let bytes = std::fs::read(&compiled).unwrap();
    let digest = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&bytes));
    assert_eq!(six["sha256"], hex::encode(digest));
}

#[test]
fn stripped_markupsafe_loses_sources_and_stubs_and_still_passes() {
    let (plain, slim) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let recipe = repo().join("recipes/markupsafe");
    let full = crate::common::build(&recipe, plain.path());
    let flags = [
        "--strip-docs",
        "--strip-type-stubs",
        "--strip-sources",
        "--compression-level",
        "9",
    ];
    let stripped = crate::common::build_for(&recipe, slim.path(), &flags);
    let files = entries(&stripped);
    for gone in [".c", ".pyi", "py.typed"] {
        assert!(
            !files.iter().any(|f| f.ends_with(gone)),
            "{gone}: {files:?}"
        );
        assert!(entries(&full).iter().any(|f| f.ends_with(gone)), "{gone}");
    }
    assert!(files.iter().any(|f| f.ends_with(".dist-info/RECORD")));
    let size = |path: &std::path::Path| std::fs::metadata(path).unwrap().len();
    assert!(size(&stripped) < size(&full));
    let output = emwheel()
        .args(["test", "--dist"])
        .arg(slim.path())
        .arg(&recipe)
        .output()
        .unwrap();
    assert_success(&output);
}
